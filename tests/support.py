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
