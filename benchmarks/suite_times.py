"""How long the test commands take, run in a fresh clone of the repository.

    python benchmarks/suite_times.py [nbval] [test-fast] [test]     (default: nbval test-fast)

The clone (``git clone`` of HEAD into a temporary folder) holds only what is committed: no
built decks, no caches, no stored results of earlier runs. It uses this checkout's virtual
environment, so the time is the tests' and not the installation's. For each target it prints
its wall time and pytest's summary line:

- ``nbval``: the five lessons run as tests (``pytest --nbval-lax notebooks/NN_*.ipynb``), one
  lesson after the other, each in its own process; the goal is 300 s for the five;
- ``test-fast``: ``make test-fast``'s command; the goal is 180 s;
- ``test``: ``make test``'s command (every test, the browser tests and notebooks included).

MNIST comes from ``COURSE_DATA_DIR``, which must be set (as CI sets it). Run it on a quiet
machine: the numbers are wall times.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "test-fast": ["-m", "pytest", "-q", "tests", "-m", "not slow and not lecture and not browser and not gpu",
                  "--hypothesis-profile=fast", "-p", "no:cacheprovider"],
    "test": ["-m", "pytest", "-q", "tests", "notebooks", "--nbval-lax", "-p", "no:cacheprovider"],
}
GOALS = {"nbval": 300.0, "test-fast": 180.0}


def summary(output: str) -> str:
    """pytest's last line: '12 passed, 3 skipped in 40.12s'."""
    lines = [line.strip("= ") for line in output.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    return lines[-1] if lines else "(no pytest summary)"


def run(clone: Path, arguments: list[str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *arguments], cwd=clone, capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"})
    return time.perf_counter() - start, done.returncode, summary(done.stdout + done.stderr)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", default=["nbval", "test-fast"], choices=["nbval", *TARGETS])
    args = parser.parse_args(argv)
    if not os.environ.get("COURSE_DATA_DIR"):
        parser.error("set COURSE_DATA_DIR to the folder that holds mnist/ (the tests never download)")
    print(f"machine: {os.cpu_count()} logical cores, Python {sys.version.split()[0]}, load before {load()}")
    failed = False
    with tempfile.TemporaryDirectory(prefix="course-suite-") as folder:
        clone = Path(folder) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True,
                                text=True).stdout.strip()
        print(f"fresh clone of {commit}")
        for target in args.targets:
            if target == "nbval":
                total, parts = 0.0, []
                for lesson in sorted((clone / "notebooks").glob("[0-9][0-9]_*.ipynb")):
                    seconds, code, line = run(clone, ["-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider",
                                                      str(lesson.relative_to(clone))])
                    total += seconds
                    failed |= code != 0
                    parts.append(f"{lesson.name[:2]} {seconds:.0f} s")
                    print(f"  {lesson.name}: {seconds:.1f} s ({line})", flush=True)
                print(f"nbval: {len(parts)} lessons in {total:.1f} s ({', '.join(parts)}); goal under "
                      f"{GOALS['nbval']:.0f} s; load after {load()}", flush=True)
                continue
            seconds, code, line = run(clone, TARGETS[target])
            failed |= code != 0
            goal = f"; goal under {GOALS[target]:.0f} s" if target in GOALS else ""
            print(f"{target}: {seconds:.1f} s ({line}){goal}; load after {load()}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
