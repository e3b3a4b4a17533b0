"""Seconds from `make lecture LESSON=04` to the lesson's first slide that answers a key press.

    python benchmarks/lecture_startup.py [LESSON] [RUNS]

Runs the Makefile target as an instructor does (without opening a browser of its own), takes the
address it prints, opens it in headless Chromium at 1280x720 and reads four clocks:

    address     make lecture prints the address (only once the server answers)
    first slide the deck is presenting and its first slide is drawn
    clickable   Space moves the deck to the next step (the first slide answers the lecturer)
    lesson run  the lesson has run itself to the end (the dashboards are alive)

It also counts the requests to the printed address that the server refused (0: the address is
printed only when the server answers).
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


ACTIVE = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
RAN = "() => window.courseDeck && Object.values(window.courseDeck.ran).includes('done')"


def measure(lesson: str = "04", timeout: float = 300) -> dict:
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
            found = re.search(r"(http://127\.0\.0\.1:\d+/lab/tree/\S+\?token=[0-9a-f]+)", line)  # not the server log's masked one
            url = found.group(1) if found else None
        clocks = {"address": time.perf_counter() - start}
        # keep reading what the server writes (a full pipe would stop it), and keep it for errors
        threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
        refused = 0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            deadline = time.perf_counter() + timeout
            while True:
                try:
                    page.goto(url, timeout=timeout * 1000)
                    break
                except Exception:  # noqa: BLE001
                    refused += 1
                    if process.poll() is not None:
                        raise RuntimeError("make lecture stopped:\n" + "".join(lines[-20:])) from None
                    if time.perf_counter() > deadline:
                        raise
                    time.sleep(0.2)
            try:
                page.wait_for_function(FIRST_SLIDE, timeout=timeout * 1000, polling=50)
            except Exception:
                page.screenshot(path=os.environ.get("LECTURE_STARTUP_SHOT", "lecture_startup_failed.png"))
                raise
            clocks["first slide"] = time.perf_counter() - start
            first = page.evaluate(ACTIVE)
            while page.evaluate(ACTIVE) == first:       # press Space until the deck moves
                if time.perf_counter() > deadline:
                    raise RuntimeError("the deck never answered Space")
                page.keyboard.press("Space")
                time.sleep(0.05)
            clocks["clickable"] = time.perf_counter() - start
            page.wait_for_function(RAN, timeout=timeout * 1000, polling=100)
            clocks["lesson run"] = time.perf_counter() - start
            browser.close()
        clocks["refused"] = refused
        return clocks
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    lesson = sys.argv[1] if len(sys.argv) > 1 else "04"
    runs = [measure(lesson) for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 2)]
    for name in ("address", "first slide", "clickable", "lesson run"):
        print(f"make lecture LESSON={lesson} -> {name:11}: " + ", ".join(f"{r[name]:.1f} s" for r in runs)
              + f" (best {min(r[name] for r in runs):.1f} s)")
    print(f"requests refused after the address was printed: {sum(r['refused'] for r in runs)} "
          "(headless Chromium, 1280x720)")
