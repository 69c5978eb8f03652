# One command sets everything up and runs the default study; one sets up and runs the tests.
# Each step is skipped when already in place (venv stamp keyed by pyproject.toml, dataset files).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
# Debian's PostgreSQL server, for the multi-worker tests (a throw-away cluster per test session).
POSTGRES := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) /usr/lib/postgresql/15/bin/initdb)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STUDY ?= r18
PYTEST_ARGS ?=

.PHONY: setup run test test-fast bench lint dashboard clean

setup: $(STAMP) $(FMNIST)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,export,postgres]'
	@rm -f $(VENV)/.installed-* && touch $@

$(FMNIST):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq dataset-fashion-mnist

$(POSTGRES):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq postgresql

run: setup
	$(PY) -m amed_opt.run --study $(STUDY)

test: setup $(POSTGRES)
	AMED_OPT_REQUIRE_POSTGRES=1 $(PY) -m pytest -n 2 $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

bench: setup
	$(PY) benchmarks/hardware_speed.py
	$(PY) benchmarks/sampler_overhead.py
	$(PY) benchmarks/run_overhead.py --study $(STUDY)
	$(PY) benchmarks/workers.py

lint: setup
	$(PY) -m ruff check amed_opt hardware tests benchmarks
	$(PY) -m ruff format --check amed_opt hardware tests benchmarks
	$(PY) -m mypy

dashboard: setup
	$(VENV)/bin/optuna-dashboard sqlite:///results/$(STUDY).db --artifact-dir results/$(STUDY)_artifacts

clean:
	rm -rf results .pytest_cache .mypy_cache .ruff_cache
