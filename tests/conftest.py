"""Fixtures: a fresh realistic mocked engine per test, run in preview and in update mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulumi_mocks import REPO, Engine


@pytest.fixture(params=[True, False], ids=["preview", "up"])
def engine(request) -> Engine:
    """A fresh mocked engine, once with preview=True and once with preview=False."""
    return Engine(preview=request.param)


@pytest.fixture
def consumer_dir(tmp_path: Path) -> Path:
    """A consumer code folder with a real handler module."""
    folder = tmp_path / "consumer"
    folder.mkdir()
    (folder / "handler.py").write_text("def handle(message):\n    return message.json()\n")
    return folder


@pytest.fixture
def base_spec(consumer_dir: Path) -> dict:
    """A valid AWS spec, the baseline every test changes one field of."""
    return {
        "clouds": ["aws"],
        "consumer": {"code_path": str(consumer_dir), "handler": "handler.handle"},
    }


@pytest.fixture
def in_repo(monkeypatch) -> Path:
    """Run with the repo as the working directory, as `pulumi up` does with the project."""
    monkeypatch.chdir(REPO)
    return REPO

