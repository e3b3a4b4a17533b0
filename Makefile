# Two commands for a fresh machine:
#   make lab    open the course in JupyterLab
#   make test   run every test
# Each creates the virtual environment .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# Where MNIST is kept (or downloaded to). Empty: the user's cache directory.
COURSE_DATA_DIR ?=
export COURSE_DATA_DIR
# torch is installed first, pinned, so that the CPU build on this machine is taken and the
# dependency "torch>=2.1" is already satisfied. Elsewhere: TORCH_SPEC="torch" make ...
TORCH_SPEC ?= torch==2.13.0

.PHONY: notebooks env lab test test-fast test-gpu test-browser screenshots release grade benchmarks clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

env: $(BIN)/.installed

lab: env
	$(BIN)/jupyter lab notebooks

# Everything: the library, the exercises and grader, the notebooks (nbval), JupyterLab in Chromium.
test: env
	$(BIN)/python -m pytest -q tests notebooks --nbval-lax

test-fast: env
	$(BIN)/python -m pytest -q tests -m "not slow and not browser"

test-browser: env
	$(BIN)/python -m pytest -q tests/browser

# Regenerate the README's pictures from the browser tests' screenshots.
screenshots: env
	COURSE_SCREENSHOT_DIR=$(CURDIR)/build/screenshots $(BIN)/python -m pytest -q tests/browser
	$(BIN)/python tests/browser/readme_images.py build/screenshots docs/images

test-gpu: env
	$(BIN)/python -m pytest -q tests/torch -m gpu

# Re-execute the lessons and store them with clean, deterministic outputs.
notebooks: env
	MPLBACKEND=Agg $(BIN)/python -m course._notebooks notebooks/[0-9][0-9]_*.ipynb

# Exercises: regenerate the student versions from exercises/source (instructors).
release: env
	cd exercises && ../$(BIN)/nbgrader generate_assignment '*' --force --no-db

# Grade a folder of submissions: make grade SUBMISSIONS=path/to/submissions OUT=grades
SUBMISSIONS ?= exercises/submitted
OUT ?= grades
grade: env
	$(BIN)/python -m course.grading $(SUBMISSIONS) --out $(OUT)

benchmarks: env
	$(BIN)/python benchmarks/bench_numpy_vs_torch.py
	$(BIN)/python benchmarks/mnist_book_runs.py
	$(BIN)/python benchmarks/bench_optimizers.py
	$(BIN)/python benchmarks/bench_dashboards.py
	$(BIN)/python benchmarks/bench_dashboards_browser.py
	$(BIN)/python benchmarks/bench_grading.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
