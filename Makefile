# `make test` on a fresh machine: creates .venv, installs the pinned requirements (skipped when
# nothing changed), then runs every test. CI runs exactly this.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

STACK ?= dev

QUEUE ?= orders

.PHONY: install plan local test bench scan lock clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the pins change. The project itself goes in editable, without deps (they
# are the pins), so `cloudqueue` and `python -m cloudqueue` work from this .venv.
$(STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check --quiet -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# The offline plan of a stack: `make plan STACK=prod`, `make plan FORMAT=json`, `make plan GRAPH=plan.mmd`.
plan: $(STAMP)
	$(PY) -m cloudqueue plan --stack $(STACK) $(if $(FORMAT),--format $(FORMAT)) $(if $(GRAPH),--graph $(GRAPH))

# The consumer against an SQS emulator on 127.0.0.1: `make local QUEUE=orders`; send with
# `.venv/bin/cloudqueue send --local orders '{"order_id": 1}'` from a second terminal.
local: $(STAMP)
	$(PY) -m cloudqueue local --stack $(STACK) $(QUEUE)

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/bench.py

# Checkov over what the dev, prod and all-options stacks register (needs the checkov-scan tool:
# CHECKOV_SCAN=path/to/run); fails on a finding README.md's "Security scan" table does not explain.
scan: $(STAMP)
	$(PY) security/scan.py $(SCAN_STACKS)

# Re-pin after editing pyproject.toml's dependencies.
lock: | $(PY)
	$(PY) -m pip install --disable-pip-version-check --quiet -e '.[test]' build setuptools wheel
	$(PY) -m pip uninstall --yes --quiet cloudqueue
	{ sed -n '1,3p' requirements.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^cloudqueue'; \
	  $(PY) -m pip freeze --all | grep -E '^(setuptools|wheel)=='; } > requirements.lock.tmp
	mv requirements.lock.tmp requirements.txt

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
