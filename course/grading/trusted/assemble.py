"""Read a submitted notebook and build the list of cells the grader runs.

The grader trusts only the instructor's source notebook. From the submission it takes the
learner's answers (the solution cells) and any cells the learner added; every setup cell and
every test cell, hidden tests included, comes from the source. So a deleted, edited or
re-labelled test cell changes nothing, and points come from the source's metadata alone.

    read_cells(raw_bytes) -> list[Cell]           parse a submission (nbformat 4, or 3)
    merge(template, cells) -> (to_run, notes)      the cells to execute, in the source's order

Matching a submitted cell to a source cell uses its nbgrader ``grade_id``. Cells whose metadata
was stripped (copied into a new notebook, say) are matched by content and position against
the student version of the notebook, as ``difflib`` aligns two texts: unchanged cells
anchor the alignment, and each changed cell between two anchors is taken as the answer of the
answer cell at the same place.

Standard library only (json, difflib): this runs in the grading process of one submission.
"""
from __future__ import annotations

import difflib
import json
from typing import NamedTuple

__all__ = ["NotebookError", "Cell", "read_cells", "merge", "RunCell"]


class NotebookError(ValueError):
    """The submitted file is not a notebook the grader can read; the message says why."""


class Cell(NamedTuple):
    cell_type: str          # 'code', 'markdown' or 'raw'
    source: str
    grade_id: str | None    # nbgrader's grade_id, when the cell still has its metadata


class RunCell(NamedTuple):
    source: str
    role: str               # 'setup', 'solution', 'test' or 'extra' (a cell the learner added)
    grade_id: str | None
    index: int | None = None  # the source notebook's cell it stands for (None: a learner's extra)


def _text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "".join(value)
    raise NotebookError(f"a cell's source must be text or a list of lines, got {type(value).__name__}")


def _grade_id(metadata) -> str | None:
    if not isinstance(metadata, dict):
        return None
    nbgrader = metadata.get("nbgrader")
    if not isinstance(nbgrader, dict):
        return None
    grade_id = nbgrader.get("grade_id")
    return grade_id if isinstance(grade_id, str) and grade_id else None


def read_cells(raw: bytes) -> list[Cell]:
    """The cells of a notebook file's bytes; NotebookError says why the file cannot be read."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise NotebookError(f"the file is not UTF-8 text ({error.reason} at byte {error.start}): "
                            f"it is not a saved notebook") from None
    except json.JSONDecodeError as error:
        raise NotebookError(f"the file is not valid JSON (line {error.lineno}, column {error.colno}: "
                            f"{error.msg}): it is not a saved notebook, or it was cut short") from None
    except RecursionError:
        raise NotebookError("the file's JSON is nested too deeply to be a notebook") from None
    if not isinstance(data, dict):
        raise NotebookError(f"the file holds a JSON {type(data).__name__}, not a notebook (a JSON "
                            f"object with 'cells')")
    version = data.get("nbformat")
    if version == 4:
        raw_cells = data.get("cells")
        source_key = "source"
    elif version == 3:
        worksheets = data.get("worksheets")
        if not isinstance(worksheets, list):
            raise NotebookError("an nbformat 3 notebook needs a list of 'worksheets'")
        raw_cells = [c for w in worksheets if isinstance(w, dict) for c in (w.get("cells") or [])]
        source_key = None
    else:
        raise NotebookError(f"the notebook format is nbformat {version!r}; the grader reads "
                            f"nbformat 4 (and 3). Save it again from JupyterLab")
    if not isinstance(raw_cells, list):
        raise NotebookError("the notebook has no list of 'cells'")
    cells = []
    for position, cell in enumerate(raw_cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f"cell {position + 1} is not a cell (an object with a 'cell_type')")
        cell_type = cell["cell_type"]
        key = source_key or ("input" if cell_type == "code" else "source")
        try:
            source = _text(cell.get(key, ""))
        except NotebookError as error:
            raise NotebookError(f"cell {position + 1}: {error}") from None
        if cell_type == "heading":  # nbformat 3
            cell_type = "markdown"
        cells.append(Cell(cell_type, source, _grade_id(cell.get("metadata"))))
    return cells


def _key(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def merge(template: list[dict], cells: list[Cell], texts: dict | None = None) -> tuple[list[RunCell], list[str]]:
    """The cells to execute for a submission, and notes for the instructor.

    template: the source notebook, one dict per cell with the keys 'role' ('markdown', 'setup',
    'solution' or 'test'), 'cell_type', 'grade_id', 'source' (what the grader runs: the
    solution for solution cells is NOT included, the stub is) and 'visible' (the student
    version of the cell, as released).
    cells: the submission's cells (``read_cells``).
    texts: when given, receives the learner's text of each matched markdown or raw cell
    (source position -> text), for the graded notebook.
    """
    notes: list[str] = []
    known = {t["grade_id"]: k for k, t in enumerate(template) if t.get("grade_id")}
    match: dict[int, int] = {}          # submission position -> template position
    taken: set[int] = set()
    for position, cell in enumerate(cells):
        k = known.get(cell.grade_id) if cell.grade_id else None
        if k is None or k in taken:
            continue
        if template[k]["cell_type"] == cell.cell_type:
            match[position] = k
            taken.add(k)
        elif template[k]["role"] == "solution" and cell.cell_type in ("markdown", "raw"):
            # an answer cell switched to markdown by a slip of the keyboard: nbgrader runs it as code
            match[position] = k
            taken.add(k)
            notes.append(f"answer cell '{cell.grade_id}' was a {cell.cell_type} cell: graded as code, "
                         f"as nbgrader does")

    # Cells that lost their metadata: align the rest by content and position.
    by_content = 0
    free_cells = [p for p in range(len(cells)) if p not in match]
    free_template = [k for k in range(len(template)) if k not in taken]
    if free_cells and free_template:
        matcher = difflib.SequenceMatcher(
            None, [_key(template[k]["visible"]) for k in free_template],
            [_key(cells[p].source) for p in free_cells], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag not in ("equal", "replace"):
                continue
            for i, j in zip(range(i1, i2), range(j1, j2)):
                k, p = free_template[i], free_cells[j]
                # a changed cell stands for an answer only; a changed copy of a test stays the
                # learner's own cell (and runs), the original test runs anyway
                if template[k]["cell_type"] == cells[p].cell_type and (
                        tag == "equal" or template[k]["role"] == "solution"):
                    match[p] = k
                    taken.add(k)
                    by_content += template[k]["role"] == "solution" and cells[p].grade_id is None
    if by_content:
        notes.append(f"{by_content} answer cell(s) had no nbgrader metadata and were matched to "
                     f"the assignment by position")

    # The learner's own extra code cells run just before the next matched cell that follows them.
    extras_before: dict[int, list[str]] = {}
    trailing: list[str] = []
    pending: list[str] = []
    for position, cell in enumerate(cells):
        if position in match:
            extras_before.setdefault(match[position], []).extend(pending)
            pending = []
        elif cell.cell_type == "code" and cell.source.strip():
            pending.append(cell.source)
    trailing.extend(pending)
    # extras attached to a markdown cell run before the next code cell of the template
    carry: list[str] = []
    answers = {k: cells[p].source for p, k in match.items()}
    if texts is not None:
        texts.update({k: source for k, source in answers.items() if template[k]["role"] == "markdown"})

    to_run: list[RunCell] = []
    for k, entry in enumerate(template):
        carry.extend(extras_before.get(k, []))
        role, grade_id = entry["role"], entry.get("grade_id")
        if role == "markdown":
            continue
        to_run.extend(RunCell(source, "extra", None) for source in carry)
        carry = []
        name = grade_id or f"cell {k + 1}"
        if role == "solution":
            if k in answers:
                to_run.append(RunCell(answers[k], "solution", grade_id, k))
            else:
                notes.append(f"answer cell '{name}' is missing (deleted?): graded as left empty")
                to_run.append(RunCell(entry["visible"], "solution", grade_id, k))
            continue
        if k not in answers:
            notes.append(f"{'test' if role == 'test' else 'read-only'} cell '{name}' was deleted: "
                         f"the original was run")
        elif _key(answers[k]) not in (_key(entry["visible"]), _key(entry["source"])):
            notes.append(f"{'test' if role == 'test' else 'read-only'} cell '{name}' was edited: "
                         f"the original was run")
        to_run.append(RunCell(entry["source"], role, grade_id, k))
    to_run.extend(RunCell(source, "extra", None) for source in carry + trailing)
    return to_run, notes
