# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-dev lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/nettwin simulate examples/nsfnet.yaml --vs analytic
	rm -rf demo-out
	$(BIN)/nettwin dataset generate examples/datasets/nsfnet-glance.yaml --out demo-out/dataset --workers 2
	$(BIN)/nettwin train demo-out/dataset --model glance --strategy mtl --max-minutes 4 --out demo-out/glance-mtl.pt
	$(BIN)/nettwin evaluate demo-out/glance-mtl.pt demo-out/dataset --out demo-out/report

test: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest -q

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf demo-out .pytest_cache build *.egg-info
