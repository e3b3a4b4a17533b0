"""A class on one machine: JupyterHub for an instructor and the students of a roster.

    python -m course.hub setup ROSTER [--state DIR] [--exchange DIR] [--course-id ID]
    python -m course.hub start [--state DIR] [--port 8000]          (make hub does both)
    python -m course.hub remove ROSTER [--state DIR] [--exchange DIR] --yes

Every member of the roster is a user of the machine (``useradd``), so that Unix permissions
keep each one's files to themselves: a home of mode 0700, and the instructor's private course
(``python -m course.instructor new``) in ``~/<course id>``. They log in with their own
password (JupyterHub's PAM authenticator, the machine's own login); ``setup`` sets one for
each member who has none and writes them to ``<state>/passwords.csv`` (mode 0600, root's) for
the instructor to hand out.

nbgrader's exchange is a shared folder (mode 1777, like /tmp: everyone may create, nobody may
remove another's files). The course's folder in it belongs to the instructor before any
student logs in, so nobody else can take the course id; nbgrader then makes ``inbound``
(students may write, not list) and ``outbound`` (everyone reads) there.

Each user's single-user server (``jupyterhub-singleuser``, from this environment, so the
course and its server extension are there) reads the configuration of its role from
``course/hub/roles/<role>/`` (``JUPYTER_CONFIG_PATH``): students get nbgrader's Assignments
tab and no formgrader; the instructor gets formgrader and the "Create Assignment" toolbar,
with the private course as the server's folder. Nothing is switched on or off in the
environment itself, so ``make lab`` stays as it is.
"""
from __future__ import annotations

import csv
import grp
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Member", "read_roster", "setup", "remove", "live_processes", "kill_and_wait", "process_state", "HERE", "ROLES", "DEFAULT_STATE", "DEFAULT_EXCHANGE"]

HERE = Path(__file__).resolve().parent
ROLES = ("instructor", "student")
DEFAULT_STATE = "/srv/course-hub"
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
DEFAULT_COURSE_ID = "how-a-neural-network-learns"
USERNAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Member:
    """One line of the roster: a user name of the machine, its role, and a password (or '')."""

    username: str
    role: str
    password: str = ""


def read_roster(path: str | Path) -> list[Member]:
    """The roster: a CSV file with a header ``username,role[,password]``; role is ``instructor``
    or ``student``; exactly one instructor. A clear error names the line that is wrong."""
    path = Path(path)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(line for line in f if line.strip() and not line.lstrip().startswith("#")))
    members, seen = [], set()
    for number, row in enumerate(rows, start=2):
        name = (row.get("username") or "").strip()
        role = (row.get("role") or "").strip().lower()
        if not USERNAME.match(name):
            raise ValueError(f"{path}, line {number}: {name!r} is not a user name of the machine "
                             f"(expected lower-case letters, digits, '-' or '_', at most 32, e.g. 'ada')")
        if role not in ROLES:
            raise ValueError(f"{path}, line {number}: role {role!r}; expected one of {', '.join(ROLES)}")
        if name in seen:
            raise ValueError(f"{path}, line {number}: {name!r} is in the roster twice")
        seen.add(name)
        members.append(Member(name, role, (row.get("password") or "").strip()))
    instructors = [m for m in members if m.role == "instructor"]
    if len(instructors) != 1:
        raise ValueError(f"{path}: {len(instructors)} instructors; expected exactly one (role 'instructor')")
    return members


def instructor_of(members: list[Member]) -> Member:
    return next(m for m in members if m.role == "instructor")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _run(*command: str, stdin: str | None = None) -> None:
    subprocess.run(command, input=stdin, text=True, check=True, capture_output=True)


def _require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise PermissionError(f"{what} makes users of the machine and must run as root (sudo)")


def course_root(member: Member, course_id: str) -> Path:
    """Where the instructor's private course lives: ``~instructor/<course id>``."""
    return Path(pwd.getpwnam(member.username).pw_dir) / course_id


def _closed_folders() -> list[Path]:
    """The folders on the way to this environment's Python (and to the course) that other users
    may not pass through: a pyenv under /root, for example."""
    targets = [Path(sys.executable).resolve(), Path(sys.prefix), HERE]
    closed = []
    for target in targets:
        for folder in reversed(target.parents):
            if not folder.stat().st_mode & 0o001 and folder not in closed:
                closed.append(folder)
    return closed


def _grant_passage(members: list[Member], log=print) -> list[Path]:
    """Let the roster's users (and no one else) pass through the closed folders on the way to
    this environment: an access-control entry "search only" per user (setfacl, Debian: acl).
    Nothing in those folders becomes readable; ``remove`` takes the entries away."""
    closed = _closed_folders()
    if not closed:
        return []
    if not shutil.which("setfacl"):
        raise PermissionError(
            f"the roster's users cannot reach this environment's Python ({sys.executable}): "
            f"{', '.join(map(str, closed))} may not be passed by other users. Install the course in a "
            f"folder everyone can read (e.g. python3 -m venv /opt/nn-course), or install acl "
            f"(apt-get install acl) to let the class's users pass")
    for folder in closed:
        for member in members:
            _run("setfacl", "-m", f"u:{member.username}:x", str(folder))
        log(f"the class's users may pass through {folder} (search only, setfacl) to reach the course's Python")
    return closed


def setup(roster: str | Path, state: str | Path = DEFAULT_STATE, exchange: str | Path = DEFAULT_EXCHANGE,
          course_id: str = DEFAULT_COURSE_ID, log=print) -> list[Member]:
    """Make the roster's users, the exchange, the instructor's private course and the hub's
    state folder (see the module's docstring). Running it again adds new members only."""
    _require_root("python -m course.hub setup")
    from course.instructor import new_course

    members = read_roster(roster)
    state, exchange = Path(state), Path(exchange)
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o700)
    passwords = state / "passwords.csv"
    known = {}
    if passwords.exists():
        known = {row["username"]: row["password"] for row in csv.DictReader(passwords.open())}
    for member in members:
        if not _user_exists(member.username):
            _run("useradd", "--create-home", "--user-group", "--shell", "/bin/bash", member.username)
            log(f"user {member.username} ({member.role}) made")
        home = Path(pwd.getpwnam(member.username).pw_dir)
        home.chmod(0o700)
        password = member.password or known.get(member.username) or secrets.token_urlsafe(9)
        _run("chpasswd", stdin=f"{member.username}:{password}\n")
        known[member.username] = password
    fd = os.open(passwords, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["username", "role", "password"])
        writer.writerows([m.username, m.role, known[m.username]] for m in members)
    (state / "roster.csv").write_text(Path(roster).read_text())

    _grant_passage(members, log)

    teacher = instructor_of(members)
    entry = pwd.getpwnam(teacher.username)
    exchange.mkdir(parents=True, exist_ok=True)
    exchange.chmod(0o1777)
    (exchange / course_id).mkdir(exist_ok=True)
    os.chown(exchange / course_id, entry.pw_uid, entry.pw_gid)
    (exchange / course_id).chmod(0o755)
    root = course_root(teacher, course_id)
    if not root.exists():
        new_course(root, course_id=course_id, exchange=str(exchange), owner=teacher.username)
        log(f"private course {root} made for {teacher.username}")
    settings = {"course_id": course_id, "exchange": str(exchange), "roster": str(state / "roster.csv")}
    (state / "course.env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    log(f"passwords for the class: {passwords} (root only; hand them out)")
    return members


def read_settings(state: str | Path) -> dict[str, str]:
    """What ``setup`` recorded in ``<state>/course.env`` for the hub's configuration."""
    path = Path(state) / "course.env"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m course.hub setup ROSTER --state {state}` first")
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def remove(roster: str | Path, state: str | Path = DEFAULT_STATE, exchange: str | Path = DEFAULT_EXCHANGE,
           log=print) -> None:
    """Remove the roster's users with their homes (the instructor's course too), the exchange
    and the hub's state. For a test or a finished demo: nothing of the class is kept."""
    _require_root("python -m course.hub remove")
    members = read_roster(roster)
    if shutil.which("setfacl"):
        for folder in _closed_folders():
            for member in members:
                subprocess.run(["setfacl", "-x", f"u:{member.username}", str(folder)], capture_output=True)
    for member in members:
        if _user_exists(member.username):
            uid = pwd.getpwnam(member.username).pw_uid  # userdel refuses a user who still has processes
            left = kill_and_wait(lambda: live_processes({uid}))
            if left:
                log(f"user {member.username}: processes {left} outlived SIGKILL for 20 s")
            subprocess.run(["userdel", "--remove", member.username], capture_output=True)
            log(f"user {member.username} removed")
        try:
            grp.getgrnam(member.username)
            subprocess.run(["groupdel", member.username], capture_output=True)
        except KeyError:
            pass
    for folder in (Path(exchange), Path(state)):
        shutil.rmtree(folder, ignore_errors=True)


def process_state(pid: int) -> str | None:
    """The one-letter state of a process from ``/proc/PID/stat`` (R, S, D, Z, ...), or None when
    it is gone. The line is "pid (command) state ...", and the command may hold spaces or ')'."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return None


def live_processes(uids: set[int], session: int | None = None) -> list[int]:
    """The processes that belong to one of ``uids`` (or run in ``session``) and have not exited.
    A zombie (state Z: exited, waiting for its parent to collect it) holds nothing and is left
    out; on a machine whose init is slow to collect orphans it can stay listed for a while."""
    ids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            ours = entry.stat().st_uid in uids or (session is not None and os.getsid(pid) == session)
        except OSError:
            continue
        if ours and process_state(pid) not in (None, "Z"):
            ids.append(pid)
    return ids


def kill_and_wait(find, timeout: float = 20) -> list[int]:
    """SIGKILL the processes ``find()`` lists, again and again, until it lists none (a process
    can start another while it is being killed). Returns those still there after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        left = find()
        if not left or time.monotonic() > deadline:
            return left
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)


def start(state: str | Path = DEFAULT_STATE, port: int = 8000, ip: str = "127.0.0.1") -> int:
    """Run JupyterHub with ``course/hub/jupyterhub_config.py`` until it is stopped."""
    _require_root("python -m course.hub start")
    read_settings(state)
    env = dict(os.environ, COURSE_HUB_STATE=str(state), COURSE_HUB_PORT=str(port), COURSE_HUB_IP=ip)
    command = [str(Path(sys.executable).with_name("jupyterhub")), "-f", str(HERE / "jupyterhub_config.py")]
    return subprocess.call(command, env=env, cwd=state)
