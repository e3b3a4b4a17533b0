"""A throw-away class on this machine: the roster's users, the exchange, the private course and
a running JupyterHub, all removed again on ``stop()`` (the browser round test and
``benchmarks/bench_hub.py`` use it). Root only: it makes users of the machine.

    with TemporaryClass(["teacher", "ada", "alan"]) as cls:   # user names get a random prefix
        cls.url("hub/login"), cls.password("ada"), cls.processes()
"""
from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from course.hub import HERE, live_processes, process_state, read_settings, remove, setup

__all__ = ["TemporaryClass", "free_port"]


def free_port() -> int:
    """A port the OS says is free now (bound to port 0, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TemporaryClass:
    """An instructor (the first name) and students (the rest), as users ``<prefix><name>``."""

    def __init__(self, names: list[str], course_id: str = "nn-demo", log=lambda *a: None):
        self.prefix = "c" + secrets.token_hex(3)
        self.names = {name: f"{self.prefix}{name}" for name in names}
        self.instructor = self.names[names[0]]
        self.course_id = course_id
        self.log = log
        self.folder = Path(tempfile.mkdtemp(prefix="course-hub-"))
        self.folder.chmod(0o755)
        self.state = self.folder / "state"
        self.exchange = self.folder / "exchange"
        self.roster = self.folder / "roster.csv"
        self.passwords = {user: secrets.token_urlsafe(12) for user in self.names.values()}
        self.process: subprocess.Popen | None = None
        self.uids: set[int] = set()
        self.port = 0
        self.hub_log = self.folder / "jupyterhub.log"

    def user(self, name: str) -> str:
        return self.names[name]

    def password(self, name: str) -> str:
        return self.passwords[self.names[name]]

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def course_root(self) -> Path:
        return Path("/home") / self.instructor / self.course_id

    def start(self, timeout: float = 240) -> "TemporaryClass":
        rows = [f"{user},{'instructor' if user == self.instructor else 'student'},{self.passwords[user]}"
                for user in self.names.values()]
        self.roster.write_text("username,role,password\n" + "\n".join(rows) + "\n")
        setup(self.roster, self.state, self.exchange, self.course_id, log=self.log)
        read_settings(self.state)
        self.uids = {pwd.getpwnam(user).pw_uid for user in self.names.values()}
        for attempt in range(3):  # another program may take a port between asking and binding
            if self._launch(timeout):
                return self
            self._terminate()
        raise RuntimeError(f"JupyterHub could not bind its ports:\n{self.hub_log.read_text()[-3000:]}")

    def _launch(self, timeout: float) -> bool:
        self.port = free_port()
        env = dict(os.environ, COURSE_HUB_STATE=str(self.state), COURSE_HUB_PORT=str(self.port),
                   COURSE_HUB_API_PORT=str(free_port()), COURSE_HUB_PROXY_API_PORT=str(free_port()))
        command = [str(Path(sys.executable).with_name("jupyterhub")), "-f", str(HERE / "jupyterhub_config.py")]
        with self.hub_log.open("wb") as out:
            self.process = subprocess.Popen(command, env=env, cwd=self.state, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "EADDRINUSE" in self.hub_log.read_text(errors="replace"):
                return False
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterHub stopped at start:\n{self.hub_log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url("hub/api/"), timeout=5) as answer:
                    if answer.status == 200:
                        return True
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"JupyterHub did not answer in {timeout} s:\n{self.hub_log.read_text()[-3000:]}")

    def processes(self) -> list[int]:
        """The live processes this class started: the hub and its proxy (the hub's session), and
        every process of its users. Zombies, already exited, are not counted."""
        return live_processes(self.uids, self.process.pid if self.process else None)

    def describe(self, pids: list[int]) -> str:
        """One line per process: its id, state, user id and command line (for a failure message)."""
        lines = []
        for pid in pids:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                lines.append(f"{pid} {process_state(pid)} uid={Path(f'/proc/{pid}').stat().st_uid} {command[:200]}")
            except OSError:
                lines.append(f"{pid} gone")
        return "\n".join(lines)

    def _terminate(self) -> None:
        """Stop the hub and everything in its session (the proxy)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=30)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def stop(self, timeout: float = 30) -> None:
        """Stop the hub, its proxy and every user's server, and remove users, homes and folders.
        Returns once none of the class's processes is alive, or after ``timeout`` seconds."""
        self._terminate()
        if self.roster.exists():
            remove(self.roster, self.state, self.exchange, log=self.log)
        shutil.rmtree(self.folder, ignore_errors=True)
        deadline = time.monotonic() + timeout
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.2)

    def __enter__(self) -> "TemporaryClass":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
