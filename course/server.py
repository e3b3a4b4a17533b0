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
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["prompt_connection_class", "install", "CONFIG", "CONFIG_NAME"]

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


def _load_jupyter_server_extension(serverapp) -> None:
    """Wrap the server's kernel websocket connection class (whichever is configured)."""
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
