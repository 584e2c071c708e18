# `make handouts` and `make test` work on a fresh machine: they install what is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: handouts test check bench system system-test clean

handouts: system $(VENV)/.installed
	$(BIN)/handouts build --clinic example

test: system-test $(VENV)/.installed
	$(BIN)/pytest

check: $(VENV)/.installed
	$(BIN)/handouts check

# Times full, no-change and one-unit builds against one weasyprint process per handout
# (benchmarks/README.md). Not a test: it takes a few minutes.
bench: system $(VENV)/.installed
	$(BIN)/python benchmarks/bench.py

system:
	@./tools/system-deps.sh

system-test:
	@./tools/system-deps.sh --test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) handouts
