"""Fixtures of the AWS end-to-end tests: a ministack server per test, from its own venv.

The venv comes from tests/e2e/setup-ministack.sh (`make e2e` runs it). Without it these tests
skip, saying how to get it, unless CLOUDQUEUE_E2E=require, which CI sets so that a broken setup
fails the run instead of skipping it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pulumi_mocks import REPO

VENV = Path(os.environ.get("MINISTACK_VENV") or REPO / ".e2e" / "ministack-venv")


@pytest.fixture(scope="session")
def ministack_venv() -> Path:
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
