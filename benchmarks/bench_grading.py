"""Grade 30 submissions as one batch and show what each misbehaving one got.

    python benchmarks/bench_grading.py [--jobs N] [--timeout S] [--cell-timeout S] [--memory MB]

The batch (built in a temporary folder from exercises/source and exercises/release):
every case of ``course.grading.adversarial`` on the perceptron assignment (endless loops, an
import error, edited tests, stripped metadata, broken files, 100 MB of output, a memory hog,
attempts to read the hidden tests and to overwrite the instructor's files, a missing notebook,
a link to the source), plus a full-marks, a partial and an empty submission of each of the
other four assignments and a metadata-stripped one of the second. It prints one row per
submission (score, status, the reason recorded in grades.csv, seconds) and the batch's time.
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

from course.grading import adversarial, runner  # noqa: E402

OTHER_CASES = ("full_marks", "partial", "empty")


def build(root: Path) -> tuple[Path, Path, int]:
    """The course folders and 30 submissions under root: (source folder, submissions, count)."""
    course = root / "course"
    shutil.copytree(ROOT / "exercises" / "source", course / "source")
    shutil.copytree(ROOT / "exercises" / "release", course / "release")
    (course / "gradebook.db").write_bytes(b"the gradebook")
    submitted = root / "submitted"
    plan = [("01_perceptron", case) for case in adversarial.CASES]
    plan += [(a, case) for a in ("02_activations_dense", "03_backpropagation", "04_optimizers",
                                 "05_hyperparameters") for case in OTHER_CASES]
    plan.append(("02_activations_dense", "stripped_metadata"))
    for assignment, case in plan:
        [source] = sorted((course / "source" / assignment).glob("*.ipynb"))
        release = course / "release" / assignment / source.name
        targets = {"source": source, "gradebook": course / "gradebook.db", "release": release,
                   "other": submitted / "full_marks" / assignment / source.name}
        adversarial.write_case(case, submitted / case / assignment, source, release, targets)
    return course / "source", submitted, len(plan)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=0, help="parallel gradings (default: one per CPU)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per notebook")
    parser.add_argument("--cell-timeout", type=float, default=10.0, help="seconds per cell")
    parser.add_argument("--memory", type=int, default=2048, help="MB per grading process and kernel")
    args = parser.parse_args(argv)
    settings = runner.Settings(timeout=args.timeout, cell_timeout=args.cell_timeout,
                               memory_mb=args.memory, jobs=args.jobs)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
        root = Path(folder)
        source, submitted, count = build(root)
        start = time.monotonic()
        results = runner.grade_batch(submitted, root / "out", source, settings)
        seconds = time.monotonic() - start
        runner.write_reports(results, root / "out")
    slots = settings.jobs or len(runner._cpus())
    print(f"{count} submissions, {slots} at a time, timeout {settings.timeout:g} s per notebook, "
          f"{settings.cell_timeout:g} s per cell, {settings.memory_mb} MB\n")
    print("| submission | assignment | score | status | reason recorded | s |")
    print("|---|---|---|---|---|---|")
    for r in sorted(results, key=lambda r: (r.assignment, r.student)):
        reason = r.reason if len(r.reason) <= 110 else r.reason[:107] + "..."
        print(f"| {r.student} | {r.assignment} | {r.score:g}/{r.max_score:g} | {r.status} | "
              f"{reason.replace('|', '/')} | {r.seconds:.1f} |")
    print(f"\nbatch time: {seconds:.1f} s for {len(results)} notebooks "
          f"(sum of the per-notebook times {sum(r.seconds for r in results):.1f} s)")


if __name__ == "__main__":
    main()
