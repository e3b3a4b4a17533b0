"""The course's JupyterHub on this machine, measured (root: it makes users of the machine).

    sudo .venv/bin/python benchmarks/bench_hub.py [--students 3] [--no-round] [--no-make]

Prints
- seconds from ``make hub`` (the Makefile target as an instructor types it, with a roster of
  throw-away users, a state folder and an exchange in a temporary folder and a free port) to a
  logged-in student's JupyterLab in Chromium; the users are removed afterwards;
- seconds from starting the hub (setup of the users, exchange and private course included) to a
  logged-in student's JupyterLab in Chromium;
- the browser round (tests/browser/test_hub_round.py) run in its own process: wall time, the CPU
  seconds of the processes it started (every descendant that was waited for: pytest, the hub,
  the proxy, the users' servers, kernels and the grader's jails) and the load average before and
  after;
- memory per idle student server (PSS and RSS of every process the student owns, JupyterLab
  open in the browser, no kernel), and per student with one kernel that imported the course;
  from these, how many students one 24 GB machine holds;
- the users of the machine and their processes that outlived the run (it should be none).
"""
from __future__ import annotations

import argparse
import os
import pwd
import resource
import secrets
import shutil
import signal
import tempfile
import urllib.request
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course.hub import live_processes, remove  # noqa: E402
from course.hub.running import TemporaryClass, free_port  # noqa: E402
from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.test_hub_round import User  # noqa: E402

GB = 1024 ** 3


def memory_of(uid: int) -> tuple[int, int, int]:
    """(PSS, RSS, number of processes) of every process of the user ``uid``, in bytes."""
    pss = rss = count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            for line in (entry / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
            count += 1
        except (OSError, ValueError):
            continue
    return pss, rss, count


class MadeClass:
    """The class ``make hub`` started, as the browser round's ``User`` sees a class."""

    def __init__(self, prefix: str, names: list[str], port: int):
        self.names = {name: f"{prefix}{name}" for name in names}
        self.passwords = {name: secrets.token_urlsafe(12) for name in names}
        self.port = port

    def user(self, name: str) -> str:
        return self.names[name]

    def password(self, name: str) -> str:
        return self.passwords[name]

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"


def measure_make(timeout: float = 600) -> None:
    """``make hub`` as typed, to a student's JupyterLab; then the hub stopped and the users removed."""
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="course-hub-make-"))
    folder.chmod(0o755)
    cls = MadeClass("m" + secrets.token_hex(3), ["teacher", "s0"], free_port())
    roster, state, exchange = folder / "roster.csv", folder / "state", folder / "exchange"
    roster.write_text("username,role,password\n" + "".join(
        f"{cls.user(n)},{'instructor' if n == 'teacher' else 'student'},{cls.password(n)}\n" for n in cls.names))
    env = dict(os.environ, COURSE_HUB_API_PORT=str(free_port()), COURSE_HUB_PROXY_API_PORT=str(free_port()))
    log = folder / "make-hub.log"
    started = time.perf_counter()
    make = subprocess.Popen(["make", "--no-print-directory", "hub", f"ROSTER={roster}", f"HUB_STATE={state}",
                             f"HUB_EXCHANGE={exchange}", f"HUB_PORT={cls.port}"],
                            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while True:
            if make.poll() is not None:
                raise SystemExit(f"make hub stopped ({make.returncode}):\n{log.read_text()[-3000:]}")
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"make hub did not answer in {timeout:.0f} s:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(cls.url("hub/api/"), timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        answering = time.perf_counter() - started
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                User(browser, cls, "s0").login()
                to_lab = time.perf_counter() - started
            finally:
                browser.close()
        print(f"make hub (setup of the users, exchange and private course, then JupyterHub) to answering: "
              f"{answering:.1f} s")
        print(f"make hub to a logged-in student's JupyterLab (Chromium): {to_lab:.1f} s")
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(make.pid, sig)
                make.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        remove(roster, state, exchange, log=lambda *a: None)
        shutil.rmtree(folder, ignore_errors=True)


def measure_class(students: int) -> None:
    from playwright.sync_api import sync_playwright

    names = ["teacher"] + [f"s{i}" for i in range(students)]
    cls = TemporaryClass(names, course_id="nn-bench")
    try:
        started = time.perf_counter()
        cls.start()
        hub_up = time.perf_counter() - started
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                first = User(browser, cls, "s0")
                first.login()
                to_lab = time.perf_counter() - started
                print(f"hub start (users, exchange, private course, JupyterHub) to answering: {hub_up:.1f} s")
                print(f"hub start to a logged-in student's JupyterLab (Chromium): {to_lab:.1f} s")
                users = [first]
                for name in names[2:]:
                    user = User(browser, cls, name)
                    user.login()
                    users.append(user)
                time.sleep(20)  # let the servers settle: idle, JupyterLab open, no kernel
                idle = [memory_of(pwd.getpwnam(u.user).pw_uid) for u in users]
                users[0].python("import numpy, matplotlib, course, course.grading.checks; print('ok')")
                time.sleep(5)
                busy = memory_of(pwd.getpwnam(users[0].user).pw_uid)
            finally:
                browser.close()
        pss = sorted(m[0] for m in idle)
        median = pss[len(pss) // 2]
        print(f"idle student server (JupyterLab open, no kernel), {len(idle)} students: "
              f"PSS {', '.join(f'{m[0] / 2**20:.0f}' for m in idle)} MiB; "
              f"RSS {', '.join(f'{m[1] / 2**20:.0f}' for m in idle)} MiB; {idle[0][2]} processes each")
        print(f"one student with a kernel that imported the course: PSS {busy[0] / 2**20:.0f} MiB, "
              f"RSS {busy[1] / 2**20:.0f} MiB ({busy[2]} processes)")
        usable = 24 * GB - 2 * GB  # the system, the hub and the proxy, the instructor's grading
        print(f"one 24 GB machine (2 GB kept for the system, hub and grading): "
              f"{int(usable // median)} idle students, {int(usable // busy[0])} students each with a kernel running")
    finally:
        cls.stop()


def measure_round() -> None:
    load_before = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                             "tests/browser/test_hub_round.py"], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_after = os.getloadavg()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"browser round: {result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-300:]}")
    print(f"browser round: wall {wall:.0f} s, CPU {cpu:.0f} s in the processes it started "
          f"({cpu / wall:.2f} cores on average); load average before "
          f"{' '.join(f'{x:.2f}' for x in load_before)}, after {' '.join(f'{x:.2f}' for x in load_after)} "
          f"(1, 5, 15 min; {os.cpu_count()} CPUs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--no-round", action="store_true", help="skip the browser round")
    parser.add_argument("--no-make", action="store_true", help="skip the time from `make hub`")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_hub.py makes users of the machine: run it as root", file=sys.stderr)
        return 2
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    users_before = {entry.pw_name for entry in pwd.getpwall()}
    if not args.no_make:
        measure_make()
    measure_class(args.students)
    if not args.no_round:
        measure_round()
    left = sorted({entry.pw_name for entry in pwd.getpwall()} - users_before)
    left_uids = {pwd.getpwnam(name).pw_uid for name in left}
    print(f"users of the machine left behind: {len(left)}{' ' + ', '.join(left) if left else ''}; "
          f"their processes: {len(live_processes(left_uids))}")
    return 0 if not left else 1


if __name__ == "__main__":
    sys.exit(main())
