"""Fixtures for the browser tests: one JupyterLab server and one headless Chromium per session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .lab import CHROMIUM, CHROMIUM_ARGS, start_lab

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("COURSE_SCREENSHOT_DIR", ROOT / "build" / "screenshots"))


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} not found (Debian: apt-get install chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            missing = "Python Playwright is not installed (pip install playwright)"
    for item in items:
        if Path(item.fspath).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if missing:
                item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    sources = {"notebooks": ROOT / "notebooks", "exercises": ROOT / "exercises" / "release",
               "fixtures": Path(__file__).parent / "fixtures"}
    # the learner's JupyterLab, as `make lab` starts it (nbgrader's instructor tools off)
    server = start_lab(tmp_path_factory.mktemp("lab"), {k: v for k, v in sources.items() if v.exists()},
                       env_extra={"JUPYTER_CONFIG_PATH": str(ROOT / "jupyter-config" / "learner")})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots():
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS
collect_ignore_glob = ["fixtures/*"]  # notebooks the harness tests open on purpose
