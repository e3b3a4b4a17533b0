"""The jailed engine as nbgrader's executor.

nbgrader's ``autograde`` runs a submission with ``nbgrader.preprocessors.Execute``: the
learner's code and the tests share one kernel. ``JailedExecute`` takes its place in
``Autograde.autograde_preprocessors``: the submission goes to the course's grader
(``course.grading.grade_batch``), whose answers run in the jail while the tests run in the
trusted process, and the test cells of the notebook nbgrader then scores hold the outputs the
trusted process produced. nbgrader's own preprocessors that follow (``SaveAutoGrades``,
``AssignLatePenalties``) score and store it as usual, so a blank written answer scores 0 and a
written answer waits for the instructor in formgrader.

``SaveCourseComments`` (after ``SaveAutoGrades``) puts the grader's status and reason into the
gradebook: as the comment of the notebook's first answer cell (formgrader shows it) and as
nbgrader's ``flagged`` mark on the submitted notebook when the status is not ``ok``.
"""
from __future__ import annotations

import copy
import tempfile
from pathlib import Path

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode, from_dict
from traitlets import Bool, Float, Integer, Unicode

from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["JailedExecute", "SaveCourseComments", "fill_notebook", "course_comment", "RESOURCE"]

RESOURCE = "course_grading"   # resources[RESOURCE]: the grader's status, reason and whether jailed


def _not_run(why: str) -> dict:
    return {"output_type": "error", "ename": "NotRun", "evalue": why,
            "traceback": [f"NotRun: {why}"]}


def fill_notebook(nb: NotebookNode, result) -> NotebookNode:
    """Put the trusted process's outputs into the test cells of ``nb`` (matched by grade_id).

    A test cell the grader did not run (its time was up, the file was invalid) gets an error
    output, so nbgrader gives it 0. The outputs of the other cells are cleared: only what the
    trusted process produced is scored."""
    executed = result.notebook or {"cells": []}
    ran = {cell["metadata"]["nbgrader"]["grade_id"]: cell for cell in executed.get("cells", [])
           if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")}
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not (utils.is_grade(cell) and not utils.is_solution(cell)):
            continue
        grade_id = meta.get("grade_id")
        count += 1
        cell.execution_count = count
        if grade_id in ran:
            cell.outputs = [from_dict(copy.deepcopy(o)) for o in ran[grade_id].get("outputs") or []]
        else:
            cell.outputs = [from_dict(_not_run(f"not run: {result.status}"))]
    return nb


def course_comment(status: str, reason: str, jailed: bool) -> str:
    """The text formgrader shows for the grader's verdict on one notebook."""
    text = f"Grader: {status}" + (f". {reason}" if reason else "")
    if not jailed:
        text += " (graded WITHOUT the jail)"
    return text


class JailedExecute(NbGraderPreprocessor):
    """Grade the notebook with the course's jailed engine instead of running it in a kernel."""

    timeout = Float(300.0, help="Seconds for a whole notebook before its processes are killed.").tag(config=True)
    cell_timeout = Float(60.0, help="Seconds for one cell before it is interrupted.").tag(config=True)
    memory_mb = Integer(2048, help="MB of address space for the grading process and its kernel.").tag(config=True)
    unsafe_no_jail = Bool(False, help="Grade without the bubblewrap jail (the in-process guard only).").tag(config=True)
    source_directory = Unicode("", help="The instructor's source folder (default: CourseDirectory's "
                                        "source folder under its root).").tag(config=True)

    def _source(self) -> Path:
        if self.source_directory:
            return Path(self.source_directory).resolve()
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config)
        return Path(coursedir.root, coursedir.source_directory).resolve()

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        from nbformat import write
        from course.grading import Job, Settings, grade_batch, load_template

        student = resources["nbgrader"]["student"]
        assignment = resources["nbgrader"]["assignment"]
        notebook = resources["nbgrader"]["notebook"]
        source = self._source()
        template = load_template(source / assignment / f"{notebook}.ipynb", assignment)
        settings = Settings(timeout=self.timeout, cell_timeout=self.cell_timeout,
                            memory_mb=self.memory_mb, jobs=1, jail=not self.unsafe_no_jail)
        with tempfile.TemporaryDirectory(prefix="course-autograde-") as scratch:
            path = Path(scratch, "submissions", "student", assignment, f"{notebook}.ipynb")
            path.parent.mkdir(parents=True)
            write(nb, str(path))
            [result] = grade_batch(path.parents[2], Path(scratch, "out"), source, settings,
                                   jobs=[Job(student, template, path)])
        self.log.info("%s/%s/%s: %g of %g, %s %s", student, assignment, notebook, result.score,
                      result.max_score, result.status, result.reason)
        resources[RESOURCE] = {"status": result.status, "reason": result.reason, "jailed": result.jailed}
        return fill_notebook(nb, result), resources


class SaveCourseComments(NbGraderPreprocessor):
    """Store the grader's verdict in the gradebook: a comment and nbgrader's ``flagged`` mark."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        verdict = resources.get(RESOURCE)
        if not verdict:
            return nb, resources
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            store_verdict(gradebook, nb, info["student"], info["assignment"], info["notebook"], **verdict)
        return nb, resources


def store_verdict(gradebook, nb, student: str, assignment: str, notebook: str,
                  status: str, reason: str, jailed: bool) -> None:
    submitted = gradebook.find_submission_notebook(notebook, assignment, student)
    submitted.flagged = status != "ok" or not jailed
    answers = [cell for cell in nb.cells if utils.is_solution(cell) or utils.is_task(cell)]
    if answers:
        grade_id = answers[0].metadata["nbgrader"]["grade_id"]
        try:
            comment = gradebook.find_comment(grade_id, notebook, assignment, student)
        except MissingEntry:
            comment = None
        if comment is not None:
            own = comment.auto_comment if comment.auto_comment and not comment.auto_comment.startswith(
                "Grader:") else None
            text = course_comment(status, reason, jailed)
            comment.auto_comment = text + (f"\n\n{own}" if own else "")
    gradebook.db.commit()
