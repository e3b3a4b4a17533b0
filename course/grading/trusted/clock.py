"""A cell's time limit in the submission's own CPU time, where no cgroup gives it a CPU share.

Without a cgroup, a classmate's busy processes share the CPUs with this submission, and a cell
limit in wall time would stop a correct cell that only waited for its turn. So the limit is an
allowance of CPU time, counted over this submission's processes alone: the trusted process
(where the test cells run) and every process below it, the jail and all the jail holds. In the
jail's PID namespace an orphan is adopted by the jail's own init, so a child the learner
forked and left behind is still counted; a process that has ended is counted in its parent's
``cutime``. Only the grader reads these numbers (``/proc/<pid>/stat``, from outside the jail):
nothing the submission does can change them but using CPU.

A generous wall-clock backstop (``GradingJob.cell_wall_factor`` times the limit) still stops a
cell that sleeps or waits for ever.
"""
from __future__ import annotations

import os
import time

__all__ = ["tree_cpu_seconds", "CellClock"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(n) for n in handle.read().split()]
        except (OSError, ValueError):
            pass
    return found


def tree_cpu_seconds(root: int | None = None) -> float:
    """CPU seconds (user and system) of process ``root`` (default: this one), of every process
    below it, and of the children they have waited for."""
    pending, seen, ticks = [os.getpid() if root is None else root], set(), 0
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # it has just ended: its parent's cutime holds it once reaped
        rest = stat[stat.rindex(b")") + 2:].split()
        try:  # fields 14-17 of proc(5): utime, stime, cutime, cstime (rest[0] is field 3)
            ticks += sum(int(n) for n in rest[11:15])
        except (ValueError, IndexError):
            continue
        pending += _children(pid)
    return ticks / _TICKS


class CellClock:
    """A deadline for ``channel``: ``left()`` is the CPU time the cell has left, or the wall
    time left before the backstop, whichever is less."""

    LOOK = 0.1  # seconds of wall time between two readings of /proc (a frame is read in many chunks)

    def __init__(self, cpu_seconds: float, wall_seconds: float, root: int | None = None):
        self.cpu_seconds, self.root = cpu_seconds, root
        self.started_cpu = tree_cpu_seconds(root)
        self.wall_end = time.monotonic() + wall_seconds
        self._used, self._looked = 0.0, time.monotonic()

    def used(self) -> float:
        """CPU seconds the tree has used since the cell began."""
        self._used, self._looked = tree_cpu_seconds(self.root) - self.started_cpu, time.monotonic()
        return self._used

    def left(self) -> float:
        now = time.monotonic()
        used = self.used() if now - self._looked >= self.LOOK else self._used
        return min(self.cpu_seconds - used, self.wall_end - now)

    def later(self, seconds: float) -> "CellClock":
        """The same cell's clock with ``seconds`` more of both (a grace for the test itself)."""
        clock = CellClock.__new__(CellClock)
        clock.cpu_seconds, clock.root = self.cpu_seconds + seconds, self.root
        clock.started_cpu, clock.wall_end = self.started_cpu, self.wall_end + seconds
        clock._used, clock._looked = self._used, self._looked
        return clock
