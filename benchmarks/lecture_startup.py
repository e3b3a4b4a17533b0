"""Seconds from `make lecture LESSON=04` to the lesson's first slide on screen.

    python benchmarks/lecture_startup.py [LESSON]

Runs the Makefile target as an instructor does (without opening a browser of its own), takes the
address it prints, opens it in headless Chromium at 1280x720 and stops the clock when the deck
is presenting and its first slide is drawn. The time includes starting JupyterLab and loading
it in the browser; it does not include running the lesson's cells.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

FIRST_SLIDE = """() => document.body.dataset.jpDeckMode === 'presenting' &&
  [...document.querySelectorAll('.jp-Notebook .jp-Cell.jp-deck-mod-onscreen')]
    .some(c => c.getBoundingClientRect().height > 0)"""


def measure(lesson: str = "04", timeout: float = 120) -> float:
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="lecture-home-"))
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "PYTHONUNBUFFERED": "1"}
    make = [os.environ.get("MAKE", "make"), "lecture", f"LESSON={lesson}", "LECTURE_FLAGS=--no-browser",
            f"PYTHON={sys.executable}", f"VENV={Path(sys.prefix)}"]
    start = time.perf_counter()
    process = subprocess.Popen(make, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    try:
        url, lines = None, []
        while url is None:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("make lecture stopped before printing the lesson's address:\n" + "".join(lines))
            lines.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+/lab/tree/\S+)", line)
            url = found.group(1) if found else None
        # keep reading what the server writes (a full pipe would stop it), and keep it for errors
        threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            deadline = time.perf_counter() + timeout
            while True:                         # the server may still be starting: retry
                try:
                    page.goto(url, timeout=timeout * 1000)
                    break
                except Exception:  # noqa: BLE001
                    if process.poll() is not None:
                        raise RuntimeError("make lecture stopped:\n" + "".join(lines[-20:])) from None
                    if time.perf_counter() > deadline:
                        raise
                    time.sleep(0.2)
            page.wait_for_function(FIRST_SLIDE, timeout=timeout * 1000, polling=50)
            seconds = time.perf_counter() - start
            browser.close()
        return seconds
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    lesson = sys.argv[1] if len(sys.argv) > 1 else "04"
    runs = [measure(lesson) for _ in range(2)]
    print(f"make lecture LESSON={lesson} -> first slide on screen: "
          + ", ".join(f"{s:.1f} s" for s in runs) + f" (best {min(runs):.1f} s; headless Chromium, 1280x720)")
