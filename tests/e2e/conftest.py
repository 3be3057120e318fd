"""Fixtures of the AWS end-to-end tests: a ministack server per test, from its own venv.

They run with `make e2e` (which builds the venv with tests/e2e/setup-ministack.sh and sets
CLOUDQUEUE_E2E=require; CI runs it too): about 75 s of a real Lambda runtime, kept out of `make test`
so the everyday suite stays fast. Without CLOUDQUEUE_E2E they skip, saying how to run them; with
CLOUDQUEUE_E2E=require a missing venv fails the run instead of skipping it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pulumi_mocks import REPO

VENV = Path(os.environ.get("MINISTACK_VENV") or REPO / ".e2e" / "ministack-venv")


@pytest.fixture(scope="session")
def ministack_venv() -> Path:
    if not os.environ.get("CLOUDQUEUE_E2E"):
        pytest.skip("the AWS end-to-end tests run with `make e2e` (CLOUDQUEUE_E2E=require)")
    if not (VENV / "bin" / "python").exists():
        reason = f"ministack's venv {VENV} is missing: run tests/e2e/setup-ministack.sh (or `make e2e`)"
        if os.environ.get("CLOUDQUEUE_E2E") == "require":
            pytest.fail(reason)
        pytest.skip(reason)
    return VENV


@pytest.fixture
def results_file(tmp_path) -> Path:
    """Where the end-to-end consumer appends one line per delivery attempt."""
    return tmp_path / "attempts.jsonl"


@pytest.fixture
def ministack(ministack_venv, tmp_path, results_file):
    """A fresh ministack on a free port of 127.0.0.1, stopped (with its Lambda workers) after the test."""
    from e2e.ministack_server import Ministack

    workdir = tmp_path / "ministack"
    workdir.mkdir()
    server = Ministack(ministack_venv, workdir, extra_env={"CLOUDQUEUE_E2E_RESULTS": str(results_file)})
    server.start()
    try:
        yield server
    finally:
        server.stop()
