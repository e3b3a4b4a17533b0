"""The project's set-up files agree with each other, and the core imports NumPy only."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower()


def pyproject_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_name(r) for r in project["dependencies"]}
    for extra in project.get("optional-dependencies", {}).values():
        names |= {_name(r) for r in extra}
    return names


def environment_packages() -> set[str]:
    names = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        m = re.match(r"^\s{2}- ([A-Za-z0-9_.-]+)", line)
        if m and m.group(1) not in ("pip", "python"):
            names.add(CONDA_NAMES.get(m.group(1).lower(), m.group(1).lower()))
    return names


def test_environment_yml_and_pyproject_name_the_same_packages():
    assert environment_packages() == pyproject_packages(), (
        f"only in environment.yml: {environment_packages() - pyproject_packages()}; "
        f"only in pyproject.toml: {pyproject_packages() - environment_packages()}"
    )


def test_the_core_imports_numpy_only():
    code = ("import sys, course, course.gradcheck, course.datasets.mnist, course.optimizers;"
            "heavy = {'torch', 'matplotlib', 'ipywidgets', 'tqdm', 'IPython'} & set(sys.modules);"
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", f"the core imported {out.stdout.strip()}"


def test_ci_points_the_data_directory_at_shared_data_and_runs_the_readme_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "../shared/data" in ci
    assert "make test" in ci and "make test" in readme
