# The two set-up commands of the README: `make reproduce` (the toy reproduction) and `make test`.
# Each creates .venv if it is missing and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PRESET ?= toy
OUT    ?= results
# torch first, pinned to the CPU build this machine carries; the project's range admits it, so pip adds nothing.
TORCH  := torch==2.13.0

.PHONY: reproduce test export clean-nbs readme lab bench notebooks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python settings.ini setup.py
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

reproduce: $(VENV)/.installed
	$(BIN)/musechat reproduce --preset $(PRESET) --out $(OUT)
	mkdir -p figures && cp $(OUT)/figures/*.png figures/

# Two notebooks at a time, one thread each: two workers of two threads on two cores fight over them.
test: $(VENV)/.installed-dev
	cd nbs && OMP_NUM_THREADS=1 ../$(BIN)/nbdev_test --n_workers 2 --do_print --timing
	$(BIN)/python -m pytest -q --durations=8 tests

export: $(VENV)/.installed-dev
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean
	$(BIN)/python tools/make_readme.py

readme: $(VENV)/.installed-dev
	$(BIN)/python tools/make_readme.py

# Every lesson run as a student runs it (Jupyter kernel, toy preset), timed; the executed outputs are kept in nbs/.
notebooks: $(VENV)/.installed-dev
	$(BIN)/python tools/run_notebooks.py --store --table notebook_times.md
	$(BIN)/nbdev_clean

lab: $(VENV)/.installed-dev
	$(BIN)/jupyter lab nbs/
