"""Dragging a dashboard's slider in Chromium and timing the pictures that answer it.

The page records, with the browser's clock:
- every pointer move of the drag: when the event was made and what the slider's readout then
  shows (the value the slider sends to the kernel);
- every new picture of the dashboard: when it is on screen (decoded, and the frame that shows
  it begun) and the "Description" text of its PNG, which names the settings it was drawn
  from (``describe`` in ``course/widgets/dashboard.py``).

``analyse`` matches each picture to the move that first gave the slider the value it shows:
latency = picture on screen - that move. A value passed over while another was being drawn
has no picture (stale frames are dropped): it counts in no latency. Used by
``test_dashboards_follow_the_mouse.py`` and ``benchmarks/bench_dashboards_browser.py``.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

from .lab import PANEL

JS_INSTALL = """([index, label]) => {
  const dash = document.querySelectorAll(%r)[index];
  const img = dash.querySelector('img');
  const boxes = [...dash.querySelectorAll('.widget-slider, .widget-hslider')];
  const box = boxes.find(b => (b.querySelector('.widget-label') || {}).textContent === label);
  if (!box) return 'no slider ' + label;
  const readout = box.querySelector('.widget-readout');
  const record = {moves: [], pictures: []};
  window.__courseDrag = record;
  const now = () => performance.timeOrigin + performance.now();
  // on window, bubbling, and read once the event's handlers are done: after the slider's own
  // handler (on document) has set the readout. The release counts as the last move.
  const log = (e) => {
    const t = performance.timeOrigin + e.timeStamp, up = e.type === 'pointerup';
    if (e.buttons || up) setTimeout(() => record.moves.push({t: t, readout: readout.textContent, up: up}), 0);
  };
  window.addEventListener('pointermove', log);
  window.addEventListener('pointerup', log);
  // the settings a picture shows: the "Description" tEXt chunk of its PNG
  const description = (buffer) => {
    const bytes = new Uint8Array(buffer), view = new DataView(buffer);
    for (let at = 8; at + 8 <= bytes.length;) {
      const length = view.getUint32(at), type = String.fromCharCode(...bytes.slice(at + 4, at + 8));
      if (type === 'tEXt') {
        const text = new TextDecoder('latin1').decode(bytes.slice(at + 8, at + 8 + length));
        const [key, value] = [text.slice(0, text.indexOf('\0')), text.slice(text.indexOf('\0') + 1)];
        if (key === 'Description') return value;
      }
      if (type === 'IEND') break;
      at += 12 + length;
    }
    return '';
  };
  new MutationObserver(() => {
    const src = img.src, arrived = now();
    const text = fetch(src).then(r => r.arrayBuffer()).then(description);
    img.decode()
      .then(() => new Promise(done => requestAnimationFrame(done)))
      .then(() => {
        const t = now();
        if (img.src === src) return text.then(title => record.pictures.push({t: t, arrived: arrived, title: title}));
      })
      .catch(() => {});   // replaced before it was decoded: never shown
  }).observe(img, {attributes: true, attributeFilter: ['src']});
  return 'ok';
}""" % f"{PANEL} .jp-OutputArea-output .course-dashboard"


def slider_box(dash, label: str):
    """The slider of a dashboard whose description is ``label``."""
    box = dash.locator(".widget-slider, .widget-hslider").filter(
        has=dash.page.locator(".widget-label", has_text=re.compile(f"^{re.escape(label)}$")))
    if box.count() == 0:
        raise AssertionError(f"the dashboard has no slider labelled {label!r}")
    return box.first


def drag_slider(nb, index: int, label: str, to_fraction: float, seconds: float = 1.1,
                moves_per_second: float = 60.0, settle: float = 2.0, on_press=None, on_release=None) -> dict:
    """Drag the slider ``label`` of dashboard ``index`` from where it is to ``to_fraction`` of its
    track in ``seconds``, one pointer move every 1/moves_per_second s, release it, wait
    ``settle`` seconds; return the page's record (see the module's documentation).
    ``on_press``, ``on_release``: called as the mouse button goes down and up."""
    page = nb.page
    dash = nb.dashboards().nth(index)
    box = slider_box(dash, label)
    box.scroll_into_view_if_needed()
    status = page.evaluate(JS_INSTALL, [index, label])
    if status != "ok":
        raise AssertionError(f"{nb.path}: {status}")
    handle = box.locator(".noUi-handle").first.bounding_box()
    track = box.locator(".noUi-target, .slider").first.bounding_box()
    x0, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    x1 = track["x"] + to_fraction * track["width"]
    page.mouse.move(x0, y)
    if on_press is not None:
        on_press()
    page.mouse.down()
    steps = max(2, int(seconds * moves_per_second))
    start = time.perf_counter()
    for i in range(1, steps + 1):
        wait = start + i / moves_per_second - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        page.mouse.move(x0 + (x1 - x0) * i / steps, y)
    page.mouse.up()
    if on_release is not None:
        on_release()
    time.sleep(settle)
    return page.evaluate("() => window.__courseDrag")


_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _number(text: str) -> float | None:
    """The (first) number a readout shows: '0.316', '−6.90', or a range's low end '−5.00 – 5.00'."""
    m = _NUMBER.search((text or "").replace("\u2212", "-"))
    return float(m.group(0)) if m else None


def _value_in(title: str, label: str) -> float | None:
    """The value of ``label`` in a picture's description ('..., label 0.316, ...'; a range's low end)."""
    m = re.search(rf"(?:^|, ){re.escape(label)} \(?(-?[0-9.eE+-]+)", title or "")
    return _number(m.group(1)) if m else None


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 5e-3 * max(abs(a), abs(b)) + 1e-9


@dataclass
class DragResult:
    """One drag, analysed. Times in milliseconds."""

    latencies: list = field(default_factory=list)      # move -> its picture on screen
    pictures_during: int = 0                            # pictures on screen between first and last move
    seconds: float = 0.0                                # from the first move to the last
    values_passed: int = 0                              # distinct slider values the drag went through
    final_value: float | None = None
    final_delay: float | None = None                   # last move -> picture of the final value (0: already)
    last_picture_value: float | None = None

    @property
    def pictures_per_second(self) -> float:
        return self.pictures_during / self.seconds if self.seconds > 0 else 0.0


def analyse(record: dict, label: str) -> DragResult:
    """Latencies, pictures per second and the delay after the last move of one drag's record."""
    moves = [(m["t"], _number(m["readout"])) for m in record["moves"] if _number(m["readout"]) is not None]
    result = DragResult()
    if not moves:
        return result
    segments = []                                       # (first move with this value, value)
    for t, v in moves:
        if not segments or not _same(segments[-1][1], v):
            segments.append((t, v))
    first, last = moves[0][0], moves[-1][0]
    result.seconds = (last - first) / 1000
    result.values_passed = len(segments)
    result.final_value = segments[-1][1]
    answered = set()
    for picture in sorted(record["pictures"], key=lambda p: p["t"]):
        value = _value_in(picture["title"], label)
        if first <= picture["t"] <= last:
            result.pictures_during += 1
        if value is None:
            continue
        result.last_picture_value = value
        matches = [k for k, (t, v) in enumerate(segments) if _same(v, value) and t <= picture["t"]]
        if not matches or matches[-1] in answered:
            continue                                    # an older value, or not the first picture of it
        k = matches[-1]
        answered.add(k)
        result.latencies.append(picture["t"] - segments[k][0])
        if k == len(segments) - 1 and result.final_delay is None:
            result.final_delay = max(0.0, picture["t"] - last)
    return result


def summary(results: list[DragResult]) -> dict:
    """Median and 95th percentile latency, pictures per second and the worst final delay of several drags."""
    latencies = np.array([x for r in results for x in r.latencies], dtype=float)
    delays = [r.final_delay for r in results]
    return {
        "pictures": int(latencies.size),
        "median": float(np.median(latencies)) if latencies.size else float("nan"),
        "p95": float(np.percentile(latencies, 95)) if latencies.size else float("nan"),
        "max": float(latencies.max()) if latencies.size else float("nan"),
        "per_second": float(np.median([r.pictures_per_second for r in results])) if results else 0.0,
        "per_second_min": min((r.pictures_per_second for r in results), default=0.0),
        "final_delay": None if any(d is None for d in delays) else max(delays),
        "values_passed": int(np.median([r.values_passed for r in results])) if results else 0,
    }
