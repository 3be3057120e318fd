"""Fixtures shared by the adapter tests: a user handler module the adapters load by name."""

from __future__ import annotations

import sys

import boto3
import pytest
from moto import mock_aws

from cloudqueue_runtime import _handler
from emulators import REGION


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """Install a user handler module named `orders_handler` and point the adapters at it."""

    def install(source: str, handler: str = "orders_handler.handle") -> None:
        (tmp_path / "orders_handler.py").write_text(source)
        monkeypatch.setenv("CLOUDQUEUE_HANDLER", handler)

    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_handler, "_loaded", {})
    yield install
    sys.modules.pop("orders_handler", None)


_RECORDING_HANDLER = """
seen = []
def handle(message):
    seen.append(message)
    order = message.json()
    if order.get("fail"):
        raise RuntimeError(f"cannot process order {order['n']}")
"""


@pytest.fixture
def recording_handler(user_module) -> str:
    """Install a handler that records each message, parses it as JSON and raises when it asks to fail."""
    user_module(_RECORDING_HANDLER)
    return _RECORDING_HANDLER


@pytest.fixture
def sqs(monkeypatch):
    """An SQS client on moto, with throwaway credentials."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)
