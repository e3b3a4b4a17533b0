"""Grade 30 submissions two ways on one machine in one run: the jailed grader and
``nbgrader autograde``.

    python benchmarks/bench_grading.py [--jobs 2] [--timeout S] [--cell-timeout S] [--memory MB]

The batch (built in a temporary folder from exercises/source and exercises/release):
every case of ``tests/grading/adversarial.py`` on the perceptron assignment (endless loops, an
import error, edited tests, stripped metadata, broken files, 100 MB of output, a memory hog,
attempts to read the hidden tests and to overwrite the instructor's files, a missing notebook,
a link to the source), plus a full-marks, a partial and an empty submission of each of the
other four assignments and a metadata-stripped one of the second.

It prints one row per submission (the score each way, the jailed grader's status and reason),
the time from starting a kernel to its first answer, and the batch times; its last line is
``grading: N submissions in S s (jailed), T s (nbgrader autograde), ratio R`` with R = S / T.
nbgrader runs each assignment's submissions one after the other, with no limit of its own on
memory: here every process it starts gets an address-space limit of --memory MB, so that the
memory hog cannot take the machine down.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from course.grading.trusted import runner  # noqa: E402
from grading import adversarial  # noqa: E402  (the misbehaving submissions of the tests)

OTHER_CASES = ("full_marks", "partial", "empty")


def build(root: Path) -> tuple[Path, Path, int]:
    """The course folders and 30 submissions under root: (source folder, submissions, count)."""
    course = root / "course"
    shutil.copytree(ROOT / "exercises" / "source", course / "source")
    shutil.copytree(ROOT / "exercises" / "release", course / "release")
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    (course / "gradebook.db").write_bytes(b"")
    submitted = course / "submitted"
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
    (course / "gradebook.db").unlink()
    return course / "source", submitted, len(plan)


def snapshot(*folders: Path) -> dict[str, str]:
    """A hash of every file under the folders (links and folders by what they are)."""
    out = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.exists() else []:
            if path.is_symlink():
                out[str(path)] = "link"
            elif path.is_file():
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def changed(before: dict, after: dict) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def grade(submitted: Path, source: Path, out: Path, settings: runner.Settings):
    start = time.monotonic()
    results = runner.grade_batch(submitted, out, source, settings)   # the engine: it writes no report
    seconds = time.monotonic() - start
    return {(r.student, r.assignment): r for r in results}, seconds


def nbgrader_autograde(course: Path, memory_mb: int, cell_timeout: float) -> tuple[dict, float]:
    """nbgrader autograde of every assignment; (scores by (student, assignment), seconds)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    limit = memory_mb * 2**20

    def limited():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    start = time.monotonic()
    assignments = sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
    for assignment in assignments:
        for command in (["generate_assignment", assignment, "--force"],
                        ["autograde", assignment, "--force", f"--Execute.timeout={cell_timeout:g}"]):
            subprocess.run([sys.executable, "-m", "nbgrader", *command], cwd=course, env=env,
                           capture_output=True, timeout=1800, preexec_fn=limited)
    seconds = time.monotonic() - start
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment in assignments:
            for student in sorted(p.name for p in (course / "submitted").iterdir()):
                try:
                    scores[(student, assignment)] = gradebook.find_submission(assignment, student).score
                except MissingEntry:
                    pass
    return scores, seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="parallel gradings (default 2)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per notebook")
    parser.add_argument("--cell-timeout", type=float, default=10.0, help="seconds per cell")
    parser.add_argument("--memory", type=int, default=2048, help="MB per grading process and kernel")
    parser.add_argument("--no-nbgrader", action="store_true", help="skip nbgrader autograde")
    args = parser.parse_args(argv)
    settings = dict(timeout=args.timeout, cell_timeout=args.cell_timeout, memory_mb=args.memory,
                    jobs=args.jobs)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
        root = Path(folder)
        source, submitted, count = build(root)
        watched = (source, source.parent / "release", submitted)
        damage = {}
        before = snapshot(*watched)
        jailed, jailed_s = grade(submitted, source, root / "out-jailed", runner.Settings(**settings, jail=True))
        damage["jailed"] = changed(before, snapshot(*watched))
        if args.no_nbgrader:
            theirs, theirs_s = {}, float("nan")
        else:
            before = snapshot(*watched)  # nbgrader writes the release and its gradebook itself
            generated = source.parent / "release"
            theirs, theirs_s = nbgrader_autograde(source.parent, args.memory, args.cell_timeout)
            damage["nbgrader autograde"] = [p for p in changed(before, snapshot(*watched))
                                            if not p.startswith(str(generated))]
    print(f"{count} submissions, {args.jobs} at a time, timeout {args.timeout:g} s per notebook, "
          f"{args.cell_timeout:g} s per cell, {args.memory} MB\n")
    print("| submission | assignment | jailed | nbgrader | jailed status | jailed reason |")
    print("|---|---|---|---|---|---|")
    for key in sorted(jailed, key=lambda k: (k[1], k[0])):
        r = jailed[key]
        nb = theirs.get(key)
        reason = r.reason if len(r.reason) <= 90 else r.reason[:87] + "..."
        print(f"| {key[0]} | {key[1]} | {r.score:g}/{r.max_score:g} | "
              f"{'-' if nb is None else f'{nb:g}'} | {r.status} | {reason.replace('|', '/')} |")
    for label, results in (("jailed", jailed),):
        starts = sorted(r.kernel_start for r in results.values() if r.kernel_start is not None)
        if starts:
            print(f"\nkernel start to first answer, {label}: median {statistics.median(starts):.2f} s, "
                  f"max {starts[-1]:.2f} s over {len(starts)} kernels", end="")
    print()
    for label, paths in damage.items():
        names = ", ".join(str(Path(p).relative_to(source.parent)) for p in paths[:4])
        print(f"\ninstructor's or students' files changed during the {label} batch: "
              f"{len(paths)}{' (' + names + (' ...' if len(paths) > 4 else '') + ')' if paths else ''}", end="")
    if not args.no_nbgrader and any(key[1] not in {k[1] for k in theirs} for key in jailed):
        missing = sorted({key[1] for key in jailed} - {k[1] for k in theirs})
        print(f"\nnbgrader autograde left no score for {', '.join(missing)} (its run failed; see the "
              f"files its submissions changed, above)", end="")
    print(f"\n\njailed: {jailed_s:.1f} s; nbgrader autograde: {theirs_s:.1f} s")
    print(f"grading: {count} submissions in {jailed_s:.1f} s (jailed), {theirs_s:.1f} s (nbgrader "
          f"autograde), ratio {jailed_s / theirs_s:.2f}")


if __name__ == "__main__":
    main()
