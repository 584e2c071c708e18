# `make handouts` and `make test` work on a fresh machine: they install what is missing,
# Python packages from requirements.lock only (exact versions and hashes).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: handouts test check bench lock system system-test clean

handouts: system $(VENV)/.installed
	$(BIN)/handouts build --clinic example

# Lint (ruff: pyflakes, pycodestyle, import order, bugbear, complexity at most 15; ruff format) and types
# (mypy), then the test suite.
test: system-test $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

check: $(VENV)/.installed
	$(BIN)/handouts check

# Times full, no-change and one-unit builds against one weasyprint process per handout, the
# project's overhead per phase, and typst/Chromium as the floor (benchmarks/README.md). Not a
# test: about ten minutes on 2 idle cores. typst comes from its own hashed lock (optional).
bench: system $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r benchmarks/requirements-bench.lock
	$(BIN)/python benchmarks/bench.py

system:
	@./tools/system-deps.sh

system-test:
	@./tools/system-deps.sh --test

# A new virtual environment holding exactly what the lock names, then the project itself
# (editable, built with the locked setuptools: nothing else is downloaded).
$(VENV)/.installed: requirements.lock pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# Refresh requirements.lock from pyproject.toml's ranges (the newest releases they allow).
# Afterwards run `make test` and look at the PDFs before committing it (README: Upgrading).
lock: $(VENV)/.installed
	$(BIN)/uv pip compile pyproject.toml tools/build-requirements.in --extra test \
	  --generate-hashes --universal --python-version 3.11 --upgrade -o requirements.lock

clean:
	rm -rf $(VENV) handouts
