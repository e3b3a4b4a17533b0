"""Driving JupyterLab in headless Chromium, as a learner does: open, run all, look, move a control.

Used by the browser tests (``pytest -m browser``). The server runs on 127.0.0.1 with a token, in
a temporary HOME and a temporary copy of the notebooks, so the repository is never modified.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REDRAW_LIMIT_S = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    """A running JupyterLab server: ``url(path)`` gives an address with the token."""

    process: subprocess.Popen
    port: int
    token: str
    root: Path
    log: Path

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def stop(self) -> None:
        try:
            for kernel in self.api("kernels"):
                self.api(f"kernels/{kernel['id']}", method="DELETE")
        except Exception:  # noqa: BLE001 - the server may already be gone
            pass
        try:
            self.api("shutdown", method="POST")
            self.process.wait(timeout=15)
        except Exception:  # noqa: BLE001
            pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def start_lab(workdir: Path, sources: dict[str, Path], env_extra: dict | None = None,
              timeout: float = 90, quiet_news: bool = True) -> LabServer:
    """Copy ``sources`` (name -> folder) into ``workdir/root`` and start JupyterLab there
    (``quiet_news``: switch off the "Jupyter news?" pop-up in the temporary HOME)."""
    root, home = workdir / "root", workdir / "home"
    root.mkdir(parents=True)
    home.mkdir()
    for name, folder in sources.items():
        shutil.copytree(folder, root / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    labconfig = home / ".jupyter" / "labconfig"
    labconfig.mkdir(parents=True)
    if quiet_news:
        (labconfig / "page_config.json").write_text(json.dumps(  # no "Jupyter news?" pop-up over the page
            {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"), "IPYTHONDIR": str(home / ".ipython"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           **(env_extra or {})}
    env.pop("JUPYTER_PATH", None)
    log = workdir / "jupyterlab.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         "--ServerApp.open_browser=False", "--LabApp.news_url=", "--ServerApp.allow_remote_access=False",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=root, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    return answering(LabServer(process, port, token, root, log), timeout, "JupyterLab")


def answering(server: LabServer, timeout: float, what: str) -> LabServer:
    """``server`` once its REST API answers; its log's end in the error if it exits or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{what} exited at start:\n{server.log.read_text()[-3000:]}")
        try:
            server.api("status")
            return server
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"{what} did not answer within {timeout} s:\n{server.log.read_text()[-3000:]}")


# --- in the page ---------------------------------------------------------------------------------
JS_KERNEL_BUSY = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  if (!w || !w.sessionContext || !w.sessionContext.session) return 'no-session';
  const k = w.sessionContext.session.kernel;
  return k ? k.status : 'no-kernel';
}"""

JS_ERRORS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = w.content.model.cells;
  const errors = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    const outs = cell.outputs.toJSON();
    for (const o of outs) {
      if (o.output_type === 'error') errors.push({cell: i, ename: o.ename, evalue: o.evalue});
    }
  }
  return errors;
}"""


PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on screen, not one in a hidden tab


class Notebook:
    """One notebook open in JupyterLab, in a Playwright page."""

    def __init__(self, page, server: LabServer, path: str):
        self.page, self.server, self.path = page, server, path

    def open(self, timeout: float = 60) -> "Notebook":
        # ?reset: start from an empty workspace, not the tabs another test left open
        self.page.goto(self.server.url(f"lab/tree/{self.path}?reset"))
        self.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                                    "&& window.jupyterapp.shell.currentWidget.content", timeout=timeout * 1000)
        self.page.wait_for_selector(f"{PANEL} .jp-Notebook .jp-Cell", timeout=timeout * 1000)
        self.wait_idle(timeout)
        return self

    def wait_idle(self, timeout: float = 120) -> None:
        """Wait until the kernel is idle and no cell shows [*] (a queued or running cell)."""
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline:
            status = self.page.evaluate(JS_KERNEL_BUSY)
            running = self.page.locator(f"{PANEL} .jp-InputPrompt:has-text('[*]')").count()
            if status == "idle" and running == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 1.0:
                    return
            else:
                quiet_since = None
            time.sleep(0.25)
        raise AssertionError(f"{self.path}: the kernel was still busy after {timeout:.0f} s "
                             f"(status {self.page.evaluate(JS_KERNEL_BUSY)!r}).")

    def command(self, name: str) -> None:
        self.page.evaluate("(name) => window.jupyterapp.commands.execute(name)", name)

    def run_all(self, timeout: float = 180) -> None:
        self.command("notebook:run-all-cells")
        time.sleep(1.0)
        self.wait_idle(timeout)

    def errors(self) -> list[dict]:
        return self.page.evaluate(JS_ERRORS)

    def assert_no_errors(self) -> None:
        errors = self.errors()
        assert not errors, f"{self.path}: cells show errors: " + "; ".join(
            f"cell {e['cell']}: {e['ename']}: {e['evalue']}" for e in errors)

    # -- dashboards -----------------------------------------------------------------------------
    def dashboards(self):
        return self.page.locator(f"{PANEL} .jp-OutputArea-output .course-dashboard")

    def assert_widgets_render(self, expected_min: int = 1) -> int:
        """Every dashboard is drawn as a widget, not as its text fallback such as 'VBox(...)'."""
        text_fallbacks = self.page.locator(f"{PANEL} .jp-OutputArea-output pre:text-matches('^(VBox|HBox)\\\\(')").count()
        count = self.dashboards().count()
        assert text_fallbacks == 0, (f"{self.path}: {text_fallbacks} widget(s) shown as text "
                                     "('VBox(...)'): the ipywidgets extension is missing in JupyterLab.")
        assert count >= expected_min, (
            f"{self.path}: expected at least {expected_min} live dashboard(s), found {count}; a dashboard "
            "shown only as a picture or as text means the ipywidgets extension is missing in JupyterLab.")
        return count

    def image_src(self, dashboard) -> str:
        return dashboard.locator("img").first.get_attribute("src") or ""

    def change_control(self, index: int) -> str:
        """Change the first control of dashboard ``index`` with the keyboard or a selection,
        wait for its figure to change, and return the control's description.

        Raises AssertionError naming the notebook and the control when the figure does not
        change within REDRAW_LIMIT_S seconds or the dashboard shows an error.
        """
        dash = self.dashboards().nth(index)
        dash.scroll_into_view_if_needed()
        before = self.image_src(dash)
        control, label = self._first_control(dash)
        if control is None:
            raise AssertionError(f"{self.path}: dashboard {index} has no slider or drop-down to change.")
        kind, element = control
        if kind == "slider":
            element.focus()
            element.press("ArrowRight")
            element.press("ArrowRight")
        else:
            options = element.locator("option").all_inner_texts()
            current = element.input_value()
            choice = next((o for o in options if o != current), None)
            element.select_option(label=choice)
        deadline = time.monotonic() + REDRAW_LIMIT_S
        while time.monotonic() < deadline:
            error = dash.locator(".course-dashboard-error")
            if error.count():
                raise AssertionError(f"{self.path}: changing control {label!r} of dashboard {index} raised: "
                                     f"{error.first.inner_text()}")
            if self.image_src(dash) != before:
                return label
            time.sleep(0.05)
        raise AssertionError(f"{self.path}: changing control {label!r} of dashboard {index} did not redraw "
                             f"its figure within {REDRAW_LIMIT_S} s.")

    @staticmethod
    def _first_control(dash):
        slider = dash.locator(".widget-slider .noUi-handle, .widget-hslider .noUi-handle")
        dropdown = dash.locator(".widget-dropdown select")
        for kind, loc in (("slider", slider), ("dropdown", dropdown)):
            if loc.count():
                element = loc.first
                box = element.locator("xpath=ancestor::div[contains(@class,'widget-inline-hbox')][1]")
                label = box.locator(".widget-label").first.inner_text() if box.count() else kind
                return (kind, element), label.strip() or kind
        return None, None

    def screenshot(self, folder: Path, name: str | None = None) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (name or Path(self.path).stem + ".png")
        self.page.screenshot(path=str(path), full_page=False)
        return path
