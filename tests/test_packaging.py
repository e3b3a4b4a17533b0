"""The project's set-up files agree with each other, and the core imports NumPy only."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

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


# -- the wheel ---------------------------------------------------------------------------------------
#: What the lessons read from the installed package; run by the wheel's own Python, away from
#: this checkout. MNIST comes from a small fake data set (the loader's checks are the real ones
#: only for the true files, so the subset is drawn from data handed in).
LESSON_LOADERS = """
import json, sys
import numpy as np
import course
from course import results
from course.builders import mlp
from course.datasets import mnist
from course.runs import hyperparameters, optimizers

sweep = results.load_batch_size_sweep()
rows = hyperparameters.compare_with_book(results.load_book_runs())
x = np.zeros((30, 784), np.float32); y = np.eye(10, dtype=np.float32)[np.arange(30) % 10]
subset = mnist.load_subset(n_train=20, n_val=10, data=((x, y), (x, y)))
print(json.dumps({"course": course.__file__, "results": str(results.RESULTS_DIR),
                  "sweep_sizes": sweep.batch_sizes.tolist(), "book_rows": len(rows),
                  "subset": len(subset.x_train), "params": mlp(hidden=(10,)).count_params()}))
"""


@pytest.mark.slow
def test_the_installed_wheel_ships_what_the_lessons_read(tmp_path):
    """Build the wheel, install it into a fresh virtual environment (no network: the
    dependencies come from this environment) and read every stored result there."""
    import json
    import shutil
    import sysconfig
    import venv

    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("course", "jupyter-config"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "--quiet", "-w", str(dist), str(source)], check=True, capture_output=True, text=True)
    (wheel,) = dist.glob("course-*.whl")

    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "--quiet", str(wheel)], check=True, capture_output=True, text=True)
    # numpy, matplotlib, ... from this environment, after the wheel's own site-packages
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    run = subprocess.run([str(python), "-I", "-c", LESSON_LOADERS], capture_output=True, text=True,
                         cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert Path(found["course"]).is_relative_to(env_dir), f"imported {found['course']}, not the wheel"
    assert Path(found["results"]).is_relative_to(env_dir)
    assert found["sweep_sizes"] and found["book_rows"] == 4
    assert found["subset"] == 20 and found["params"] == 7960
    config = env_dir / "etc" / "jupyter" / "jupyter_server_config.d" / "course.json"
    assert json.loads(config.read_text()) == json.loads(
        (ROOT / "jupyter-config" / "jupyter_server_config.d" / "course.json").read_text())


def test_no_import_goes_up_a_layer_or_round_in_a_cycle():
    """benchmarks/code_size.py's layers: core < models and training < lessons < tooling."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("code_size", ROOT / "benchmarks" / "code_size.py")
    code_size = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(code_size)
    found = code_size.structure(ROOT / "course")
    assert found["unplaced"] == [], f"modules in no layer of benchmarks/code_size.py: {found['unplaced']}"
    assert found["upward"] == [], f"imports from a lower layer to a higher one: {found['upward']}"
    assert found["cycles"] == [], f"import cycles: {found['cycles']}"
