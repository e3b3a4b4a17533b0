# Two commands for a fresh machine:
#   make lab    open the course in JupyterLab
#   make test   run every test
#   make lecture LESSON=04   present a copy of lesson 4 in JupyterLab (the deck is on, the lesson runs,
#                            figures for a projector; a presenter view with the notes)
#   make slides              static HTML decks of the five lessons in build/slides (no network needed;
#                            each lesson runs once to draw its figures for a projector)
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

.PHONY: notebooks env lab lecture slides lecture-check vendor figure-sizes lecture-startup test test-fast test-gpu test-browser screenshots release grade benchmarks clean hub hub-env

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m course.server install    # an editable install leaves out the server's config
	touch $@

env: $(BIN)/.installed

# The learner's (and the lecturer's) JupyterLab: jupyter-config/learner first on Jupyter's config
# path switches off nbgrader's instructor tools and the "Jupyter news?" pop-up, for these commands only.
LEARNER_CONFIG = JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter-config/learner$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}"

lab: env
	$(LEARNER_CONFIG) $(BIN)/jupyter lab notebooks --LabApp.news_url= \
	  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

# Present a lesson: JupyterLab opens on it in presenting mode (jupyterlab-slideshow), with the
# projector look for every figure and dashboard. LESSON is the lesson's number.
LESSON ?= 01
lecture: env
	@$(BIN)/python -m course.lecture check $(wildcard notebooks/$(LESSON)_*.ipynb) >/dev/null || \
	  $(BIN)/python -m course.lecture check $(wildcard notebooks/$(LESSON)_*.ipynb)
	@COURSE_PRESENTATION=1 $(BIN)/python -m course.lecture lab $(wildcard notebooks/$(LESSON)_*.ipynb) $(LECTURE_FLAGS)

# One static deck per lesson (reveal.js, served from lectures/vendor): build/slides/*.slides.html
slides: env
	$(BIN)/python -m course.lecture check notebooks/[0-9][0-9]_*.ipynb
	$(BIN)/python -m course.lecture slides notebooks/[0-9][0-9]_*.ipynb --out build/slides

lecture-check: env
	$(BIN)/python -m course.lecture check notebooks/[0-9][0-9]_*.ipynb
	$(BIN)/python -m course.lecture count notebooks/[0-9][0-9]_*.ipynb

# The smallest text of every lesson figure, default and projector looks (px at 1280x720).
figure-sizes: env
	$(BIN)/python benchmarks/figure_text_sizes.py

# Seconds from `make lecture` to the first slide on screen (headless Chromium).
lecture-startup: env
	$(BIN)/python benchmarks/lecture_startup.py

# Refresh lectures/vendor (what the static decks load) from npm, at the versions of its package.json.
vendor:
	rm -rf build/vendor && mkdir -p build/vendor && cp lectures/vendor/package.json build/vendor/
	cd build/vendor && npm install --no-audit --no-fund --ignore-scripts
	cp build/vendor/node_modules/reveal.js/dist/reveal.js build/vendor/node_modules/reveal.js/dist/reveal.css \
	   build/vendor/node_modules/reveal.js/dist/reset.css lectures/vendor/reveal.js/dist/
	cp build/vendor/node_modules/reveal.js/dist/theme/white.css lectures/vendor/reveal.js/dist/theme/
	cp build/vendor/node_modules/reveal.js/dist/theme/fonts/source-sans-pro/*.woff lectures/vendor/reveal.js/dist/theme/fonts/source-sans-pro/
	cp build/vendor/node_modules/reveal.js/plugin/notes/notes.js lectures/vendor/reveal.js/plugin/notes/
	cp build/vendor/node_modules/requirejs/require.js build/vendor/node_modules/jquery/dist/jquery.min.js lectures/vendor/
	cp build/vendor/node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js lectures/vendor/html-manager/
	mkdir -p lectures/vendor/mathjax
	cp build/vendor/node_modules/mathjax/es5/tex-svg.js build/vendor/node_modules/mathjax/LICENSE lectures/vendor/mathjax/

# Everything: the library, the exercises and grader, the notebooks (nbval), JupyterLab in Chromium.
test: env
	$(BIN)/python -m pytest -q tests notebooks --nbval-lax

# The library, the plots and the dashboards' logic: what the markers slow, lecture, browser and
# gpu mark is left out (pyproject.toml declares them).
test-fast: env
	$(BIN)/python -m pytest -q tests -m "not slow and not lecture and not browser and not gpu" --hypothesis-profile=fast

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

# Exercises: regenerate the student versions from COURSE/source (instructors); COURSE is an
# nbgrader course folder (default: exercises). VENV may be relative or absolute.
COURSE ?= exercises
release: env
	cd "$(COURSE)" && "$(abspath $(BIN))/nbgrader" generate_assignment '*' --force --no-db

# Grade a folder of submissions against the instructor's notebooks (a private course's source):
#   make grade SUBMISSIONS=path/to/submitted SOURCE=path/to/course/source [DB=course/gradebook.db] [OUT=grades]
SUBMISSIONS ?= exercises/submitted
SOURCE ?= exercises/source
OUT ?= grades
DB ?=
JOBS ?= 0
grade: env
	"$(abspath $(BIN))/python" -m course.grading "$(SUBMISSIONS)" --source "$(SOURCE)" --out "$(OUT)" --jobs $(JOBS) $(if $(DB),--db "$(DB)")

# A class on this machine (as root): the roster's members as users of the machine, nbgrader's
# exchange, the instructor's private course, then JupyterHub on http://127.0.0.1:$(HUB_PORT).
# ROSTER: a CSV file username,role[,password]; passwords: $(HUB_STATE)/passwords.csv.
ROSTER ?= course/hub/roster.example.csv
HUB_STATE ?= /srv/course-hub
HUB_EXCHANGE ?= /srv/nbgrader/exchange
HUB_PORT ?= 8000
HUB_PROXY = build/hub/node_modules/.bin/configurable-http-proxy

$(HUB_PROXY): course/hub/package.json
	mkdir -p build/hub && cp course/hub/package.json build/hub/
	cd build/hub && npm install --no-audit --no-fund --omit=dev --loglevel=error
	touch $@

$(BIN)/.hub-installed: $(BIN)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,hub]"
	touch $@

hub-env: $(BIN)/.hub-installed $(HUB_PROXY)

hub: hub-env
	$(BIN)/python -m course.hub setup $(ROSTER) --state $(HUB_STATE) --exchange $(HUB_EXCHANGE)
	$(BIN)/python -m course.hub start --state $(HUB_STATE) --port $(HUB_PORT)

benchmarks: env
	$(BIN)/python benchmarks/bench_numpy_vs_torch.py
	$(BIN)/python benchmarks/mnist_book_runs.py
	$(BIN)/python benchmarks/bench_optimizers.py
	$(BIN)/python benchmarks/bench_dashboards.py
	$(BIN)/python benchmarks/bench_dashboards_browser.py
	$(BIN)/python benchmarks/bench_grading.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
