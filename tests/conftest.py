"""Fixtures: a fresh realistic mocked engine per test, run in preview and in update mode."""

from __future__ import annotations

import gc
from pathlib import Path

import pulumi
import pytest

from pulumi_mocks import REPO, Engine

# One mocked AzureQueue run allocates tens of thousands of Outputs, futures, tasks and handles, nearly
# all short-lived: with a young generation of 20,000 objects (Python's default is 700) the collector
# runs far less often for the same garbage, and the AWS and Azure component tests take 6% fewer
# instructions (callgrind, the two files under one process), for a worker's peak memory of 340-410 MB
# instead of 330-340 MB.
gc.set_threshold(20_000, 20, 20)


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
def escape_hatch():
    """A user's transform: tags SQS queues with a cost center and gives the Lambda 2048 MB."""

    def transform(args: pulumi.ResourceTransformArgs):
        if args.type_ == "aws:sqs/queue:Queue":
            return pulumi.ResourceTransformResult({**args.props, "tags": {**args.props["tags"], "cost-center": "42"}}, args.opts)
        if args.type_ == "aws:lambda/function:Function":
            return pulumi.ResourceTransformResult({**args.props, "memorySize": 2048}, args.opts)
        return None

    return transform


@pytest.fixture
def in_repo(monkeypatch) -> Path:
    """Run with the repo as the working directory, as `pulumi up` does with the project."""
    monkeypatch.chdir(REPO)
    return REPO



@pytest.fixture(scope="module", params=[True, False], ids=["preview", "up"])
def default(request, tmp_path_factory):
    """The test module's COMPONENT built once per mode from the baseline spec, for tests that only read it."""
    folder = tmp_path_factory.mktemp("consumer")
    (folder / "handler.py").write_text("def handle(message):\n    return message.json()\n")
    engine = Engine(preview=request.param)
    component = engine.run(lambda: request.module.COMPONENT("orders", {"consumer": {"code_path": str(folder), "handler": "handler.handle"}}))
    return engine, component


@pytest.fixture(scope="module", autouse=True)
def _frozen_imports():
    """Keep what is loaded so far (the provider SDKs: hundreds of thousands of objects) out of the collector's scans.

    Without this, every full collection during a test re-walks the imported SDKs, which is about
    half the time of a mocked program run; the SDKs are never freed anyway.
    """
    gc.collect()
    gc.freeze()
    yield
