# tsfm: `make run` trains iTransformer on the bundled ETTh1; `make test` runs the suite.
# Both install into .venv first if needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The torch/torchvision pair with which torchvision (needed by open-clip-torch) imports here.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
PYTEST_ARGS ?=

.PHONY: install run test test-all lint format bench bench-predict tune reproduce clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m tsfm.run experiment=itransformer_etth1_96

test: install
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

test-all: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: install
	$(PY) runners/bench_itransformer.py

bench-predict: install
	$(PY) runners/bench_predict.py

# An Optuna study of iTransformer on ETTh1 (SQLite under tuning/; rerun to resume).
tune: install
	$(PY) -m tsfm.tune experiment=itransformer_etth1_96 hparams_search=itransformer

reproduce: install
	$(PY) runners/reproduce.py --preset-group itransformer

clean:
	rm -rf outputs multirun tuning .pytest_cache
