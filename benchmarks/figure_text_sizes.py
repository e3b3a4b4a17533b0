"""The smallest text of every figure the lessons draw, in pixels as seen in a 1280x720 window.

    python benchmarks/figure_text_sizes.py                  # default look, then projector look
    python benchmarks/figure_text_sizes.py --mode projector notebooks/04_optimizers.ipynb

Each lesson runs top to bottom in a fresh kernel (as ``make notebooks`` does, without writing
anything back), with a hook that measures every figure a cell returns and every picture a
dashboard draws. A text's height is its font size in pixels at the dpi the figure is drawn at
(points x dpi / 72: the em height, as a CSS font size), times the factor by which JupyterLab
shrinks the picture to fit the window:

    default     the notebook at 1280 px: pictures wider than OUTPUT_WIDTH px are scaled down
    projector   the deck at 1280x720: pictures are also scaled down to fit SLIDE_HEIGHT px

Bars the lessons must clear: 10 px by default, 14 px in projector mode (tests/test_lecture.py
runs this on one lesson; ``make figure-sizes`` on all of them).

    python benchmarks/figure_text_sizes.py --browser notebooks/01_perceptron.ipynb

measures the text of the live deck itself in Chromium at 1280x720: the lesson presented as
``make lecture`` presents it, run, then every step of the deck (Space); on each, the rendered size
of every piece of text on the projected screen (the browser's own font size of the element that
holds it, times the scale at which the element is drawn: code, prose, formulas, widget labels;
the pictures' own text is measured by the modes above).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Width of a notebook's output area in a 1280 px wide JupyterLab window (side panel closed),
#: and the height a slide's content gets in a 1280x720 deck; measured in Chromium.
OUTPUT_WIDTH = 1100
SLIDE_HEIGHT = 620
BARS = {"default": 10.0, "projector": 14.0}

HOOK = r'''
import json as _json, matplotlib.text as _mtext
from matplotlib.figure import Figure as _Figure
_SIZES_OUT, _SIZES_W, _SIZES_H = {out!r}, {width}, {height}
_sizes_cell = ["setup"]

def _sizes_measure(fig, dpi=None, where="figure"):
    dpi = float(dpi or fig.dpi)
    fig.draw_without_rendering()
    w, h = fig.get_figwidth() * dpi, fig.get_figheight() * dpi
    scale = min(1.0, _SIZES_W / w, _SIZES_H / h if _SIZES_H else 1.0)
    box = fig.bbox
    smallest = None
    for t in fig.findobj(_mtext.Text):
        if not t.get_visible() or not t.get_text().strip():
            continue
        try:
            ext = t.get_window_extent()
            if not ext.overlaps(box):
                continue
        except Exception:
            pass
        px = t.get_fontsize() * dpi / 72 * scale
        if smallest is None or px < smallest[0]:
            smallest = (px, t.get_text()[:40])
    if smallest:
        with open(_SIZES_OUT, "a") as f:
            f.write(_json.dumps({{"cell": _sizes_cell[0], "where": where, "px": round(smallest[0], 2),
                                 "text": smallest[1], "size_px": [round(w), round(h)],
                                 "scale": round(scale, 3)}}) + "\n")

def _sizes_post(result):
    value = getattr(result, "result", None)
    if isinstance(value, _Figure):
        _sizes_measure(value)

def _sizes_pre(info):
    _sizes_cell[0] = getattr(info, "raw_cell", "")[:60]

get_ipython().events.register("pre_run_cell", _sizes_pre)
get_ipython().events.register("post_run_cell", _sizes_post)

import course.widgets.dashboard as _d, course.widgets.training as _t
_sizes_png = _d.figure_to_png
def _sizes_figure_to_png(fig, dpi=None):
    png = _sizes_png(fig, dpi)
    _sizes_measure(fig, dpi or _d.figure_dpi(), where="dashboard")
    return png
_d.figure_to_png = _sizes_figure_to_png
_t.figure_to_png = _sizes_figure_to_png
'''


def measure(path: Path, mode: str, timeout: int = 900) -> list[dict]:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sizes.jsonl"
        out.touch()
        hook = HOOK.format(out=str(out), width=OUTPUT_WIDTH, height=SLIDE_HEIGHT if mode == "projector" else 0)
        nb.cells.insert(0, nbformat.v4.new_code_cell(hook))
        env_before = os.environ.get("COURSE_PRESENTATION")
        os.environ["COURSE_PRESENTATION"] = "1" if mode == "projector" else "0"
        os.environ.setdefault("MPLBACKEND", "Agg")
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        finally:
            if env_before is None:
                os.environ.pop("COURSE_PRESENTATION", None)
            else:
                os.environ["COURSE_PRESENTATION"] = env_before
        return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


SMALLEST_TEXT = """() => {
  const out = [];
  // The scale an element is drawn at: its box's width over its layout width. offsetWidth is a whole number of
  // pixels, which would put a short word's scale off by a few per cent (a 14 px word read as 13.8 px): take the
  // ratio on the nearest ancestor at least 200 px wide (the text's paragraph, the cell), which any zoom or
  // transform of the slide also scales.
  const scaleOf = (el, cell) => {
    let e = el;
    while (e !== cell && e.parentElement && e.offsetWidth < 200) e = e.parentElement;
    return e.offsetWidth ? e.getBoundingClientRect().width / e.offsetWidth : 1;
  };
  const cells = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell.jp-deck-mod-onscreen')]
    .filter(c => getComputedStyle(c).visibility !== 'hidden');
  for (const cell of cells) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.trim();
      const el = node.parentElement;
      if (!text || !el || el.closest('mjx-assistive-mml')) continue;   // MathJax's copy for screen readers
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none') continue;
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || box.bottom < 0 || box.top > innerHeight) continue;
      const scale = scaleOf(el, cell);
      out.push({px: parseFloat(style.fontSize) * scale, text: text.slice(0, 40), tag: el.tagName.toLowerCase(),
                cls: String(el.className || '').slice(0, 40)});
    }
    // formulas: MathJax draws each character as an mjx-c element (its glyph in CSS, no text node)
    for (const glyph of cell.querySelectorAll('mjx-container mjx-c')) {
      const box = glyph.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      const scale = scaleOf(glyph, cell);
      out.push({px: parseFloat(getComputedStyle(glyph).fontSize) * scale, text: 'a formula character',
                tag: 'mjx-c', cls: String(glyph.className || '').slice(0, 40)});
    }
  }
  out.sort((a, b) => a.px - b.px);
  return out.slice(0, 3);
}"""


def measure_in_browser(lesson: Path, steps: int = 400) -> list[dict]:
    """The smallest text on each step of the live deck of ``lesson`` (see the module docstring)."""
    import time

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS
    from tests.browser.test_presenting import Lecture

    with tempfile.TemporaryDirectory() as tmp:
        talk = Lecture(Path(tmp), lesson)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.goto(talk.url)
                page.wait_for_function("() => window.courseDeck && Object.values(window.courseDeck.ran)"
                                       ".includes('done')", timeout=600000)
                active = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
                rows, last = [], None
                for _ in range(steps):
                    here = page.evaluate(active)
                    if here == last:
                        break
                    last = here
                    time.sleep(0.3)
                    for row in page.evaluate(SMALLEST_TEXT)[:1]:
                        rows.append({**row, "cell": here})
                    page.keyboard.press("Space")
                    time.sleep(0.3)
                browser.close()
        finally:
            talk.stop()
    return rows


def main_browser(lessons: list[Path]) -> int:
    overall = None
    for lesson in lessons:
        rows = measure_in_browser(lesson)
        low = min(rows, key=lambda r: r["px"])
        print(f"browser   {lesson.name:32} {len(rows):3} steps    smallest text {low['px']:5.1f} px "
              f"({low['text']!r}, <{low['tag']} class={low['cls']!r}>, slide at cell {low['cell']})")
        if overall is None or low["px"] < overall[0]:
            overall = (low["px"], lesson.name)
    ok = overall[0] >= BARS["projector"]
    print(f"browser   smallest projected text of the live deck: {overall[0]:.1f} px at 1280x720 ({overall[1]}); "
          f"bar {BARS['projector']:.0f} px: {'ok' if ok else 'UNDER'}")
    return 0 if ok else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", type=Path)
    parser.add_argument("--browser", action="store_true", help="measure the live deck's text in Chromium")
    parser.add_argument("--mode", choices=["default", "projector", "both"], default="both")
    args = parser.parse_args(argv)
    lessons = args.lessons or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.browser:
        return main_browser([lesson.resolve() for lesson in lessons])
    modes = ["default", "projector"] if args.mode == "both" else [args.mode]
    failed = False
    for mode in modes:
        overall = None
        for lesson in lessons:
            rows = measure(lesson, mode)
            low = min(rows, key=lambda r: r["px"]) if rows else None
            if low:
                print(f"{mode:9} {lesson.name:32} {len(rows):3} figures  smallest text {low['px']:5.1f} px "
                      f"({low['text']!r} in a {low['size_px'][0]}x{low['size_px'][1]} px {low['where']}, "
                      f"shown at {low['scale']:.2f}x)")
                if overall is None or low["px"] < overall[0]:
                    overall = (low["px"], lesson.name)
        if overall:
            ok = overall[0] >= BARS[mode]
            failed |= not ok
            print(f"{mode:9} smallest text of any figure: {overall[0]:.1f} px at 1280x720 ({overall[1]}); "
                  f"bar {BARS[mode]:.0f} px: {'ok' if ok else 'UNDER'}")
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
