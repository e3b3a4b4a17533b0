"""``make release`` with an absolute VENV and ``make grade SOURCE=...`` against a private source."""
import csv
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")
from course.gradebook import classgen  # noqa: E402
from course.grading.jail import probe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
needs_env = pytest.mark.skipif(not (VENV / "bin" / ".installed").exists() or shutil.which("make") is None,
                               reason="needs make and the course's .venv (make env)")


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args, f"VENV={VENV}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)


@needs_env
def test_make_release_with_an_absolute_venv(tmp_path):
    shutil.copytree(ROOT / "exercises" / "source" / "01_perceptron", tmp_path / "source" / "01_perceptron")
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", tmp_path)
    out = make("release", f"COURSE={tmp_path}")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert (tmp_path / "release" / "01_perceptron" / "perceptron.ipynb").is_file()


@needs_env
@pytest.mark.skipif(probe() is not None, reason=f"no jail on this machine: {probe()}")
def test_make_grade_with_a_private_source(tmp_path):
    course = tmp_path / "private"
    classgen.make_class(course, students=2, seed=1, assignments=["01_perceptron"])
    # the private source gives one more point to the first test: the grades must follow it
    import json
    path = course / "source" / "01_perceptron" / "perceptron.ipynb"
    notebook = json.loads(path.read_text())
    test = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade")
                and not c["metadata"]["nbgrader"].get("solution"))
    test["metadata"]["nbgrader"]["points"] += 1
    path.write_text(json.dumps(notebook))
    out = make("grade", f"SUBMISSIONS={course / 'submitted'}", f"SOURCE={course / 'source'}",
               f"OUT={tmp_path / 'grades'}", "JOBS=2")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    with open(tmp_path / "grades" / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(row["max_score"] == "9" for row in rows)
