"""One student's score and resources, whoever else is in the batch.

    python benchmarks/bench_grading_fairness.py [--cell-timeout 6] [--memory 2048] [--jobs 2]

(a) A correct perceptron submission graded alone, then beside a submission that starts 16
    processes spinning for ever, at --jobs 2: its score and wall time each time. The scores
    must be equal.
(b) A submission that forks 5 children holding 600 MB each, against --memory: the peak memory
    its jail held (from its cgroup), with the limits that applied.

The submissions come from tests/grading/unfair.py. The last line sums it up:

    fairness: score alone A, beside a 16-process hog B (equal|DIFFERENT); wall X s alone, Y s beside;
    5 x 600 MB children peaked at P MB against --memory M
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from course.grading.trusted import runner  # noqa: E402
from grading import unfair  # noqa: E402  (the submissions of the tests)

ASSIGNMENT = "01_perceptron"


def course(root: Path) -> Path:
    for version in ("source", "release"):
        shutil.copytree(ROOT / "exercises" / version / ASSIGNMENT, root / "course" / version / ASSIGNMENT)
    return root / "course" / "source"


def batch(root: Path, source: Path, cases: dict, settings: runner.Settings) -> tuple[dict, float]:
    subs = root / f"subs-{time.monotonic_ns()}"
    for student, case in cases.items():
        unfair.write_case(case, subs, ROOT / "exercises", student=student)
    start = time.monotonic()
    results = runner.grade_batch(subs, root / "out", source, settings)
    return {r.student: r for r in results}, time.monotonic() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell-timeout", type=float, default=6.0, help="seconds per cell (default 6)")
    parser.add_argument("--memory", type=int, default=2048, help="MB for a whole submission (default 2048)")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    args = parser.parse_args(argv)
    settings = runner.Settings(timeout=240, cell_timeout=args.cell_timeout, memory_mb=args.memory, jobs=args.jobs)
    with tempfile.TemporaryDirectory(prefix="bench-fairness-") as folder:
        root = Path(folder)
        source = course(root)
        alone, _ = batch(root, source, {"correct": "honest"}, settings)
        beside, _ = batch(root, source, {"correct": "honest", "hog": "cpu_hog"}, settings)
        # the memory case gets the time to fill its children: a cell limit of its own
        memory_settings = runner.Settings(timeout=240, cell_timeout=60, memory_mb=args.memory, jobs=args.jobs)
        memory, _ = batch(root, source, {"forks": "forks_memory_hogs"}, memory_settings)
    a, b, m = alone["correct"], beside["correct"], memory["forks"]
    print(f"(a) a correct submission alone:          {a.score:g}/{a.max_score:g} {a.status}, {a.seconds:.1f} s wall "
          f"({a.graded_in})")
    print(f"    beside a 16-process CPU hog (--jobs {args.jobs}): {b.score:g}/{b.max_score:g} {b.status}, "
          f"{b.seconds:.1f} s wall; the hog: {beside['hog'].score:g}/{beside['hog'].max_score:g} {beside['hog'].status}")
    peak = "not measured (no cgroup)" if m.peak_memory_mb is None else f"{m.peak_memory_mb:.0f} MB"
    print(f"(b) 5 forked children of 600 MB each, --memory {args.memory}: peak {peak}; "
          f"{m.score:g}/{m.max_score:g} {m.status} ({m.graded_in})")
    print(f"fairness: score alone {a.score:g}, beside a 16-process hog {b.score:g} "
          f"({'equal' if a.score == b.score else 'DIFFERENT'}); wall {a.seconds:.1f} s alone, "
          f"{b.seconds:.1f} s beside; 5 x 600 MB children peaked at {peak} against --memory {args.memory}")


if __name__ == "__main__":
    main()
