# 关爱通 — `make run` serves the app with demo data; `make test` runs the whole suite;
# `make serve` is production: gunicorn and the background-job consumer (see README, "Production").
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run serve test bench system-run system-test clean

run: system-run $(VENV)/.installed-run
	scripts/run.sh

serve: system-run $(VENV)/.installed-run
	scripts/serve.sh

test: system-test $(VENV)/.installed-test
	scripts/test.sh

bench: system-test $(VENV)/.installed-test
	scripts/bench.sh

system-run:
	scripts/system-packages.sh run

system-test:
	scripts/system-packages.sh test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed-run

clean:
	rm -rf $(VENV) static/gen .webassets-cache *.egg-info
