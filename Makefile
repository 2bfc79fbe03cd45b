# segedu: two commands do everything.
#   make lab    set up .venv (first time only) and open the lessons in JupyterLab
#   make test   set up .venv (first time only) and run unit tests, system tests, the layer contract
#               and every notebook (nbval)
# For developers: make unit (the fast loop: every test not marked `system`, about a minute),
# make layers (import-linter's report and the README's layer picture, redrawn).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The exact torch/torchvision pair CI uses lives in constraints.txt; pass CONSTRAINTS= to lift it.
CONSTRAINTS ?= constraints.txt
STAMP := $(VENV)/.segedu-installed
KERNEL := segedu
PYTEST_WORKERS ?= 2
# Extra JupyterLab flags, e.g. make lab LAB_ARGS="--no-browser --port=8890"
LAB_ARGS ?=
# The folder JupyterLab opens: the lessons, or the student edition (make student; make lab LAB_DIR=build/student).
LAB_DIR ?= notebooks
# JupyterLab refuses to run as root unless told to (containers, CI).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
# Where `make student`, `make slides` and `make book` write (the book's generated Sphinx sources: BOOK_SOURCES).
STUDENT_DIR ?= build/student
SLIDES_DIR ?= build/slides
BOOK_DIR ?= build/book
BOOK_SOURCES ?= build/book-sources
# Where the npm tarballs of reveal.js, MathJax and the widgets renderer are kept once fetched.
WEB_ASSETS ?= build/web-assets
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg --nbval-cell-timeout=300

.PHONY: setup lab test unit layers notebooks doctor clean student slides book bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-runs only when pyproject.toml or constraints.txt changed since the last install.
$(STAMP): $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(BIN)/python -m pip install $(if $(CONSTRAINTS),-c $(CONSTRAINTS)) -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (segedu)"
	touch $(STAMP)

# JupyterLab's defaults for this venv: no "get notified about Jupyter news?" prompt or update check
# over the first lesson. A learner's own settings (Settings menu) still win over these.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d/segedu.json
$(LAB_OVERRIDES): | $(BIN)/python
	mkdir -p $(dir $@)
	echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > $@

setup: $(STAMP) $(LAB_OVERRIDES)

doctor: setup
	$(BIN)/segedu doctor

lab: doctor
	$(BIN)/jupyter lab --notebook-dir=$(LAB_DIR) $(ROOT_FLAG) $(LAB_ARGS)

test: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope tests notebooks $(NBVAL_FLAGS)

# The fast loop: everything but tests/system/ (make, browser, subprocesses, benchmarks) and the notebooks.
unit: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not system" tests

# The layer contract in pyproject.toml, reported in full; then redraw the README's layer picture.
layers: setup
	$(BIN)/lint-imports
	$(BIN)/python -m tools.layer_picture --write

# Re-execute every lesson in place (outputs are committed; nbval compares against them), then mark its exercises
# for nbgrader and clear the outputs that would show an answer.
notebooks: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.kernel_name=$(KERNEL) \
		--ExecutePreprocessor.timeout=300 $(or $(NOTEBOOKS),notebooks/*.ipynb)
	$(BIN)/python -m segedu.course.grading --apply $(or $(NOTEBOOKS),notebooks/*.ipynb)
	$(BIN)/python -m segedu.course.student --hide-solution-outputs $(or $(NOTEBOOKS),notebooks/*.ipynb)

# The student edition: every lesson with its solution cells replaced by stubs and no outputs.
student: setup
	$(BIN)/python -m segedu.course.student notebooks $(STUDENT_DIR)

# reveal.js slides of every lesson (one HTML deck each) that open offline: reveal.js, MathJax and the widgets
# renderer are copied into $(SLIDES_DIR)/assets from npm tarballs fetched once into $(WEB_ASSETS) (needs npm).
slides: setup
	$(BIN)/python -m segedu.course.slides notebooks $(SLIDES_DIR) --cache $(WEB_ASSETS)

# The course website: a static site of every lesson with its stored outputs (nothing is run), the teaching guide
# and the glossary, built by Sphinx + MyST-NB into $(BOOK_DIR); open $(BOOK_DIR)/index.html or copy the folder to
# any static web host. Like the slides it needs no network once built (MathJax etc. from $(WEB_ASSETS)).
book: setup
	$(BIN)/python -m segedu.course.book notebooks $(BOOK_DIR) --sources $(BOOK_SOURCES) --cache $(WEB_ASSETS)

# Measure this machine (about two and a half hours; not part of `make test`): writes docs/benchmarks.md,
# .png and .json and the README's headline numbers. Options: make bench BENCH_ARGS="--help".
BENCH_ARGS ?=
bench: setup
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache
