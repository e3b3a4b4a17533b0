"""The jailed grader against submissions written to cheat or to break it (``tests/grading/attacks.py``).

One batch grades every attack on the perceptron assignment beside two honest classmates, with
a fake secret in the grader's environment and a TCP listener on 127.0.0.1. Each attack gets the
fair score; no file outside the output folder changes (the course folders, the submissions and
the course package, hashed before and after); no process the test started survives; the
feedback holds neither a hidden test's source nor the secret; the listener receives nothing.
A second batch checks how submissions are found: links, hidden folders, a student called
'submitted', ids a spreadsheet would run, non-ASCII ids.
"""
import csv
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")
from course.gradebook import cli  # noqa: E402
from course.grading.trusted import runner  # noqa: E402
from grading import attacks  # noqa: E402
from course.grading.trusted.jail import probe  # noqa: E402
from support import adopt_orphans, assert_outcome, course_folder, file_hashes, grade_with_cli, own_descendants  # noqa: E402

pytestmark = pytest.mark.skipif(probe() is not None, reason=f"no jail on this machine: {probe()}")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course"
ASSIGNMENT = "01_perceptron"
NOTEBOOK = "perceptron.ipynb"
SECRET = "INSTRUCTOR_API_TOKEN"
SECRET_VALUE = "sk-test-5f1e2d3c4b5a69788796a5b4c3d2e1f0"
SETTINGS = runner.Settings(timeout=120, cell_timeout=6, memory_mb=1536, jobs=2)

# attack -> (score out of 8, status, words the reason must contain)
EXPECTED = {
    "rebinds_checks": (0, "flagged", "uses globals"),   # dynamic code in an answer is flagged
    "patches_numpy": (0, "ok", "no test passed"),
    "input_transformer": (0, "ok", "no test passed"),
    "forges_report_lines": (0, "flagged", "no test passed"),   # it garbles its own channel
    "dir_fd_reads_hidden_tests": (0, "flagged", "raised FileNotFoundError"),
    "dir_fd_writes_files": (0, "flagged", "left for the instructor"),
    "switches_off_guards": (0, "flagged", "left for the instructor"),
    "leaks_hidden_tests": (0, "ok", "no test passed"),
    "reads_grader_environment": (0, "ok", "no test passed"),
    "sends_cells_over_tcp": (0, "ok", "no test passed"),
    "leaves_a_process_behind": (8, "ok", ""),
    "fork_bomb": (8, "ok", ""),
    "fills_the_disk": (8, "ok", ""),
    "kills_its_kernel": (0, "flagged", "the kernel was restarted"),
    "hangs_when_tested": (7, "flagged", "'test_predict_by_hand' was stopped after 6 s"),
    "returns_unreadable_values": (0, "ok", "no test passed"),
    "answer_cell_in_markdown": (8, "flagged", "was a markdown cell"),
    "huge_outputs": (8, "ok", ""),
    "honest_alice": (8, "ok", ""),
    "honest_bob": (8, "ok", ""),
}
HIDDEN_WORDS = ("BEGIN HIDDEN", "_reference_train", "hidden_rng()", "_rng = hidden_rng", "_step(_x @ _w")




class Listener:
    """A TCP server on 127.0.0.1 that records every byte it receives."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    self.received.append(connection.recv(65536))
                except OSError:
                    self.received.append(b"(a connection)")

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.server.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    adopt_orphans()
    root = tmp_path_factory.mktemp("jail")
    course = course_folder(root, assignments=None)
    (course / "gradebook.db").write_bytes(b"the gradebook")
    source = course / "source" / ASSIGNMENT / NOTEBOOK
    release = course / "release" / ASSIGNMENT / NOTEBOOK
    submitted = root / "submitted"
    listener = Listener()
    targets = {"source": source, "other": submitted / "honest_alice" / ASSIGNMENT / NOTEBOOK,
               "package": PACKAGE / "grading" / "checks.py", "source_dir": course / "source",
               "port": listener.port}
    for name in attacks.ATTACKS:
        attacks.write_attack(name, submitted / name / ASSIGNMENT, source, release, targets)
    for honest in ("honest_alice", "honest_bob"):
        folder = submitted / honest / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(source, folder / NOTEBOOK)  # the solutions and the visible tests: full marks
    before = file_hashes(course, submitted, PACKAGE)
    processes_before = own_descendants()
    os.environ[SECRET] = SECRET_VALUE
    try:
        start = time.monotonic()
        code, results = grade_with_cli(submitted, root / "out", course / "source", SETTINGS)
        seconds = time.monotonic() - start
        assert code == 0
    finally:
        os.environ.pop(SECRET, None)
    time.sleep(1.0)
    listener.close()
    after = file_hashes(course, submitted, PACKAGE)
    return {"results": {r.student: r for r in results}, "before": before, "after": after,
            "out": root / "out", "seconds": seconds, "received": listener.received,
            "processes_before": processes_before}


@pytest.mark.parametrize("attack", EXPECTED)
def test_each_attack_gets_the_fair_score_and_a_reason(batch, attack):
    score, status, words = EXPECTED[attack]
    assert_outcome(batch["results"][attack], score, status, words, max_score=8)


def test_no_file_outside_the_output_folder_changes(batch):
    changed = {k for k in batch["before"].keys() | batch["after"].keys()
               if batch["before"].get(k) != batch["after"].get(k)}
    assert changed == set()


def test_no_process_started_by_the_batch_survives(batch):
    def new() -> list:  # descendants of this test that were not there before the batch
        return [p for p in own_descendants() if p not in batch["processes_before"]]

    deadline = time.monotonic() + 10
    while new() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert new() == []


def test_feedback_holds_no_hidden_test_and_no_secret(batch):
    for path in list((batch["out"] / "feedback").glob("*.md")) + [batch["out"] / "grades.csv",
                                                                batch["out"] / "results.json"]:
        text = path.read_text(encoding="utf-8")
        assert SECRET_VALUE not in text and SECRET not in text, path.name
        for words in HIDDEN_WORDS:
            assert words not in text, (path.name, words)


def test_the_learners_own_error_message_reaches_the_feedback(batch):
    feedback = (batch["out"] / "feedback" / "reads_grader_environment.md").read_text(encoding="utf-8")
    assert "ValueError: environment:" in feedback   # the learner's message, from inside the jail
    assert "HOME" in feedback and "/home/student" in feedback


def test_a_listener_on_127_0_0_1_receives_nothing(batch):
    assert batch["received"] == []


def test_every_row_says_it_was_graded_in_the_jail(batch):
    with open(batch["out"] / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert all(row["graded_in"].startswith("jail (bubblewrap); ") for row in rows)
    assert all(r.kernel_start is not None and r.kernel_start < 30 for r in batch["results"].values())


# -- finding the submissions ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("folders")
    source_dir = root / "instructor" / "source"
    shutil.copytree(ROOT / "exercises" / "source" / ASSIGNMENT, source_dir / ASSIGNMENT)
    source = source_dir / ASSIGNMENT / NOTEBOOK
    subs = root / "subs"
    for student in ("submitted", "source", "zoë", "=SUM(A1:A9)", "+1", "@cmd", ".hidden"):
        (subs / student / ASSIGNMENT).mkdir(parents=True)
        shutil.copy(source, subs / student / ASSIGNMENT / NOTEBOOK)
    os.symlink(source_dir, subs / "linked_to_source")
    os.symlink(subs / "zoë", subs / "linked_to_classmate")
    (subs / "linked_assignment").mkdir()
    os.symlink(source_dir / ASSIGNMENT, subs / "linked_assignment" / ASSIGNMENT)
    out = root / "out"
    code = cli.main([str(subs), "--out", str(out), "--source", str(source_dir), "--jobs", "2",
                        "--timeout", "120"])
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return {"code": code, "rows": rows, "out": out}


def test_students_named_like_course_folders_and_non_ascii_ids_are_graded(folders):
    assert folders["code"] == 0
    for student in ("submitted", "source", "zoë"):
        assert folders["rows"][student]["score"] == "8", folders["rows"][student]
    assert (folders["out"] / "feedback" / "zoë.md").is_file()


def test_linked_folders_are_refused_with_the_reason(folders):
    rows = folders["rows"]
    for student in ("linked_to_source", "linked_to_classmate"):
        assert (rows[student]["score"], rows[student]["status"]) == ("0", "invalid")
        assert "symbolic link" in rows[student]["reason"]
    assert "symbolic link" in rows["linked_assignment"]["reason"]
    assert rows["linked_assignment"]["score"] == "0"


def test_hidden_folders_are_listed_with_a_reason(folders):
    row = folders["rows"][".hidden"]
    assert row["status"] == "invalid" and "starts with '.'" in row["reason"]


def test_ids_a_spreadsheet_would_run_are_written_as_text(folders):
    rows = folders["rows"]
    assert {"'=SUM(A1:A9)", "'+1", "'@cmd"} <= set(rows)
    assert rows["'+1"]["score"] == "8" and rows["'=SUM(A1:A9)"]["score"] == "8"


def test_an_empty_batch_is_an_error_not_an_empty_success(tmp_path, capsys):
    (tmp_path / "subs" / "someone" / "not_an_assignment").mkdir(parents=True)
    code = cli.main([str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                        "--source", str(ROOT / "exercises" / "source")])
    assert code == 1
    assert "no submission found" in capsys.readouterr().err


def test_a_secret_file_that_does_not_exist_is_an_error_before_anything_is_graded(tmp_path, capsys):
    subs = tmp_path / "subs" / "someone" / ASSIGNMENT
    subs.mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "release" / ASSIGNMENT / NOTEBOOK, subs / NOTEBOOK)
    code = cli.main([str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--secret", str(tmp_path / "nope"),
                     "--source", str(ROOT / "exercises" / "source")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"the course secret {tmp_path / 'nope'} does not exist" in err and "--secret" in err
    assert not (tmp_path / "nope").exists() and not (tmp_path / "out" / "grades.csv").exists()


def test_unsafe_no_jail_says_so_on_every_row(tmp_path):
    if runner.plain_launcher_refusal():
        pytest.skip(runner.plain_launcher_refusal())
    subs = tmp_path / "subs" / "someone" / ASSIGNMENT
    subs.mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "source" / ASSIGNMENT / NOTEBOOK, subs / NOTEBOOK)
    code = cli.main([str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--unsafe-no-jail",
                        "--source", str(ROOT / "exercises" / "source"), "--timeout", "120"])
    assert code == 0
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["score"] == "8" and row["graded_in"].startswith("no jail (--unsafe-no-jail)")
    assert row["reason"].startswith("graded WITHOUT the jail")


def test_without_a_jail_the_grader_refuses_and_says_what_to_do(tmp_path, capsys, monkeypatch):
    from course.grading.trusted import jail

    monkeypatch.setattr(jail, "probe", lambda: "bubblewrap is not installed: apt-get install bubblewrap")
    (tmp_path / "subs").mkdir()
    code = cli.main([str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                        "--source", str(ROOT / "exercises" / "source")])
    err = capsys.readouterr().err
    assert code == 2
    assert "apt-get install bubblewrap" in err and "--unsafe-no-jail" in err
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_written_answers_are_pending_manual_grading_not_failed(tmp_path):
    import nbformat

    source_dir = tmp_path / "source"
    shutil.copytree(ROOT / "exercises" / "source" / ASSIGNMENT, source_dir / ASSIGNMENT)
    path = source_dir / ASSIGNMENT / NOTEBOOK
    notebook = nbformat.read(str(path), as_version=4)
    already = sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in notebook.cells
                  if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade"))
    question = nbformat.v4.new_markdown_cell("Why does the perceptron never separate XOR?\n\n"
                                             "=== BEGIN MARK SCHEME ===\nNo straight line does.\n=== END MARK SCHEME ===")
    question.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False, "points": 2,
                                     "grade_id": "why_not_xor", "schema_version": 3}
    notebook.cells.append(question)
    nbformat.write(notebook, str(path))
    subs = tmp_path / "subs" / "ann" / ASSIGNMENT
    subs.mkdir(parents=True)
    shutil.copy(path, subs / NOTEBOOK)
    code = cli.main([str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--source", str(source_dir),
                        "--timeout", "120"])
    assert code == 0
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["score"], row["max_score"], row["pending_manual"], row["status"]) == ("8", "8", f"{already + 2:g}", "ok")
    feedback = (tmp_path / "out" / "feedback" / "ann.md").read_text(encoding="utf-8")
    assert "| `why_not_xor` | pending | a written answer, graded by your instructor |" in feedback
    assert "| `why-xor` | pending | a written answer, graded by your instructor |" in feedback
    assert "failed" not in feedback


def test_each_result_reaches_on_result_as_it_ends_with_the_graded_notebook(tmp_path):
    from nbgrader.utils import determine_grade, is_grade
    import nbformat

    subs = tmp_path / "subs"
    for student in ("ann", "bob", "cy"):
        (subs / student / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "source" / ASSIGNMENT / NOTEBOOK, subs / "ann" / ASSIGNMENT / NOTEBOOK)
    shutil.copy(ROOT / "exercises" / "release" / ASSIGNMENT / NOTEBOOK, subs / "bob" / ASSIGNMENT / NOTEBOOK)
    seen = []
    results = runner.grade_batch(subs, tmp_path / "out", ROOT / "exercises" / "source",
                                 runner.Settings(timeout=120, jobs=2), ASSIGNMENT, on_result=seen.append)
    assert sorted(r.student for r in seen) == ["ann", "bob", "cy"] and len(results) == 3
    by_student = {r.student: r for r in seen}
    for student, points in (("ann", 8), ("bob", 0)):
        assert by_student[student].score == points
        notebook = nbformat.from_dict(by_student[student].notebook)   # as nbgrader would score it
        graded = [cell for cell in notebook.cells if is_grade(cell) and cell.cell_type == "code"]
        assert len(graded) == 8 and sum(determine_grade(cell)[0] for cell in graded) == points
        assert any(cell.cell_type == "markdown" for cell in notebook.cells)
    errors = [o for cell in nbformat.from_dict(by_student["bob"].notebook).cells if cell.cell_type == "code"
              for o in cell.outputs if o.output_type == "error"]
    assert any("not written yet" in o.evalue for o in errors)
    assert by_student["cy"].notebook is None   # missing: nothing was graded


def test_unsafe_no_jail_as_root_refuses_a_python_other_users_cannot_read(tmp_path, capsys, monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("only root drops the kernel to a user of its own")
    monkeypatch.setattr(runner, "_not_readable_by_others", lambda: "/root")
    (tmp_path / "subs").mkdir()
    code = cli.main([str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--unsafe-no-jail",
                        "--source", str(ROOT / "exercises" / "source")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot read the Python installation" in err and "/root (mode" in err
