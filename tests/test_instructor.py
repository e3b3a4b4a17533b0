"""The instructor's private course directory: made outside the repository, private, with its
own secret; an upgrade keeps the instructor's edits and reports each conflict."""
import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from course import instructor

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "01_perceptron/perceptron.ipynb"


@pytest.fixture
def upstream(tmp_path):
    """A copy of the course's exercises/source that a test can change as a newer course would."""
    source = tmp_path / "upstream"
    shutil.copytree(instructor.COURSE_SOURCE, source)
    return source


def edit_cell(path: Path, cell_id: str, text: str) -> None:
    nb = json.loads(path.read_text())
    (cell,) = [c for c in nb["cells"] if c["id"] == cell_id]
    cell["source"] = text
    path.write_text(json.dumps(nb, indent=1))


def cell_source(path: Path, cell_id: str) -> str:
    (cell,) = [c for c in json.loads(path.read_text())["cells"] if c["id"] == cell_id]
    return "".join(cell["source"])


def test_new_course_holds_source_config_and_a_private_secret(tmp_path):
    course = instructor.new_course(tmp_path / "course", course_id="nn-2027", exchange="/srv/x/exchange")
    assert sorted(p.name for p in (course / "source").iterdir()) == sorted(
        p.name for p in instructor.COURSE_SOURCE.iterdir() if p.is_dir())
    assert (course / "source" / NOTEBOOK).read_bytes() == (instructor.COURSE_SOURCE / NOTEBOOK).read_bytes()
    secret = (course / "course_secret").read_text().strip()
    assert len(secret) == 64 and int(secret, 16) >= 0
    assert stat.S_IMODE((course / "course_secret").stat().st_mode) == 0o600
    assert stat.S_IMODE(course.stat().st_mode) == 0o700
    config = (course / "nbgrader_config.py").read_text()
    assert "c.CourseDirectory.course_id = 'nn-2027'" in config
    assert "c.Exchange.root = '/srv/x/exchange'" in config
    assert "--duedate=" in config and "configure(c)" in config
    compile(config, "nbgrader_config.py", "exec")


def test_two_courses_get_different_secrets(tmp_path):
    a = instructor.new_course(tmp_path / "a") / "course_secret"
    b = instructor.new_course(tmp_path / "b") / "course_secret"
    assert a.read_text() != b.read_text()


def test_new_course_refuses_the_repository_and_a_used_folder(tmp_path):
    with pytest.raises(ValueError, match="inside the course's repository"):
        instructor.new_course(ROOT / "build" / "private-course")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="upgrade"):
        instructor.new_course(tmp_path / "used")
    assert (tmp_path / "used" / "notes.txt").read_text() == "mine"


def test_the_config_loads_in_nbgrader_with_the_jailed_executor(tmp_path):
    pytest.importorskip("nbgrader")
    try:
        from course.gradebook.config import configure  # noqa: F401
    except ImportError:
        pytest.skip("course.gradebook.config is not in this tree yet")
    course = instructor.new_course(tmp_path / "course", course_id="nn-2027")
    code = ("from traitlets.config import Config\n"
            "from traitlets.config.loader import PyFileConfigLoader\n"
            f"c = PyFileConfigLoader('nbgrader_config.py', path={str(course)!r}).load_config()\n"
            "print(c.CourseDirectory.course_id)\n"
            "print([getattr(p, '__name__', p) for p in c.Autograde.autograde_preprocessors])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=course)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "nn-2027"
    assert "JailedExecute" in out.stdout


def test_the_command_line_makes_a_course_and_says_what_is_in_it(tmp_path):
    out = subprocess.run([sys.executable, "-m", "course.instructor", "new", str(tmp_path / "c")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "course_secret" in out.stdout and (tmp_path / "c" / "source").is_dir()
    again = subprocess.run([sys.executable, "-m", "course.instructor", "new", str(tmp_path / "c")],
                           capture_output=True, text=True)
    assert again.returncode == 2 and "not an empty folder" in again.stderr


def test_upgrade_takes_the_course_changes_and_keeps_the_instructors(tmp_path, upstream):
    course = instructor.new_course(tmp_path / "course", source=upstream)
    mine = course / "source" / NOTEBOOK
    edit_cell(mine, "intro", "# Perceptron, our version\n")  # the instructor's edit
    edit_cell(upstream / NOTEBOOK, "predict-text", "Newer words about predict.\n")  # the course's
    (upstream / "01_perceptron" / "extra.txt").write_text("new data file\n")
    report = instructor.upgrade_course(course, source=upstream)
    assert report.merged == [NOTEBOOK] and report.added == ["01_perceptron/extra.txt"]
    assert report.conflicts == []
    assert cell_source(mine, "intro") == "# Perceptron, our version\n"
    assert cell_source(mine, "predict-text") == "Newer words about predict.\n"
    assert (course / "source" / "01_perceptron" / "extra.txt").read_text() == "new data file\n"
    # the pristine copy now is the newer course: a second upgrade brings nothing in
    again = instructor.upgrade_course(course, source=upstream)
    assert again.lines() == [f"kept      {NOTEBOOK}"]


def test_upgrade_replaces_an_untouched_notebook_and_keeps_an_edited_one(tmp_path, upstream):
    course = instructor.new_course(tmp_path / "course", source=upstream)
    edit_cell(upstream / NOTEBOOK, "intro", "# newer intro\n")
    (course / "source" / "02_activations_dense" / "notes.md").write_text("the instructor's notes\n")
    report = instructor.upgrade_course(course, source=upstream)
    assert report.updated == [NOTEBOOK]
    assert (course / "source" / NOTEBOOK).read_bytes() == (upstream / NOTEBOOK).read_bytes()
    assert (course / "source" / "02_activations_dense" / "notes.md").read_text() == "the instructor's notes\n"


def test_upgrade_reports_a_cell_changed_on_both_sides_and_keeps_the_instructors(tmp_path, upstream):
    course = instructor.new_course(tmp_path / "course", source=upstream)
    edit_cell(course / "source" / NOTEBOOK, "intro", "ours\n")
    edit_cell(upstream / NOTEBOOK, "intro", "theirs\n")
    report = instructor.upgrade_course(course, source=upstream)
    assert len(report.conflicts) == 1 and "'intro'" in report.conflicts[0]
    assert cell_source(course / "source" / NOTEBOOK, "intro") == "ours\n"
    assert cell_source(course / "upgrade-conflicts" / NOTEBOOK, "intro") == "theirs\n"
    again = instructor.upgrade_course(course, source=upstream)
    assert again.conflicts == [], "the pristine copy moved on: the conflict is reported once"


def test_upgrade_reports_a_cell_removed_in_the_course_that_the_instructor_edited(tmp_path, upstream):
    course = instructor.new_course(tmp_path / "course", source=upstream)
    edit_cell(course / "source" / NOTEBOOK, "predict-text", "ours\n")
    nb = json.loads((upstream / NOTEBOOK).read_text())
    nb["cells"] = [c for c in nb["cells"] if c["id"] != "predict-text"]
    (upstream / NOTEBOOK).write_text(json.dumps(nb, indent=1))
    report = instructor.upgrade_course(course, source=upstream)
    assert any("'predict-text' removed in the course and changed here" in c for c in report.conflicts)


def test_upgrade_of_a_folder_that_is_no_course_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="course.instructor new"):
        instructor.upgrade_course(tmp_path)


def test_the_command_line_upgrade_of_an_unchanged_course_brings_nothing_in(tmp_path):
    instructor.new_course(tmp_path / "c")
    out = subprocess.run([sys.executable, "-m", "course.instructor", "new", "--upgrade", str(tmp_path / "c")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "nothing to bring in" in out.stdout
