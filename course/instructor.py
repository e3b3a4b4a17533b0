"""An instructor's private course directory: the notebooks with solutions and hidden tests,
nbgrader's settings and the course secret, kept outside the public repository.

    python -m course.instructor new PATH [--course-id ID] [--exchange DIR] [--owner USER]
    python -m course.instructor upgrade PATH            (or: new PATH --upgrade)

``new`` makes PATH (it must not exist, or be empty, and must lie outside the repository):

    PATH/nbgrader_config.py   course id, nbgrader's folders, the exchange, due dates,
                              and course.gradebook.config.configure(c) (jailed autograding)
    PATH/source/<assignment>/ a copy of the course's exercises/source (solutions, hidden tests)
    PATH/course_secret        64 hex digits, mode 0600: the hidden tests derive their inputs
                              from it, the student id and the test
    PATH/.course/pristine/    the notebooks exactly as installed, to compare an upgrade against

Releases are generated from it (``nbgrader generate_assignment`` in PATH, or formgrader's
"Generate" button); nothing in it is needed by students, and the folder is the owner's alone
(mode 0700).

``upgrade`` brings in the course's newer notebooks with a three-way comparison against the
pristine copy: a file the instructor left alone is replaced; a file only the instructor changed
is kept; where both changed a notebook, cell by cell (by cell id) the same rule holds, and each
cell changed on both sides is a conflict. A conflict keeps the instructor's version and puts
the newer one in ``PATH/upgrade-conflicts/`` (outside source/, so it is never released); each
one is reported.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import pwd
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["new_course", "upgrade_course", "UpgradeReport", "COURSE_SOURCE", "DEFAULT_EXCHANGE"]

REPOSITORY = Path(__file__).resolve().parents[1]
#: The course's notebooks with solutions and hidden tests, as the course ships them.
COURSE_SOURCE = REPOSITORY / "exercises" / "source"
DEFAULT_COURSE_ID = "how-a-neural-network-learns"
#: nbgrader's default exchange on a shared machine (JupyterHub's single-user servers see it).
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
PRISTINE = Path(".course") / "pristine"
CONFLICTS = "upgrade-conflicts"
SECRET_NAME = "course_secret"

CONFIG_TEMPLATE = '''"""nbgrader's settings for the course "{course_id}" (made by python -m course.instructor).

Run nbgrader in this folder, or open formgrader on JupyterHub:

    nbgrader generate_assignment 01_perceptron      source/ -> release/ (the student version)
    nbgrader release_assignment 01_perceptron       release/ -> the exchange (students fetch it)
    nbgrader collect 01_perceptron                  the exchange -> submitted/
    nbgrader autograde 01_perceptron                submitted/ -> autograded/ (jailed)
    nbgrader generate_feedback 01_perceptron        autograded/ -> feedback/
    nbgrader release_feedback 01_perceptron         feedback/ -> the exchange
    nbgrader export                                 grades.csv

Keep this folder private: source/ holds the solutions and hidden tests, course_secret the
secret the hidden tests derive their inputs from.
"""
c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + {db!r}

# The exchange: a folder every user of the machine (or the hub's shared volume) can reach.
c.Exchange.root = {exchange!r}
c.Exchange.timezone = {timezone!r}

# Due dates. nbgrader keeps them in the gradebook and marks late submissions against them.
# Fill in and run once the assignments exist (or set them in formgrader's "Manage Assignments"):
{due_dates}
# Late work loses points per day late once set (0 by default): c.PointsPerDay.points_per_day = 1

# What a learner finds in place of a solution: the standard nbgrader stub.
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ExecutePreprocessor.timeout = 60
c.Execute.timeout = 60

# Everything else the course needs: autograding through the jailed grader, the hidden tests
# cleared from feedback, ...
from course.gradebook.config import configure  # noqa: E402

configure(c)
'''


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _assignments(source: Path) -> list[str]:
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))


def _copy_source(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


def _chown_tree(path: Path, owner: str) -> None:
    entry = pwd.getpwnam(owner)
    for folder, dirs, files in os.walk(path):
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid)


def new_course(path: str | Path, course_id: str = DEFAULT_COURSE_ID, exchange: str = DEFAULT_EXCHANGE,
               owner: str | None = None, source: Path = COURSE_SOURCE, timezone: str = "UTC") -> Path:
    """Make the private course directory ``path`` (see the module's docstring); returns it.

    ``owner``: a system user to own it (root only), as on a JupyterHub where the instructor
    is a user of the machine."""
    path = Path(path).absolute()
    if _inside(path, REPOSITORY):
        raise ValueError(f"{path} lies inside the course's repository ({REPOSITORY}); a private course "
                         f"must live elsewhere, e.g. ~/courses/{course_id}")
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists and is not an empty folder; choose a new path, or bring "
                              f"in newer notebooks with: python -m course.instructor upgrade {path}")
    if not (source.is_dir() and _assignments(source)):
        raise FileNotFoundError(f"no assignments in {source}: expected exercises/source/<assignment>/")
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    _copy_source(source, path / "source")
    (path / PRISTINE).parent.mkdir(parents=True)
    _copy_source(source, path / PRISTINE)
    due = "\n".join(f'#   nbgrader db assignment add {name} --duedate="2027-01-31 23:59:00 {timezone}"'
                    for name in _assignments(source))
    (path / "nbgrader_config.py").write_text(CONFIG_TEMPLATE.format(
        course_id=course_id, root=str(path), db=str(path / "gradebook.db"), exchange=str(exchange),
        timezone=timezone, due_dates=due))
    secret = path / SECRET_NAME
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    if owner is not None:
        _chown_tree(path, owner)
    return path


# ---------------------------------------------------------------------------------------------
# upgrade: three-way comparison of the instructor's notebooks with the pristine and newer ones


@dataclass
class UpgradeReport:
    """What ``upgrade_course`` did, file by file (paths relative to source/)."""

    updated: list[str] = field(default_factory=list)  # replaced by the newer version
    added: list[str] = field(default_factory=list)  # new in the course
    kept: list[str] = field(default_factory=list)  # only the instructor changed it
    merged: list[str] = field(default_factory=list)  # both changed it, in different cells
    removed: list[str] = field(default_factory=list)  # gone from the course, unedited here
    conflicts: list[str] = field(default_factory=list)  # "file: what", the instructor's kept

    def lines(self) -> list[str]:
        out = []
        for label in ("updated", "added", "merged", "kept", "removed"):
            out += [f"{label:9} {name}" for name in getattr(self, label)]
        out += [f"CONFLICT  {what}" for what in self.conflicts]
        return out


def _cell_key(cell: dict) -> str:
    """What an upgrade compares in a cell: its kind, source and metadata (not its outputs)."""
    source = cell.get("source", "")
    return json.dumps([cell.get("cell_type"), "".join(source) if isinstance(source, list) else source,
                       cell.get("metadata", {})], sort_keys=True)


def _merge_notebooks(base: dict, mine: dict, new: dict, name: str) -> tuple[dict | None, list[str]]:
    """Three-way merge by cell id. Returns (merged notebook, conflicts); None where the cells
    were both added, removed or reordered on both sides (the whole file is a conflict)."""
    ids = {side: [c.get("id") for c in nb["cells"]] for side, nb in (("base", base), ("mine", mine), ("new", new))}
    if any(None in order or len(set(order)) != len(order) for order in ids.values()):
        return None, [f"{name}: cells without unique ids, compare by hand"]
    if ids["mine"] == ids["base"]:
        order, other = ids["new"], "new"  # the instructor only edited cells: the course's order
    elif ids["new"] == ids["base"]:
        order, other = ids["mine"], "mine"  # the course only edited cells: the instructor's order
    else:
        return None, [f"{name}: cells added, removed or moved both here and in the course"]
    cells = {side: {c["id"]: c for c in nb["cells"]} for side, nb in (("base", base), ("mine", mine), ("new", new))}
    merged, conflicts = [], []
    for cell_id in order:
        b, m, n = cells["base"].get(cell_id), cells["mine"].get(cell_id), cells["new"].get(cell_id)
        if b is None:  # added on one side only
            merged.append(n if other == "new" else m)
        elif _cell_key(m) == _cell_key(b):
            merged.append(n)
        elif _cell_key(n) == _cell_key(b) or _cell_key(n) == _cell_key(m):
            merged.append(m)
        else:
            merged.append(m)
            conflicts.append(f"{name}: cell {cell_id!r} changed here and in the course")
    for cell_id in set(ids["base"]) - set(order):  # removed on one side, edited on the other?
        b, edited = cells["base"][cell_id], cells["mine" if other == "new" else "new"].get(cell_id)
        if edited is not None and _cell_key(edited) != _cell_key(b):
            where = "removed in the course and changed here" if other == "new" else "removed here and changed in the course"
            conflicts.append(f"{name}: cell {cell_id!r} {where}")
    result = dict(new)
    result["metadata"] = mine.get("metadata", new.get("metadata", {}))
    result["cells"] = merged
    return result, conflicts


def upgrade_course(path: str | Path, source: Path = COURSE_SOURCE) -> UpgradeReport:
    """Bring the newer notebooks of ``source`` into the private course ``path`` (see the module's
    docstring). The pristine copy then holds ``source``'s version, ready for the next upgrade."""
    path = Path(path).absolute()
    pristine, current = path / PRISTINE, path / "source"
    if not pristine.is_dir() or not current.is_dir():
        raise FileNotFoundError(f"{path} is not a course made by `python -m course.instructor new` "
                                f"(expected {current} and {pristine})")
    report = UpgradeReport()
    conflicts_dir = path / CONFLICTS

    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*")
                if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts}

    def same(a: Path, b: Path) -> bool:
        return a.is_file() and b.is_file() and filecmp.cmp(a, b, shallow=False)

    def park(rel: str, origin: Path) -> None:
        target = conflicts_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin, target)

    for rel in sorted(files(source) | files(pristine)):
        b, m, n = pristine / rel, current / rel, source / rel
        if not n.exists():  # gone from the course
            if same(m, b):
                m.unlink()
                report.removed.append(rel)
            elif m.exists():
                report.kept.append(rel)
            continue
        if not b.exists():  # new in the course
            if not m.exists():
                m.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(n, m)
                report.added.append(rel)
            elif not same(m, n):
                park(rel, n)
                report.conflicts.append(f"{rel}: new in the course and already here; the course's is in {CONFLICTS}/")
            continue
        if same(n, b):
            if m.exists() and not same(m, b):
                report.kept.append(rel)
            continue
        if not m.exists():
            park(rel, n)
            report.conflicts.append(f"{rel}: deleted here and changed in the course; the course's is in {CONFLICTS}/")
            continue
        if same(m, b) or same(m, n):
            if not same(m, n):
                shutil.copy2(n, m)
                report.updated.append(rel)
            continue
        merged, problems = None, [f"{rel}: changed here and in the course"]
        if rel.endswith(".ipynb"):
            notebooks = [json.loads(p.read_text()) for p in (b, m, n)]
            merged, problems = _merge_notebooks(*notebooks, name=rel)
        if merged is not None:
            m.write_text(json.dumps(merged, indent=1, ensure_ascii=False) + "\n")
            report.merged.append(rel)
        if problems:
            park(rel, n)
            report.conflicts += [f"{p}; the course's version is in {CONFLICTS}/{rel}" for p in problems]
    shutil.rmtree(pristine)
    _copy_source(source, pristine)
    owner = current.stat()
    if os.geteuid() == 0:  # keep the instructor's ownership when root upgrades for them
        for folder in (current, pristine, conflicts_dir):
            for p in [folder, *folder.rglob("*")] if folder.exists() else []:
                os.chown(p, owner.st_uid, owner.st_gid)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.instructor", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    new = sub.add_parser("new", help="make a private course directory (or --upgrade one)")
    new.add_argument("path")
    new.add_argument("--course-id", default=DEFAULT_COURSE_ID)
    new.add_argument("--exchange", default=DEFAULT_EXCHANGE, help=f"nbgrader's exchange (default {DEFAULT_EXCHANGE})")
    new.add_argument("--timezone", default="UTC")
    new.add_argument("--owner", help="a system user to own the folder (run as root)")
    new.add_argument("--upgrade", action="store_true", help="bring newer course notebooks into PATH")
    up = sub.add_parser("upgrade", help="bring newer course notebooks into PATH, keeping your edits")
    up.add_argument("path")
    args = parser.parse_args(argv)
    try:
        if args.command == "upgrade" or args.upgrade:
            report = upgrade_course(args.path)
            print("\n".join(report.lines()) or "nothing to bring in: the course has not changed")
            if report.conflicts:
                print(f"{len(report.conflicts)} conflict(s): your version is kept; compare with "
                      f"{Path(args.path) / CONFLICTS} and edit source/ by hand", file=sys.stderr)
                return 3
            return 0
        path = new_course(args.path, args.course_id, args.exchange, args.owner, timezone=args.timezone)
    except (ValueError, FileExistsError, FileNotFoundError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"private course: {path}\n"
          f"  source/          the notebooks with solutions and hidden tests (edit them here)\n"
          f"  nbgrader_config.py   course id {args.course_id!r}, exchange {args.exchange}\n"
          f"  {SECRET_NAME}    the secret the hidden tests derive their inputs from (0600; keep it private)\n"
          f"next: cd {path} && nbgrader generate_assignment 01_perceptron")
    return 0


if __name__ == "__main__":
    sys.exit(main())
