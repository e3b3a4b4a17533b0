"""A failed self-check in a notebook shows its message and where it was, not a traceback."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_a_failed_check_is_a_few_lines_in_ipython():
    pytest.importorskip("IPython")
    script = textwrap.dedent("""
        import json
        from IPython.testing.globalipapp import start_ipython
        shell = start_ipython()
        shown = []
        shell._showtraceback = lambda etype, value, stb: shown.append(stb)
        shell.run_cell("from course.grading.checks import check_close")
        result = shell.run_cell("import numpy as np\\nx = np.zeros(3)\\ncheck_close('sigmoid(0)', x, np.full(3, 0.5), hint='sigmoid(0) is 0.5')")
        other = shell.run_cell("assert 1 == 2, 'my own assert'")
        print(json.dumps({"check": shown[0], "failed": result.error_in_exec is not None,
                          "name": type(result.error_in_exec).__name__, "other": len(shown[1])}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["failed"] and result["name"] == "CheckFailed"   # the checks' AssertionError
    lines = "\n".join(result["check"]).splitlines()
    assert len(lines) <= 6, lines
    assert "sigmoid(0)" in lines[0] and "CheckFailed" in lines[0]
    assert lines[-1] == "(the self-check in line 3 of the cell)"
    assert not any("checks.py" in line for line in lines)
    assert result["other"] > 1          # an error of the learner's own code keeps its traceback


def test_outside_ipython_nothing_is_installed():
    from course import check_feedback

    assert check_feedback.install() is False
