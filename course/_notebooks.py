"""Execute the lesson notebooks in place and store them clean (used by ``make notebooks``).

    python -m course._notebooks notebooks/01_perceptron.ipynb ...

Each notebook runs top to bottom in a fresh kernel from its own folder. Then the stored copy is
cleaned: live widget views (which need a running kernel and would show "model not found") are
dropped in favour of the static picture each dashboard also provides, and no widget state is kept.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def clean(nb) -> None:
    """Drop widget views, widget state and execution timestamps from an executed notebook (in
    place): what is stored changes only when what a learner sees changes."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data and WIDGET_VIEW in data:
                data.pop(WIDGET_VIEW)


def execute(path: Path, timeout: int = 600) -> float:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    clean(nb)
    nbformat.write(nb, path)
    return seconds


def main(paths: list[str]) -> None:
    for name in paths:
        seconds = execute(Path(name))
        print(f"{name}: executed in {seconds:.1f} s, {Path(name).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
