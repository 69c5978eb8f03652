# One command sets everything up and runs the default study; one sets up and runs the tests.
# Each step is skipped when already in place (venv stamp keyed by pyproject.toml, dataset files).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STUDY ?= r18
PYTEST_ARGS ?=

.PHONY: setup run test test-fast bench lint dashboard clean

setup: $(STAMP) $(FMNIST)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,export]'
	@rm -f $(VENV)/.installed-* && touch $@

$(FMNIST):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq dataset-fashion-mnist

run: setup
	$(PY) -m amed_opt.run --study $(STUDY)

test: setup
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

bench: setup
	$(PY) benchmarks/hardware_speed.py
	$(PY) benchmarks/sampler_overhead.py
	$(PY) benchmarks/run_overhead.py --study $(STUDY)

lint: setup
	$(PY) -m ruff check amed_opt hardware tests benchmarks
	$(PY) -m ruff format --check amed_opt hardware tests benchmarks
	$(PY) -m mypy

dashboard: setup
	$(VENV)/bin/optuna-dashboard sqlite:///results/$(STUDY).db --artifact-dir results/$(STUDY)_artifacts

clean:
	rm -rf results .pytest_cache .mypy_cache .ruff_cache
