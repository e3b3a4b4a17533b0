"""The batch grader's record: nbgrader's gradebook, written by one process.

``Store`` opens a course's ``gradebook.db`` (nbgrader's SQLite gradebook), makes sure the
assignments, notebooks and cells of the source folder are in it (as ``nbgrader
generate_assignment`` would), and commits each graded submission as it arrives: nbgrader's
``SaveAutoGrades`` scores the notebook whose test cells hold the trusted process's outputs,
``SaveCourseComments`` stores the grader's verdict, ``AssignLatePenalties`` the late penalty.
The autograded notebook is written to ``autograded/<student>/<assignment>/`` beside the
gradebook, where formgrader finds it.

Beside nbgrader's tables the gradebook holds one of the course's, ``course_result``: per
notebook, the fingerprint of what was graded (the submission and the source notebook), the
grader's status, reason and per-test results, and the run. A rerun skips a notebook whose
fingerprint is unchanged.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import sqlite3
import warnings
from dataclasses import asdict
from pathlib import Path

__all__ = ["Store", "fingerprint", "MISSING"]

MISSING = "missing"


def fingerprint(job, source_dir) -> str:
    """What a grade depends on: the submitted file, the source notebook, the points, the problem."""
    digest = hashlib.sha256()
    template_path = Path(source_dir) / job.template.assignment / job.template.notebook
    for path in (template_path, job.path):
        digest.update(Path(path).read_bytes() if path is not None and Path(path).is_file() else b"-")
        digest.update(b"\0")
    digest.update(json.dumps(job.template.tests and sorted(
        (g, c["metadata"]["nbgrader"]["points"]) for g, c in job.template.tests.items())).encode())
    digest.update(job.problem.encode())
    return digest.hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Store:
    """A course's gradebook, opened by the one process that writes it."""

    def __init__(self, db_path, source_dir, templates, settings_config=None, run: str = ""):
        from nbgrader.api import Gradebook

        self.db_path = Path(db_path).resolve()
        self.db_url = f"sqlite:///{self.db_path}"
        self.course_dir = self.db_path.parent
        self.source_dir = Path(source_dir)
        self.templates = templates
        self.run = run
        self.config = settings_config
        # nbgrader's own add_submission makes SQLAlchemy warn about its autoflush; it is harmless
        warnings.filterwarnings("ignore", message=".*not in session.*", module="nbgrader")
        warnings.filterwarnings("ignore", message=".*not in session.*")
        self.gradebook = Gradebook(self.db_url)   # first: it creates nbgrader's tables and version
        self.changes: list[dict] = []
        with sqlite3.connect(self.db_path) as db:
            db.execute("CREATE TABLE IF NOT EXISTS course_result (student TEXT, assignment TEXT, "
                       "notebook TEXT, fingerprint TEXT, result TEXT, run TEXT, graded_at TEXT, "
                       "PRIMARY KEY (student, assignment, notebook))")

    def close(self) -> None:
        self.gradebook.close()

    # -- the class: assignments, roster --------------------------------------------------------
    def add_assignments(self, names, duedates: dict | None = None) -> None:
        """Each assignment of the source folder, its notebooks and cells (as generate_assignment)."""
        import nbformat
        from nbgrader.preprocessors import ClearOutput, ClearSolutions, ComputeChecksums, SaveCells

        duedates = duedates or {}
        for assignment in names:
            templates = self.templates[assignment]
            kwargs = {"duedate": duedates[assignment]} if assignment in duedates else {}
            self.gradebook.update_or_create_assignment(assignment, **kwargs)
            for template in templates:
                nb = nbformat.read(str(self.source_dir / assignment / template.notebook), as_version=4)
                resources = {"nbgrader": {"assignment": assignment, "notebook": Path(template.notebook).stem,
                                          "db_url": self.db_url}}
                for step in (ClearSolutions(), ClearOutput(), ComputeChecksums()):
                    nb, resources = step.preprocess(nb, resources)
                try:
                    SaveCells().preprocess(nb, resources)
                except RuntimeError as error:
                    raise ValueError(f"{assignment}/{template.notebook}: {error}. Grade cells can change "
                                     f"their points and tests, but cells cannot be added or removed "
                                     f"once students submitted: start a new gradebook, or keep the cells") from None
                self.gradebook.db.commit()
        self.gradebook.db.expire_all()

    def add_roster(self, rows: list[dict]) -> None:
        for row in rows:
            row = {k: (v or None) for k, v in row.items()}
            student = row.pop("id")
            self.gradebook.update_or_create_student(student, **{k: v for k, v in row.items() if k in (
                "first_name", "last_name", "email", "lms_user_id")})

    def roster(self) -> list[str]:
        return sorted(s.id for s in self.gradebook.students)

    # -- resume ---------------------------------------------------------------------------------
    def known(self) -> dict[tuple[str, str, str], str]:
        with sqlite3.connect(self.db_path) as db:
            return {(s, a, n): f for s, a, n, f in db.execute(
                "SELECT student, assignment, notebook, fingerprint FROM course_result")}

    def results(self, students=None) -> list[dict]:
        with sqlite3.connect(self.db_path) as db:
            rows = [json.loads(r) for (r,) in db.execute("SELECT result FROM course_result")]
        return [r for r in rows if students is None or r["student"] in students]

    # -- one graded submission ------------------------------------------------------------------
    def commit(self, job, result, fingerprint_: str, timestamp=None) -> None:
        """Store one notebook's result in the gradebook, in one transaction of this process."""
        from nbgrader.api import MissingEntry

        student, assignment = result.student, result.assignment
        notebook = Path(result.notebook_name).stem
        gb = self.gradebook
        try:
            gb.find_student(student)
        except MissingEntry:
            gb.add_student(student)
        old = None
        try:
            old = gb.find_submission_notebook(notebook, assignment, student).score
        except MissingEntry:
            pass
        if timestamp is not None:
            gb.update_or_create_submission(assignment, student, timestamp=timestamp)
        else:
            gb.update_or_create_submission(assignment, student)
        if result.status in ("missing", "invalid"):
            submitted = gb.find_submission_notebook(notebook, assignment, student)
            for grade in submitted.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
            gb.db.commit()
            from .executor import store_verdict
            import nbformat
            store_verdict(gb, nbformat.v4.new_notebook(), student, assignment, notebook,
                          result.status, result.reason, result.jailed)
        else:
            self._score(job, result, notebook)
        new = gb.find_submission_notebook(notebook, assignment, student).score
        record = asdict(result)
        record.pop("notebook")       # the notebook's cells stay in autograded/; the record names it
        record["notebook"] = record.pop("notebook_name")
        with sqlite3.connect(self.db_path) as db:
            previous = db.execute("SELECT result FROM course_result WHERE student=? AND assignment=? "
                                  "AND notebook=?", (student, assignment, result.notebook_name)).fetchone()
            db.execute("INSERT OR REPLACE INTO course_result VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (student, assignment, result.notebook_name, fingerprint_, json.dumps(record),
                        self.run, _now().isoformat(timespec="seconds")))
        if previous is not None and old is not None and abs((old or 0) - (new or 0)) > 1e-9:
            before = json.loads(previous[0])
            self.changes.append({"student": student, "assignment": assignment, "notebook": result.notebook_name,
                                 "old": old, "new": new, "why": _why(before, record)})

    def _score(self, job, result, notebook: str) -> None:
        import nbformat
        from nbgrader.preprocessors import SaveAutoGrades

        from .executor import fill_notebook, store_verdict

        nb = self.assembled(job)
        nb = fill_notebook(nb, result)
        resources = {"nbgrader": {"student": result.student, "assignment": result.assignment,
                                  "notebook": notebook, "db_url": self.db_url}}
        SaveAutoGrades().preprocess(nb, resources)
        store_verdict(self.gradebook, nb, result.student, result.assignment, notebook,
                      result.status, result.reason, result.jailed)
        self.gradebook.db.expire_all()
        self._late(nb, resources)
        target = self.autograded(result.student, result.assignment, result.notebook_name)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        nbformat.write(nb, str(partial))
        os.replace(partial, target)

    def autograded(self, student: str, assignment: str, notebook_name: str) -> Path:
        """Where nbgrader's formgrader finds a graded notebook: ``autograded/<student>/<assignment>/``
        beside the gradebook. An id that cannot be a folder name (it came from a submission) gets a
        safe one (``inert.safe_filename``: a plain id is kept as it is)."""
        from course.grading.trusted.inert import safe_filename

        return self.course_dir / "autograded" / safe_filename(student) / safe_filename(assignment) / \
            safe_filename(notebook_name)

    def _late(self, nb, resources) -> None:
        """The student's extension into the gradebook, then nbgrader's late penalty."""
        from nbgrader.preprocessors import AssignLatePenalties

        from .late import GrantExtensions

        kwargs = {"config": self.config} if self.config is not None else {}
        GrantExtensions(**kwargs).preprocess(nb, resources)
        AssignLatePenalties(**kwargs).preprocess(nb, resources)
        self.gradebook.db.expire_all()

    def apply_late_penalty(self, job) -> None:
        """Apply the student's extension and the late penalty again to a notebook graded before
        (its score kept): an extension granted after grading needs no regrade."""
        import nbformat
        from nbgrader.api import MissingEntry

        notebook = Path(job.template.notebook).stem
        try:
            self.gradebook.find_submission_notebook(notebook, job.template.assignment, job.student)
        except MissingEntry:
            return
        resources = {"nbgrader": {"student": job.student, "assignment": job.template.assignment,
                                  "notebook": notebook, "db_url": self.db_url}}
        self._late(nbformat.v4.new_notebook(), resources)

    def assembled(self, job):
        """The notebook nbgrader scores: the source's cells (student version, with checksums) in
        the source's order, with the learner's answers where the submission has them."""
        import nbformat
        from nbgrader import utils
        from nbgrader.preprocessors import ClearOutput, ClearSolutions, ComputeChecksums

        source = nbformat.read(str(self.source_dir / job.template.assignment / job.template.notebook),
                               as_version=4)
        resources: dict = {}
        for step in (ClearSolutions(), ClearOutput(), ComputeChecksums()):
            source, resources = step.preprocess(source, resources)
        answers = {}
        try:
            submitted = json.loads(Path(job.path).read_bytes())
            for cell in submitted.get("cells", []):
                meta = (cell.get("metadata") or {}).get("nbgrader") or {}
                text = cell.get("source", "")
                if isinstance(meta, dict) and meta.get("grade_id") and (meta.get("solution") or meta.get("task")):
                    answers[meta["grade_id"]] = "".join(text) if isinstance(text, list) else str(text)
        except (OSError, ValueError, AttributeError, TypeError):
            pass
        for cell in source.cells:
            if utils.is_solution(cell) or utils.is_task(cell):
                grade_id = cell.metadata["nbgrader"]["grade_id"]
                if grade_id in answers:
                    cell.source = answers[grade_id]
        return copy.deepcopy(source)


def _why(before: dict, after: dict) -> str:
    old = {t["grade_id"]: t["points"] for t in before.get("tests", [])}
    new = {t["grade_id"]: t["points"] for t in after.get("tests", [])}
    moved = [f"{g} {old.get(g, 0):g} -> {new.get(g, 0):g}" for g in sorted(set(old) | set(new))
             if abs(old.get(g, 0) - new.get(g, 0)) > 1e-9]
    maxed = before.get("max_score") != after.get("max_score")
    parts = []
    if before.get("status") != after.get("status"):
        parts.append(f"status {before.get('status')} -> {after.get('status')}")
    if maxed:
        parts.append(f"points available {before.get('max_score'):g} -> {after.get('max_score'):g}")
    if moved:
        parts.append("tests: " + ", ".join(moved))
    return "; ".join(parts) or "written answers or late penalty"


def late_penalty(store, record: dict) -> float:
    from nbgrader.api import MissingEntry

    try:
        nb = store.gradebook.find_submission_notebook(Path(record["notebook"]).stem, record["assignment"],
                                                      record["student"])
    except MissingEntry:
        return 0.0
    return float(nb.late_submission_penalty or 0.0)
