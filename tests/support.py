"""Helpers of the tests: the processes a test started itself, file hashes, waiting for a condition,
reading notebooks and pictures, and what every figure must have.

The processes are the test's descendants, found through /proc parent links.

Tests never count processes machine-wide: other programs (another test run, a JupyterLab the
developer has open) may run kernels and graders at the same time. ``adopt_orphans()`` makes this
process a child subreaper, so that a process that double-forks or starts a new session stays a
descendant of the test that started it, instead of escaping to init.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> bool:
    """Become the subreaper of this process's descendants (Linux); False where impossible."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def own_descendants(root: int | None = None) -> list[tuple[int, str]]:
    """(pid, command line) of every living descendant of ``root`` (default: this process)."""
    root = os.getpid() if root is None else root
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] == "Z":  # a zombie has ended; its parent has not yet waited for it
            continue
        parents[int(entry.name)] = int(fields[1])
        commands[int(entry.name)] = command.strip()
    found = []
    for pid in parents:
        seen, up = set(), parents.get(pid)
        while up is not None and up not in seen and up > 1:
            if up == root:
                found.append((pid, commands[pid]))
                break
            seen.add(up)
            up = parents.get(up)
    return sorted(found)


def file_hashes(*folders: Path) -> dict[str, str]:
    """A digest of every file under the folders (links by their target, folders by their mode),
    leaving out __pycache__, which importing a module may write at any time."""
    digests = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if "__pycache__" in path.parts:
                continue
            if path.is_symlink():
                digests[str(path)] = "link to " + os.readlink(path)
            elif path.is_file():
                digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                digests[str(path)] = f"folder {oct(path.stat().st_mode)}"
    return digests


def wait_until(condition, timeout: float = 30.0, interval: float = 0.005) -> bool:
    """Wait for ``condition()`` to be true, checking every ``interval`` seconds; False when
    ``timeout`` seconds pass first. The timeout is generous: it only bounds a test that fails."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def load_notebook(path: Path) -> dict:
    """A notebook's JSON, as stored."""
    import json

    return json.loads(Path(path).read_text(encoding="utf-8"))


def png_pixels(png):
    """The (height, width, 4) uint8 RGBA pixels of PNG bytes (a dashboard's ``image.value``)."""
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(bytes(png))).convert("RGBA"))


def assert_readable(fig) -> None:
    """A title (axes or figure), labelled axes, and every labelled line named in a legend.

    Shared labels count: ``fig.supxlabel``/``supylabel``, and a legend of another panel (or of the
    figure) that names the same lines.
    """
    import io

    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    supx = fig._supxlabel.get_text() if fig._supxlabel is not None else ""
    supy = fig._supylabel.get_text() if fig._supylabel is not None else ""
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    named = {text.get_text() for legend in legends for text in legend.get_texts()}
    for ax in fig.axes:
        assert ax.get_title() or suptitle, "an axes without a title"
        assert ax.get_xlabel() or supx, f"axes {ax.get_title()!r} has no x label"
        assert ax.get_ylabel() or supy or not ax.get_yticks().size, f"axes {ax.get_title()!r} has no y label"
        labels = {line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")}
        if len(labels) > 1:
            assert labels <= named, f"axes {ax.get_title()!r}: lines {sorted(labels - named)} are in no legend"
    fig.savefig(io.BytesIO(), format="png", dpi=40)   # it draws without error


# -- the grader's tests: a course folder, a class, a batch through the command line ---------------
ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"


def course_folder(root: Path, assignments=("01_perceptron",), secret: str = "5e" * 32) -> Path:
    """An instructor's course folder ``root/course``: ``source/`` and ``release/`` of the
    assignments (None: every exercise), copied from the exercises, and a course secret
    (``course_secret``, hex)."""
    import shutil

    course = Path(root) / "course"
    if assignments is None:
        assignments = sorted(p.name for p in (EXERCISES / "source").iterdir() if p.is_dir())
    for version in ("source", "release"):
        for assignment in assignments:
            shutil.copytree(EXERCISES / version / assignment, course / version / assignment)
    (course / "course_secret").write_text(secret)
    return course


def hog_class(root: Path, cases=("cpu_hog",), victim: str = "victim") -> tuple[Path, Path]:
    """The perceptron course folder and a class: an honest ``victim`` (the solutions: 8 of 8)
    beside submissions of ``grading.unfair`` (``cpu_hog`` starts 16 busy processes).
    Returns (course folder, submissions folder)."""
    from grading import unfair

    course = course_folder(root, secret="b2" * 32)
    subs = Path(root) / "subs"
    unfair.write_case("honest", subs, EXERCISES, student=victim)
    for name in cases:
        unfair.write_case(name, subs, EXERCISES)
    return course, subs


def grade_with_cli(submissions: Path, out: Path, source: Path, settings, *extra: str) -> tuple[int, list]:
    """Grade as an instructor does, ``python -m course.grading SUBMISSIONS --out OUT`` (in this
    process, a temporary gradebook), with the limits of ``settings`` (``course.grading.Settings``).
    Returns the exit code and a Result per notebook, read back from ``OUT/results.json``."""
    import json

    from course.gradebook.cli import main
    from course.gradebook.reports import result_of

    argv = [str(submissions), "--out", str(out), "--source", str(source),
            "--timeout", f"{settings.timeout:g}", "--cell-timeout", f"{settings.cell_timeout:g}",
            "--memory", str(settings.memory_mb), "--jobs", str(settings.jobs), *extra]
    if not settings.jail:
        argv.append("--unsafe-no-jail")
    code = main(argv)
    try:
        records = json.loads((Path(out) / "results.json").read_text(encoding="utf-8"))["results"]
    except FileNotFoundError:
        records = []
    return code, [result_of(record) for record in records]


def assert_outcome(result, score: float, status: str, *words: str, max_score: float | None = None) -> None:
    """A graded notebook got ``score`` (of ``max_score``, where given) with ``status``, and its
    reason holds each of ``words``; a failure shows the reason."""
    got, want = (result.score, result.status), (score, status)
    if max_score is not None:
        got, want = (*got, result.max_score), (*want, max_score)
    assert got == want, result.reason
    for word in words:
        assert word in result.reason, (word, result.reason)
