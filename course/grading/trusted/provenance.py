"""Which answers use the course's own code instead of the learner's: read in the trusted process.

The course package must be importable in the jail (the exercises' given cells import its
checks and datasets), so an answer could import the reference of the very function it was
asked to write (``from course.activations import sigmoid``) and the hidden tests would compare
the reference with itself. Nothing the learner's code does at run time can be believed, so the
answers are read here, as text, before they run:

- an import of the course package (``import course...``, ``from course... import ...``) that
  the notebook's given cells do not make themselves, outside the modules every exercise may use
  (its checks, data sets and plots);
- dynamic code, which reading cannot follow: ``__import__``, ``importlib`` and its kin,
  ``exec``/``eval``/``compile`` of a built string, ``sys.modules``, frames and code objects,
  shell commands and magics that run other files;
- a text that names a module of the course (``"course.activations"``).

Each finding becomes a note on the result (status ``flagged``) that names the answer (the
function it sits in, or the cell) and what it used; the score stays as the tests gave it, for
the instructor to decide.

    findings(source, given, label) -> list[str]
    given_imports(setup_sources) -> set          what the notebook's given cells import
"""
from __future__ import annotations

import ast
import re

__all__ = ["findings", "given_imports"]

ALLOWED = ("course.grading.checks", "course.datasets", "course.plots")
DYNAMIC_MODULES = {"importlib", "imp", "runpy", "marshal", "pickle", "ctypes", "zipimport", "pkgutil",
                   "inspect", "builtins", "code", "codeop", "types", "cffi", "dill", "cloudpickle"}
DYNAMIC_NAMES = {"__import__", "exec", "eval", "compile", "globals", "vars", "__builtins__",
                 "__loader__", "__spec__", "breakpoint"}
DYNAMIC_ATTRIBUTES = {"__globals__", "__code__", "__dict__", "__subclasses__", "__builtins__",
                      "__import__", "__loader__", "__spec__", "__closure__", "f_globals", "f_locals",
                      "f_back", "gi_frame", "tb_frame", "_getframe", "modules", "__reduce__",
                      "__reduce_ex__", "__getattribute__"}
_NAMES_COURSE = re.compile(r"(^|[^\w.])course[./][A-Za-z_]")
SAFE_MAGICS = {"time", "timeit", "matplotlib", "precision", "who", "whos", "pinfo", "pinfo2"}


def _module_allowed(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


def _is_course(module: str) -> bool:
    return module == "course" or module.startswith("course.")


def given_imports(setup_sources) -> set:
    """(module, name) for each ``from course.X import name`` of the given cells, and (module,
    None) for each ``import course.X``."""
    given: set = set()
    for source in setup_sources:
        try:
            tree = ast.parse(_python(source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and _is_course(node.module):
                given.update((node.module, alias.name) for alias in node.names)
            elif isinstance(node, ast.Import):
                given.update((alias.name, None) for alias in node.names if _is_course(alias.name))
    return given


def _python(source: str) -> str:
    """A cell as Python (IPython's magics and ``!`` commands become calls), as the kernel runs it."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - the grader always has IPython
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - a cell IPython cannot read: read it as it is
        return source


class _Reader(ast.NodeVisitor):
    def __init__(self, given: set):
        self.given = given
        self.found: list[tuple[str | None, int, str]] = []   # (function, line, what)
        self.function: list[str] = []

    def flag(self, node, what: str) -> None:
        self.found.append((self.function[-1] if self.function else None, getattr(node, "lineno", 0), what))

    def visit_FunctionDef(self, node):
        self.function.append(node.name)
        self.generic_visit(node)
        self.function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node):
        for alias in node.names:
            top = alias.name.split(".")[0]
            if _is_course(alias.name) and not _module_allowed(alias.name) and (alias.name, None) not in self.given:
                self.flag(node, f"import {alias.name}")
            elif top in DYNAMIC_MODULES or alias.name == "sys.modules":
                self.flag(node, f"import {alias.name}")
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        module = "." * node.level + (node.module or "")
        top = module.split(".")[0]
        if node.level:
            self.flag(node, f"from {module} import ...")
        elif _is_course(module) and not _module_allowed(module):
            names = [a.name for a in node.names if (module, a.name) not in self.given]
            if names:
                self.flag(node, f"from {module} import {', '.join(names)}")
        elif top in DYNAMIC_MODULES:
            self.flag(node, f"from {module} import {', '.join(a.name for a in node.names)}")
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in DYNAMIC_NAMES:
            self.flag(node, f"{node.id}")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if node.attr in DYNAMIC_ATTRIBUTES:
            self.flag(node, f".{node.attr}")
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("run_line_magic", "run_cell_magic") and \
                node.args and isinstance(node.args[0], ast.Constant):
            if node.args[0].value not in SAFE_MAGICS:
                self.flag(node, f"the magic %{node.args[0].value}")
        elif isinstance(func, ast.Attribute) and func.attr in ("system", "getoutput") and \
                isinstance(func.value, ast.Call) and getattr(func.value.func, "id", None) == "get_ipython":
            self.flag(node, "a shell command (!)")
        elif isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "delattr") and \
                len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
            self.flag(node, f"{func.id} with a computed name")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and (_NAMES_COURSE.search(node.value) or node.value == "course"):
            self.flag(node, f"the text {node.value[:60]!r}")


def findings(source: str, given: set, label: str) -> list[str]:
    """Notes for the instructor, one per use of the course's code or of dynamic code in a
    learner's cell; empty when there is none (or when the cell does not parse: it fails in the
    jail anyway)."""
    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    reader = _Reader(given)
    try:
        reader.visit(tree)
    except RecursionError:
        return [f"{label} is nested too deeply to be read: flagged for the instructor"]
    notes = []
    for function, line, what in reader.found[:5]:
        where = f"{function} (in {label})" if function else label
        notes.append(f"{where} uses {what} (line {line}): the course's own code or dynamic code "
                     f"in an answer; its score is left for the instructor to decide")
    if len(reader.found) > 5:
        notes.append(f"{label}: {len(reader.found) - 5} more uses of the course's code or of dynamic code")
    return notes
