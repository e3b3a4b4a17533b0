"""How fast every dashboard of the course redraws after a control changes (goal: 250 ms).

Each dashboard builder is imported (a missing one is reported, not fatal) and built with its
defaults. Then every control that has a value is moved several times, one change at a time, as
a learner would; the time of each redraw (recompute + draw + PNG, ``dash.redraw_seconds``) is
recorded. The table gives the median and the maximum per dashboard against the goal.

The training dashboard trains in a background thread after each change: its redraw time is the
immediate picture of the new, untrained network; the redraws made while training (every few
epochs) are reported on a separate line. The benchmark waits for each training to finish before
the next change.

    python benchmarks/bench_dashboards.py              # 3 values per control
    python benchmarks/bench_dashboards.py --changes 5
    python benchmarks/bench_dashboards.py --drag       # 40 neighbouring values of one slider each

``--drag`` moves, for each dashboard, the slider that bench_dashboards_browser.py drags through
40 values in a row across its track, as a drag does, and times each picture: what a picture
costs when only that slider moves (the axes of most dashboards are then kept, see
course/plots/render.py).

Timings depend on the machine and on what else runs on it: the load average is printed too,
and the CPU time of each redraw (which other programs running at the same time affect less).
How closely the dashboards follow a drag of the mouse in JupyterLab, from the pointer move to
the picture on screen, is measured by bench_dashboards_browser.py.
"""
from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

GOAL_SECONDS = 0.250

#: Every dashboard builder of the course: (lesson, module, function).
BUILDERS = [
    ("01", "course.widgets.perceptron", "perceptron_dashboard"),
    ("02", "course.widgets.activations", "activation_explorer"),
    ("03", "course.widgets.backprop", "backprop_stepper"),
    ("04", "course.widgets.descent", "descent_dashboard"),
    ("05", "course.widgets.training", "training_dashboard"),
]

#: Values to use instead of the automatic ones, where the automatic ones would make a run long
#: (the benchmark measures redraws, not training).
OVERRIDES = {
    "training_dashboard": {"epochs": [10, 25, 40], "batch_size": [8, 64, 200]},
}


def candidate_values(control, n: int, rng: np.random.Generator) -> list:
    """``n`` values for a control, different from its current one, spread over its range."""
    import ipywidgets as widgets

    current = control.value
    if isinstance(control, widgets.Checkbox):
        return [not current if k % 2 == 0 else current for k in range(n)]
    if hasattr(control, "options") and control.options:
        values = [v[1] if isinstance(v, tuple) else v for v in control.options]
        others = [v for v in values if v != current] or values
        return [others[k % len(others)] for k in range(n)]
    if isinstance(control, (widgets.FloatRangeSlider, widgets.IntRangeSlider)):
        lo, hi = control.min, control.max
        picks = []
        for _ in range(n):
            a, b = sorted(rng.uniform(lo, hi, size=2))
            picks.append((a, b if b > a else hi))
        return picks
    if isinstance(control, widgets.FloatLogSlider):
        exponents = np.linspace(control.min, control.max, n + 2)[1:-1]
        return [float(control.base ** e) for e in exponents]
    if hasattr(control, "min") and hasattr(control, "max"):
        values = np.linspace(control.min, control.max, n + 2)[1:-1]
        if isinstance(control, (widgets.IntSlider, widgets.BoundedIntText)):
            return [int(round(v)) for v in values]
        return [float(v) for v in values]
    return []


def exercise(name: str, dash, changes: int, seed: int = 0) -> dict:
    """Move every control ``changes`` times; return the redraw times (and background ones)."""
    rng = np.random.default_rng(seed)
    overrides = OVERRIDES.get(name, {})
    wait = getattr(dash, "wait", None)
    if wait:
        wait()
    times, cpu_times = [], []
    background_before = len(getattr(dash, "train_redraw_seconds", []))
    for control_name, control in dash.controls.items():
        if not hasattr(control, "value"):
            continue                                             # buttons
        values = overrides.get(control_name) or candidate_values(control, changes, rng)
        for value in values:
            if getattr(control, "disabled", False):
                continue                                         # a learner cannot move it either
            cpu = time.process_time()
            dash.set(**{control_name: value})
            cpu_times.append(time.process_time() - cpu)
            times.append(dash.redraw_seconds)
            if dash.last_error:
                raise RuntimeError(f"{name}: setting {control_name}={value!r} failed: {dash.last_error}")
            if wait:
                wait()
    background = list(getattr(dash, "train_redraw_seconds", []))[background_before:]
    return {"redraws": times, "cpu": cpu_times, "background": background}


#: The slider a drag moves in each dashboard (the one bench_dashboards_browser.py drags).
DRAGGED = {"perceptron_dashboard": "epochs", "activation_explorer": "x0", "backprop_stepper": "steps",
           "descent_dashboard": "learning_rate", "training_dashboard": "hidden_units"}


def drag(name: str, dash, values: int = 40) -> dict:
    """Move the dragged slider through ``values`` neighbouring values from one end of its track
    to the other (the training dashboard does not train meanwhile, as during a drag)."""
    import ipywidgets as widgets

    if hasattr(dash, "auto_train"):
        dash.stop()
        dash.auto_train = False
    control = dash.controls[DRAGGED[name]]
    track = np.linspace(control.min, control.max, values)
    if isinstance(control, widgets.FloatLogSlider):
        track = control.base ** track
    if isinstance(control, widgets.IntSlider):
        track = np.round(track).astype(int)
    times, cpu_times = [], []
    canvas = None
    for value in track:
        cpu = time.process_time()
        dash.set(**{DRAGGED[name]: value.item()})
        cpu_times.append(time.process_time() - cpu)
        times.append(dash.redraw_seconds)
        canvas = dash.figure.canvas
    return {"redraws": times, "cpu": cpu_times, "background": [],
            "axes drawn": getattr(canvas, "backgrounds_drawn", None)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=3, help="values tried per control (default 3)")
    parser.add_argument("--drag", action="store_true", help="40 neighbouring values of the dragged slider instead")
    args = parser.parse_args(argv)

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"Dashboard redraw times (goal {GOAL_SECONDS * 1000:.0f} ms); {os.cpu_count()} CPU(s), "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    header = (f"{'lesson':<7}{'dashboard':<24}{'redraws':>8}{'median ms':>11}{'max ms':>9}"
              f"{'median CPU ms':>15}  verdict")
    print(header)
    print("-" * len(header))
    missing, failed = [], False
    for lesson, module_name, function_name in BUILDERS:
        try:
            builder = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError) as error:
            missing.append(f"{module_name}.{function_name} ({type(error).__name__}: {error})")
            continue
        started = time.perf_counter()
        dash = builder()
        result = drag(function_name, dash) if args.drag else exercise(function_name, dash, args.changes)
        times = np.array(result["redraws"]) * 1000
        median, worst = float(np.median(times)), float(times.max())
        verdict = "ok" if worst <= GOAL_SECONDS * 1000 else (
            "median ok, max over" if median <= GOAL_SECONDS * 1000 else "over the goal")
        failed |= median > GOAL_SECONDS * 1000
        cpu = float(np.median(result["cpu"])) * 1000
        drawn = result.get("axes drawn")
        print(f"{lesson:<7}{function_name:<24}{len(times):>8}{median:>11.0f}{worst:>9.0f}{cpu:>15.0f}  {verdict}"
              f"   ({time.perf_counter() - started:.1f} s in all"
              + (f"; {DRAGGED[function_name]} dragged, axes drawn {drawn} times" if args.drag else "") + ")")
        if result["background"]:
            bg = np.array(result["background"]) * 1000
            print(f"{'':<7}{'  while training':<24}{len(bg):>8}{statistics.median(bg):>11.0f}{bg.max():>9.0f}"
                  f"{'':>15}  (redraws in the background thread, every few epochs)")
    if missing:
        print("\nNot benchmarked (builder missing):")
        for line in missing:
            print(f"  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
