"""Lines of ``course/`` per package, and the import structure: what goes against the layers, and
what goes round in a cycle.

    python benchmarks/code_size.py                  # this checkout's course/
    python benchmarks/code_size.py --root OTHER/course

The course is built in layers; a module may import from its own layer and the layers below it,
never from one above:

    0  core kernels and data   activations, losses, layers, optimizers, datasets, stored results, ...
    1  models and training     Sequential, fit, callbacks, builders, the PyTorch path, ...
    2  the lessons             plots, widgets, the lessons' runs, quizzes
    3  tooling                 the grader, the gradebook, the lecture tools, the server extension

Against the layers, every import counts, at the top of a module or inside a function (a late
import is still a dependency). A cycle is a set of modules that import each other when they are
imported, directly or through others: imports at the top of a module (or of a class), which run
at import time. An import inside a function runs when it is called (that is how ``fit`` reaches
the optional PyTorch path), and is left out of the cycles. A module that is in no layer is
reported, so that a new one gets its place here.
"""
from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The layers, lowest first: the top-level modules and packages of ``course`` in each.
LAYERS = {
    "core kernels and data": ["activations", "losses", "layers", "initializers", "metrics",
                              "gradcheck", "utils", "optimizers", "datasets", "results"],
    "models and training": ["__init__", "models", "training", "callbacks", "builders", "analysis", "landscapes",
                            "perceptron", "derivations", "torch", "autograd", "conditioning"],
    "the lessons": ["plots", "widgets", "runs", "quiz", "debugging"],
    "tooling": ["grading", "gradebook", "instructor", "hub", "lecture", "server", "_notebooks", "check_feedback"],
}
LAYER_OF = {unit: k for k, units in enumerate(LAYERS.values()) for unit in units}
LAYER_NAMES = list(LAYERS)


def modules(course: Path) -> dict[str, Path]:
    """Dotted name -> file, for every .py file of the package at ``course``."""
    found = {}
    for path in sorted(course.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(course.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _top_level(tree) -> list:
    """The statements that run when the module is imported (not those inside functions)."""
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        found.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            todo.extend(ast.iter_child_nodes(node))
    return found


def imports(name: str, path: Path, known: set[str], at_import: bool = False) -> set[str]:
    """The modules of the package that ``name`` imports (``from . import x`` counts as x);
    ``at_import``: only the imports that run when the module is imported."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in (_top_level(tree) if at_import else ast.walk(tree)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            targets = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in known else stem
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def unit(name: str) -> str:
    """The top-level module or package of ``course`` that ``name`` belongs to."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def structure(course: Path) -> dict:
    """Lines per unit, the import graph, the imports against the layers, the cycles, the
    modules in no layer."""
    found = modules(course)
    known = set(found)
    graph = {name: imports(name, path, known) for name, path in found.items()}
    at_import = {name: imports(name, path, known, at_import=True) for name, path in found.items()}
    lines = defaultdict(int)
    for name, path in found.items():
        lines[unit(name)] += len(path.read_text().splitlines())
    upward = sorted((a, b) for a, targets in graph.items() for b in targets
                    if unit(a) in LAYER_OF and unit(b) in LAYER_OF and LAYER_OF[unit(b)] > LAYER_OF[unit(a)])
    return {"lines": dict(lines), "graph": graph, "upward": upward, "cycles": cycles(at_import),
            "unplaced": sorted(u for u in lines if u not in LAYER_OF)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT / "course", help="the course package folder")
    args = parser.parse_args(argv)
    s = structure(args.root)
    packages = {u for u in s["lines"] if (args.root / u).is_dir()}
    print(f"Lines of {args.root} (every line of every .py file), by layer:")
    for k, layer in enumerate(LAYER_NAMES):
        units = sorted(u for u in s["lines"] if LAYER_OF.get(u) == k)
        total = sum(s["lines"][u] for u in units)
        print(f"\n  {k}  {layer}: {total} lines")
        for u in units:
            print(f"       {u + ('/' if u in packages else '.py'):<18}{s['lines'][u]:>6}")
    if s["unplaced"]:
        print("\n  in no layer (give them one in LAYERS): " + ", ".join(s["unplaced"]))
    print(f"\n  total: {sum(s['lines'].values())} lines in {len(s['graph'])} modules")
    print(f"\nImports from a lower layer to a higher one: {len(s['upward'])}")
    for a, b in s["upward"]:
        print(f"  {a} ({LAYER_NAMES[LAYER_OF[unit(a)]]}) imports {b} ({LAYER_NAMES[LAYER_OF[unit(b)]]})")
    print(f"Import cycles (at import time): {len(s['cycles'])}")
    for component in s["cycles"]:
        print("  " + " <-> ".join(component))
    return 0


if __name__ == "__main__":
    sys.exit(main())
