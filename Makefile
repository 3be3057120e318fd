# `make test` on a fresh machine needs only python3 (>= 3.11, with venv) and the package registry:
# make brings in uv, pinned, from PyPI into .tools/ (git-ignored), and uv fills .venv from uv.lock
# (a no-op when nothing changed). CI runs the same targets (.ci/run).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

# uv itself, pinned; a new pin installs beside the old one.
UV_VERSION := 0.13.8
TOOLS := .tools
# tests/test_packaging.py and the bench call the same uv.
export UV := $(abspath $(TOOLS)/uv-$(UV_VERSION)/bin/uv)

# Checkov, pinned with everything it installs (security/checkov.txt, from security/checkov.in),
# in its own environment: it pins many packages of its own, which would fight the project's.
CHECKOV_VENV := $(TOOLS)/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov

STACK ?= dev

QUEUE ?= orders

.PHONY: install plan local test e2e bench bench-instructions scan lock clean

# uv in a folder of its own, installed by the interpreter's pip (--target: 2 s, where a virtualenv
# for it takes 5 s); without a usable pip there (none, or PIP_REQUIRE_VIRTUALENV), a small
# virtualenv holds it. .tools/bin/uv is the name to put on PATH for the Pulumi CLI (its uv toolchain calls `uv`).
UV_PIP := --disable-pip-version-check --quiet --root-user-action=ignore
$(UV):
	rm -rf $(TOOLS)/uv-$(UV_VERSION)
	$(PYTHON) -m pip install $(UV_PIP) --no-deps --no-compile --target $(TOOLS)/uv-$(UV_VERSION) uv==$(UV_VERSION) 2>/dev/null \
	  || { rm -rf $(TOOLS)/uv-$(UV_VERSION) && $(PYTHON) -m venv $(TOOLS)/uv-$(UV_VERSION) \
	       && $(TOOLS)/uv-$(UV_VERSION)/bin/python -m pip install $(UV_PIP) uv==$(UV_VERSION); }
	mkdir -p $(TOOLS)/bin && ln -sfn ../uv-$(UV_VERSION)/bin/uv $(TOOLS)/bin/uv

# --locked: fails when uv.lock is out of step with pyproject.toml (run `make lock`). uv sync is
# exact and takes well under a second when .venv is current, so it runs every time.
install: $(UV)
	$(UV) sync --locked --quiet

# The offline plan of a stack: `make plan STACK=prod`, `make plan FORMAT=json`, `make plan GRAPH=plan.mmd`.
plan: install
	$(PY) -m cloudqueue plan --stack $(STACK) $(if $(FORMAT),--format $(FORMAT)) $(if $(GRAPH),--graph $(GRAPH))

# The consumer against an SQS emulator on 127.0.0.1: `make local QUEUE=orders`; send with
# `.venv/bin/cloudqueue send --local orders '{"order_id": 1}'` from a second terminal.
local: install
	$(PY) -m cloudqueue local --stack $(STACK) $(QUEUE)

# uv leaves bytecode to the first import: tests/precompile.py compiles what the suite imports, on
# every core, before the workers would each compile it (a no-op when current). With
# PYTHONDONTWRITEBYTECODE set (as on some CI images) every test process would compile the provider
# SDKs from source again, the suite's subprocesses included: the tests write .pyc files into .venv.
test: install
	$(PY) tests/precompile.py
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest

# The AWS component applied to ministack, a local Lambda + SQS emulator, and the mixed load run
# through its event source mapping (about 75 s). ministack pins its own botocore, so it has a venv of
# its own (tests/e2e/ministack-requirements.txt); the setup is a no-op when that venv is current.
E2E_VENV := .e2e/ministack-venv
e2e: install
	PYTHON=$(PYTHON) MINISTACK_VENV=$(E2E_VENV) tests/e2e/setup-ministack.sh
	CLOUDQUEUE_E2E=require MINISTACK_VENV=$(abspath $(E2E_VENV)) $(PY) -m pytest tests/e2e -n0

# What a user feels, each figure next to its target, in at most 5 minutes.
bench: install
	$(PY) bench/bench.py

# The components against hand-written programs of the same resources, in CPU instructions counted
# by Valgrind (about 6 minutes on 2 cores; needs valgrind and a C compiler).
bench-instructions: install
	$(PY) bench/instructions.py

$(CHECKOV): security/checkov.txt $(UV)
	rm -rf $(CHECKOV_VENV)
	$(UV) venv --quiet --python $(PYTHON) $(CHECKOV_VENV)
	VIRTUAL_ENV=$(abspath $(CHECKOV_VENV)) $(UV) pip sync --quiet --require-hashes security/checkov.txt

# Checkov over what the dev, prod and all-options stacks register, converted by security/convert.py;
# fails on a finding that README.md's "Security scan" table does not explain. First, the converter
# must make Checkov fail hand-written bad resources (tests/security/test_checkov_findings.py).
scan: install $(CHECKOV)
	CHECKOV=$(abspath $(CHECKOV)) $(PY) -m pytest -q -n0 -p no:cacheprovider tests/security/test_checkov_findings.py
	CHECKOV=$(abspath $(CHECKOV)) $(PY) security/scan.py $(SCAN_STACKS)

# Re-pin after editing pyproject.toml's dependencies or security/checkov.in.
lock: $(UV)
	$(UV) lock
	$(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes security/checkov.in -o security/checkov.txt

clean:
	rm -rf $(VENV) $(TOOLS) .e2e build dist *.egg-info .pytest_cache
