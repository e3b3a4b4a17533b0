"""A CPU share and a memory and process total for each submission's jail, through cgroups.

Rlimits count one process at a time: five children of 600 MB each pass a 2 GB address-space
limit, and a submission that starts 16 busy processes takes the CPU its classmate's cell needed.
A cgroup counts the whole jail. Where the grader can make cgroups (root, or a delegated subtree),
each submission's jail runs in one of its own:

- cgroup v2: ``cpu.max`` (one CPU) and ``cpu.weight``, ``memory.max`` (and ``memory.swap.max``
  0), ``pids.max``;
- cgroup v1: ``cpu.cfs_quota_us``/``cpu.cfs_period_us`` (one CPU) and ``cpu.shares``,
  ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes`` where swap is accounted),
  ``pids.max``; ``cpuacct.usage`` for the CPU time.

The grader makes a directory of its own (``course-grading-<pid>-<n>``) under the cgroup it runs
in, one cgroup per submission inside it, and removes them all when the batch ends.

    Cgroups.create() -> Cgroups | None        None, and ``why_not`` says why, where none can be made
    cgroups.make(name, cpus, memory_mb, processes) -> Box   one submission's cgroup
    box.paths                                  the cgroup folders a process joins (cgroup.procs)
    box.peak_memory_mb()                       the most memory the submission held at once
"""
from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

__all__ = ["Cgroups", "Box", "join", "why_not"]

ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("cpu", "memory", "pids", "cpuacct")
_counter = itertools.count()
why_not: str = ""


def _own_path(controller: str | None) -> str:
    """This process's cgroup path for a v1 controller (None: the v2 unified hierarchy)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return "/"
    for line in lines:
        _, names, path = line.split(":", 2)
        if (controller is None and names == "") or (controller is not None and controller in names.split(",")):
            return path
    return "/"


def _write(path: Path, value) -> None:
    with open(path, "w") as handle:
        handle.write(str(value))


class Box:
    """One submission's cgroup (a folder per v1 controller, or one v2 folder)."""

    def __init__(self, paths: dict[str, Path], version: int, description: str):
        self.by_controller, self.version, self.description = paths, version, description
        self.paths = [str(p) for p in paths.values()]

    def _file(self, v1_controller: str, v1_name: str, v2_name: str) -> Path | None:
        if self.version == 2:
            return self.by_controller["unified"] / v2_name
        path = self.by_controller.get(v1_controller)
        return path / v1_name if path is not None else None

    def peak_memory_mb(self) -> float | None:
        file = self._file("memory", "memory.max_usage_in_bytes", "memory.peak")
        try:
            return int(file.read_text().split()[0]) / 2**20 if file else None
        except (OSError, ValueError, IndexError):
            return None

    def cpu_seconds(self) -> float | None:
        if self.version == 2:
            try:
                for line in (self.by_controller["unified"] / "cpu.stat").read_text().splitlines():
                    if line.startswith("usage_usec"):
                        return int(line.split()[1]) / 1e6
            except (OSError, ValueError, IndexError):
                return None
            return None
        file = self._file("cpuacct", "cpuacct.usage", "")
        try:
            return int(file.read_text()) / 1e9 if file else None
        except (OSError, ValueError):
            return None

    def remove(self) -> None:
        for path in self.by_controller.values():
            _remove(path)


def _remove(path: Path, tries: int = 50) -> None:
    """rmdir a cgroup once its processes are gone (killed ones take a moment to leave)."""
    for _ in range(tries):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            try:  # anything still inside is the submission's: it goes
                for pid in (path / "cgroup.procs").read_text().split():
                    try:
                        os.kill(int(pid), 9)
                    except (ProcessLookupError, ValueError, PermissionError):
                        pass
            except OSError:
                pass
            time.sleep(0.1)


def join(paths) -> None:
    """Move the calling process into the cgroups ``paths`` (in a child, before it runs the jail)."""
    pid = str(os.getpid())
    for path in paths:
        with open(os.path.join(path, "cgroup.procs"), "w") as handle:
            handle.write(pid)


class Cgroups:
    """The grader's own directory of cgroups, one per submission."""

    def __init__(self, folders: dict[str, Path], version: int):
        self.folders, self.version = folders, version
        self.boxes: list[Box] = []

    @classmethod
    def create(cls) -> "Cgroups | None":
        global why_not
        name = f"course-grading-{os.getpid()}-{next(_counter)}"
        unified = ROOT / "cgroup.controllers"
        if unified.exists():  # v2 mounted at /sys/fs/cgroup
            base = ROOT / _own_path(None).lstrip("/")
            try:
                controllers = (base / "cgroup.controllers").read_text().split()
            except OSError as error:
                why_not = f"cgroup v2 cannot be read here ({error.strerror})"
                return None
            if not {"cpu", "memory", "pids"} <= set(controllers):
                why_not = (f"the cgroup v2 {base} delegates {' '.join(controllers) or 'no controller'}, "
                           f"not cpu, memory and pids")
                return None
            try:
                folder = base / name
                folder.mkdir()
                _write(folder / "cgroup.subtree_control", "+cpu +memory +pids")
            except OSError as error:
                why_not = f"no cgroup can be made under {base} ({error.strerror})"
                return None
            return cls({"unified": folder}, 2)
        folders: dict[str, Path] = {}
        for controller in V1_CONTROLLERS:
            mount = ROOT / controller
            if not (mount / "cgroup.procs").exists():
                for folder in folders.values():
                    _remove(folder)
                why_not = f"no cgroup v1 '{controller}' controller is mounted at {mount}"
                return None
            folder = mount / _own_path(controller).lstrip("/") / name
            try:
                folder.mkdir()
            except OSError as error:
                for made in folders.values():
                    _remove(made)
                why_not = f"no cgroup can be made in {folder.parent} ({error.strerror}): grade as root"
                return None
            folders[controller] = folder
        return cls(folders, 1)

    def make(self, name: str, cpus: float, memory_mb: int, processes: int) -> Box:
        """A cgroup for one submission: ``cpus`` CPUs at most, an equal share when the CPUs are
        contended, ``memory_mb`` for all its processes together, ``processes`` of them at most."""
        paths: dict[str, Path] = {}
        memory = int(memory_mb) * 2**20
        period = 100_000
        try:
            for controller, folder in self.folders.items():
                path = folder / name
                path.mkdir()
                paths[controller] = path
                if self.version == 2:
                    _write(path / "cpu.max", f"{int(cpus * period)} {period}")
                    _write(path / "cpu.weight", 100)
                    _write(path / "memory.max", memory)
                    if (path / "memory.swap.max").exists():
                        _write(path / "memory.swap.max", 0)
                    _write(path / "pids.max", processes)
                    continue
                if controller == "cpu":
                    _write(path / "cpu.cfs_period_us", period)
                    _write(path / "cpu.cfs_quota_us", int(cpus * period))
                    _write(path / "cpu.shares", 1024)
                elif controller == "memory":
                    _write(path / "memory.limit_in_bytes", memory)
                    if (path / "memory.memsw.limit_in_bytes").exists():
                        try:
                            _write(path / "memory.memsw.limit_in_bytes", memory)
                        except OSError:
                            pass
                elif controller == "pids":
                    _write(path / "pids.max", processes)
        except OSError:
            for path in paths.values():
                _remove(path)
            raise
        box = Box(paths, self.version, f"cgroup: {cpus:g} CPU, {memory_mb} MB and {processes} processes "
                                       f"for the whole submission")
        self.boxes.append(box)
        return box

    def remove(self) -> None:
        """Remove every submission's cgroup, then the grader's directory."""
        for box in self.boxes:
            box.remove()
        for folder in self.folders.values():
            _remove(folder)
