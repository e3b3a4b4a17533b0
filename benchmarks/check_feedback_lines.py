"""How many lines a learner sees when a self-check of an exercise fails.

    python benchmarks/check_feedback_lines.py

Runs exercise 1 (as handed out, exercises/release) in a fresh kernel with a learner's slip in
``predict`` (``z > 0`` where the step answers 1 at 0), and counts the lines of the first failed
check's output, as JupyterLab shows them: with the course's handler (``course.check_feedback``,
installed when the exercise imports its checks) and, for comparison, with IPython's own
traceback (the handler removed).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = ROOT / "exercises" / "release" / "01_perceptron" / "perceptron.ipynb"
SLIP = "def predict(x, weights, bias):\n    return (x @ weights + bias > 0).astype(x.dtype)\n"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def first_error_lines(handler: bool) -> list[str]:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(EXERCISE, as_version=4)
    nb.cells[3].source = SLIP
    if not handler:
        nb.cells[1].source += "\nget_ipython().set_custom_exc((), None)"
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(EXERCISE.parent)}}).execute()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                return ANSI.sub("", "\n".join(output.traceback)).splitlines()
    raise RuntimeError("no check failed: the slip was not caught")


def main() -> int:
    short, full = first_error_lines(True), first_error_lines(False)
    print("what the learner sees:\n  " + "\n  ".join(short))
    print(f"lines a learner sees for a failed check: {len(short)} "
          f"(IPython's own traceback: {len(full)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
