"""A Jupyter server extension: every message from a kernel reaches the page at once.

The Jupyter server (jupyter_server, on tornado) leaves Nagle's algorithm on for the websocket
that carries a kernel's messages to the browser, as tornado does by default. With it, a
message written while an earlier one still waits for the browser's acknowledgement is held
back until that acknowledgement arrives, and browsers delay acknowledgements by up to 40 ms.
A dashboard writes exactly that: the kernel's "idle" after a slider's message, then the new
picture. In ``benchmarks/bench_dashboards_browser.py``, the round trip of a drag with nothing
drawn at all (``--drawing floor``: Chromium, the server, the kernel and back) took 66-106 ms
in median per dashboard without this extension, and 46-64 ms with it.

This extension sets ``TCP_NODELAY`` on every kernel websocket, and changes nothing else: the
messages, their order and the protocol are the server's own. It is switched on by the file
``jupyter-config/jupyter_server_config.d/course.json`` in ``<environment>/etc/jupyter/
jupyter_server_config.d/``: a wheel of the course installs it there; ``make env`` and
``python -m course.server install`` (after an editable install, ``pip install -e .``, which
leaves such files out) write it. Check with

    jupyter server extension list          # "course.server enabled ... OK"

and switch it off with ``jupyter server extension disable --sys-prefix course.server``. Without
it the course works as before, its dashboards a little further behind the mouse.

For a lecture (a server started with ``COURSE_LECTURE=1``, as ``make lecture`` does) it also

- adds the deck's helper (``course/deck.js``) to JupyterLab's page: the lesson runs itself once
  as it opens, a run never leaves the deck on a notes cell (a blank screen), and the deck tells
  the presenter view where it is (a BroadcastChannel, ``course-deck``, within the browser);
- serves the presenter view, ``/course/presenter/<notebook path>``: the notes of the slide on
  screen, the slide's number and the next slide's title, following the live deck. Open it in a
  second window of the same browser, on the lecturer's screen, never on the projector.
"""
from __future__ import annotations

import html
import json
import os
import sys
from pathlib import Path

__all__ = ["prompt_connection_class", "install", "CONFIG", "CONFIG_NAME", "DECK_SCRIPT", "presenter_page"]

#: The deck's helper, added to JupyterLab's page during a lecture.
DECK_SCRIPT = Path(__file__).with_name("deck.js")
LECTURE_ENV = "COURSE_LECTURE"

#: What switches the extension on: the Jupyter server's configuration, as a JSON file in
#: ``etc/jupyter/jupyter_server_config.d`` (the same as ``jupyter-config/.../course.json``).
CONFIG = {"ServerApp": {"jpserver_extensions": {"course.server": True}}}
CONFIG_NAME = "course.json"


def _jupyter_server_extension_points():
    return [{"module": "course.server"}]


def prompt_connection_class(base):
    """A subclass of the kernel websocket connection class ``base`` whose socket sends each
    message as soon as it is written (``TCP_NODELAY``)."""

    class PromptConnection(base):
        """``base``, with Nagle's algorithm off on the websocket (see ``course.server``)."""

        def connect(self):
            self.websocket_handler.set_nodelay(True)
            return super().connect()

    PromptConnection.__name__ = PromptConnection.__qualname__ = f"Prompt{base.__name__}"
    return PromptConnection


def install(prefix: str | Path | None = None) -> Path:
    """Write ``CONFIG`` to ``<prefix>/etc/jupyter/jupyter_server_config.d/course.json``
    (``prefix``: this Python's environment, ``sys.prefix``, by default); returns the path."""
    path = Path(sys.prefix if prefix is None else prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / CONFIG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(CONFIG, indent=2) + "\n")
    return path


def presenter_slides(nb) -> list[dict]:
    """The deck of ``nb`` (a notebook as a dict) for the presenter view: each slide's first cell,
    title and notes as HTML."""
    from course import lecture

    try:
        from nbconvert.filters.markdown import markdown2html
    except ImportError:  # pragma: no cover - nbconvert is a dependency of the course
        def markdown2html(text):
            return f"<pre>{html.escape(text)}</pre>"
    deck = []
    for s in lecture.slides(nb):
        notes = [lecture.NBVAL_MARK.sub("", lecture._source(nb["cells"][i])).strip() for i in s.notes]
        deck.append({"start": s.start, "title": s.title.lstrip("#").strip() or f"cell {s.start}",
                     "notes": "".join(markdown2html(n) for n in notes)})
    return deck


PRESENTER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Presenter view: {name}</title>
<style>
 body {{ font: 20px/1.45 system-ui, sans-serif; margin: 1.5em 2em; color: #222; }}
 header {{ color: #555; font-size: 16px; display: flex; justify-content: space-between; }}
 h1 {{ font-size: 26px; margin: 0.4em 0; }}
 #notes p {{ margin: 0.5em 0; }}
 #next {{ color: #555; font-size: 16px; border-top: 1px solid #ccc; margin-top: 1.5em; padding-top: 0.5em; }}
 #status {{ font-size: 14px; color: #a33; }}
</style></head>
<body>
<header><span>Presenter view: {name}</span><span id="number"></span></header>
<div id="status">Waiting for the deck: open {name} presenting (make lecture) in this browser.</div>
<h1 id="title"></h1>
<div id="notes"></div>
<div id="next"></div>
<script>
const PATH = {path};
const DECK = {deck};
const channel = new BroadcastChannel("course-deck");
function slideOf(active) {{
  let found = 0;
  DECK.forEach((s, k) => {{ if (s.start <= active) found = k; }});
  return found;
}}
function show(message) {{
  if (!message || message.path !== PATH || typeof message.active !== "number") return;
  const k = slideOf(message.active), s = DECK[k];
  document.body.dataset.slide = String(s.start);
  document.getElementById("status").textContent = message.presenting ? "" : "The deck is not presenting.";
  document.getElementById("number").textContent = `slide ${{k + 1}} of ${{DECK.length}}`;
  document.getElementById("title").textContent = s.title;
  document.getElementById("notes").innerHTML = s.notes;
  document.getElementById("next").textContent = k + 1 < DECK.length ? `Next: ${{DECK[k + 1].title}}` : "The last slide.";
}}
channel.onmessage = (event) => show(event.data);
channel.postMessage({{hello: true}});
</script>
</body></html>
"""


def presenter_page(path: str, nb) -> str:
    """The presenter view of the notebook ``nb`` found at ``path`` (relative to the server's root)."""
    as_json = lambda value: json.dumps(value).replace("</", "<\\/")  # noqa: E731 - safe inside <script>
    return PRESENTER_PAGE.format(name=html.escape(Path(path).name), path=as_json(path),
                                 deck=as_json(presenter_slides(nb)))


def _handlers(serverapp):
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.utils import ensure_async, url_path_join
    from tornado import web

    class PresenterHandler(JupyterHandler):
        @web.authenticated
        async def get(self, path):
            try:
                model = await ensure_async(self.contents_manager.get(path, content=True, type="notebook"))
            except web.HTTPError:
                raise web.HTTPError(404, f"no notebook at {path}") from None
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(presenter_page(path, json.loads(json.dumps(model["content"]))))

    base = serverapp.web_app.settings.get("base_url", "/")
    return [(url_path_join(base, r"/course/presenter/(.+\.ipynb)"), PresenterHandler)]


def _deck_transform(base_url: str):
    """A tornado output transform that adds the deck's helper to JupyterLab's page."""
    from tornado.web import OutputTransform

    script = f"<script>{DECK_SCRIPT.read_text(encoding='utf-8')}</script>".encode()
    lab = (base_url.rstrip("/") + "/lab").encode()

    class DeckScript(OutputTransform):
        def __init__(self, request):
            self._page = request.path.encode().startswith(lab) and request.method == "GET"
            super().__init__(request)

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            self._page = self._page and status_code == 200 and headers.get("Content-Type", "").startswith("text/html")
            if self._page:
                chunk = chunk.replace(b"</body>", script + b"</body>", 1)
                if finishing:
                    headers["Content-Length"] = str(len(chunk))
                else:
                    headers.pop("Content-Length", None)
            return status_code, headers, chunk

        def transform_chunk(self, chunk, finishing):
            return chunk

    return DeckScript


def _load_jupyter_server_extension(serverapp) -> None:
    """Wrap the server's kernel websocket connection class (whichever is configured); during a
    lecture, add the deck's helper and the presenter view."""
    if os.environ.get(LECTURE_ENV) == "1":
        serverapp.web_app.add_handlers(".*$", _handlers(serverapp))
        serverapp.web_app.add_transform(_deck_transform(serverapp.web_app.settings.get("base_url", "/")))
        serverapp.log.info("course.server: lecture mode, presenter view at /course/presenter/<notebook>")
    settings = serverapp.web_app.settings
    base = settings.get("kernel_websocket_connection_class")
    if base is None:
        from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

        base = ZMQChannelsWebsocketConnection
    if getattr(base, "_course_prompt", False):
        return
    prompt = prompt_connection_class(base)
    prompt._course_prompt = True
    settings["kernel_websocket_connection_class"] = prompt
    serverapp.log.info("course.server: kernel websockets send each message at once (TCP_NODELAY)")


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course.server", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["install"], help="install: switch the extension on in this environment")
    parser.add_argument("--prefix", help=f"the environment to switch it on in (default: {sys.prefix})")
    args = parser.parse_args(argv)
    print(f"wrote {install(args.prefix)}; JupyterLab servers started from now on load course.server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
