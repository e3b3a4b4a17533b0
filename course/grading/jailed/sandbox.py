"""What a submission's code may touch while it is graded: a Python audit hook in the kernel.

The grader runs this once in each kernel, before the first cell of the submission:

    install(protected=[...], writable=[work_dir], log_path=...)

From then on, in that kernel,

- opening, listing or linking anything inside a ``protected`` folder (the course's source and
  release notebooks, the gradebook, the other submissions, the grader's output and working
  folders) raises PermissionError, whether for reading or writing;
- creating, changing or deleting a file anywhere but inside ``writable`` (the submission's own
  temporary folder) raises PermissionError;
- starting a process (subprocess, os.system, os.fork, os.exec*, os.posix_spawn) raises
  PermissionError, and so does loading a native library from outside the Python installation
  with ctypes, or looking up a non-Python symbol in one;
- each refusal is appended as one line "<what> <path>" to ``log_path``, which the grader reads
  to tell the instructor what the submission tried.

An audit hook cannot be removed once installed (PEP 578), and this one keeps no reference that
Python code can reach. It is still a guard against the ordinary ways of reading the hidden
tests or writing where one should not, not a security boundary: code written to get round it
(a compiled extension, for example) can. To grade code from people you do not trust at all,
run the grader as a user that cannot read the course folders, or in a container.

Standard library only: this module is imported inside the kernel that runs the submission.
"""
from __future__ import annotations

import os
import sys
import threading

__all__ = ["install"]

# Events whose path arguments are only read.
_READ_EVENTS = frozenset({"os.listdir", "os.scandir", "glob.glob", "os.chdir", "os.chroot"})
# Events that create, change or remove files: every path argument must be writable.
_WRITE_EVENTS = frozenset({
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link",
    "os.symlink", "os.truncate", "os.utime", "os.chflags", "os.lchflags", "os.setxattr",
    "os.removexattr", "os.mkfifo", "os.mknod", "shutil.copyfile", "shutil.copymode",
    "shutil.copystat", "shutil.copytree", "shutil.chown", "shutil.make_archive", "shutil.move",
    "shutil.rmtree", "shutil.unpack_archive", "tempfile.mkdtemp", "tempfile.mkstemp",
})
_COPY_EVENTS = frozenset({"os.link", "os.symlink", "shutil.copyfile", "shutil.copytree",
                          "shutil.copymode", "shutil.copystat", "shutil.move"})
_PROCESS_EVENTS = frozenset({
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
    "os.forkpty", "os.startfile", "pty.spawn",
})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + os.sep) for root in roots)


def install(protected, writable, log_path: str | None = None) -> None:
    """Install the audit hook described in the module docstring (once per process)."""
    protected = tuple(os.path.realpath(p) for p in protected)
    writable = tuple(os.path.realpath(p) for p in writable) + ("/dev/null",)
    allowed_libraries = tuple(os.path.realpath(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600) if log_path else None
    busy = threading.local()
    realpath, fspath, fsdecode, getcwd, join = (os.path.realpath, os.fspath, os.fsdecode,
                                                os.getcwd, os.path.join)
    write_log = os.write

    def resolve(value):
        if isinstance(value, int) or value is None:
            return None
        try:
            text = fsdecode(fspath(value))
        except TypeError:
            return None
        return realpath(join(getcwd(), text))

    def refuse(what: str, target: str):
        if log_fd is not None:
            try:
                write_log(log_fd, f"{what} {target}\n".encode("utf-8", "replace"))
            except OSError:
                pass
        raise PermissionError(f"the grading sandbox does not allow this submission to {what} "
                              f"{target}")

    def check_read(path):
        if path is not None and _inside(path, protected) and not _inside(path, writable):
            refuse("read", path)

    def check_write(path):
        if path is not None and not _inside(path, writable):
            refuse("write", path)

    def hook(event, args):
        if getattr(busy, "active", False):
            return
        busy.active = True
        try:
            if event == "open":
                path, mode, flags = (tuple(args) + (None, None, None))[:3]
                target = resolve(path)
                writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                    (isinstance(flags, int) and flags & _WRITE_FLAGS)
                (check_write if writes else check_read)(target)
            elif event in _READ_EVENTS:
                check_read(resolve(args[0]) if args else None)
            elif event in _WRITE_EVENTS:
                paths = [resolve(a) for a in args if isinstance(a, (str, bytes, os.PathLike))]
                # a link or a copy reads its first path and writes the others
                sources = paths[:1] if event in _COPY_EVENTS else []
                for target in sources:
                    check_read(target)
                for target in paths[len(sources):]:
                    check_write(target)
            elif event in _PROCESS_EVENTS:
                refuse("start a process:", event)
            elif event == "ctypes.dlopen":
                name = args[0] if args else None
                target = resolve(name) if isinstance(name, (str, bytes)) and os.sep in fsdecode(name) else None
                if target is None or not _inside(target, allowed_libraries):
                    refuse("load the native library", repr(name))
            elif event == "ctypes.dlsym":
                name = args[1] if len(args) > 1 else None
                if not (isinstance(name, str) and name.startswith(("Py", "_Py"))):
                    refuse("look up the native symbol", repr(name))
            elif event in ("gc.get_objects", "gc.get_referrers", "gc.get_referents"):
                refuse("inspect the interpreter with", event)
        finally:
            busy.active = False

    sys.addaudithook(hook)
