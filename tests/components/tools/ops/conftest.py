"""Fixtures for the ops commands: a project folder with an outputs file, and moto's SQS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REGION = "eu-west-1"
ACCOUNT = "123456789012"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """An empty project folder, the working directory (journals land under it)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _write_outputs(folder: Path, exports: dict) -> str:
    path = folder / "outputs.json"
    path.write_text(json.dumps(exports, indent=2))
    return str(path)


def _journal_records(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted((folder / ".cloudqueue" / "journal").glob("*.jsonl")) for line in path.read_text().splitlines()]


@pytest.fixture
def write_outputs():
    """write_outputs(folder, exports) -> the path of an outputs file holding `exports`."""
    return _write_outputs


@pytest.fixture
def journal_records():
    """journal_records(folder) -> every journal line under `folder`, oldest file first."""
    return _journal_records


@pytest.fixture
def aws_env(monkeypatch):
    """Fake credentials and no endpoint override: moto's in-process mock answers."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # not the queue's: the ARN's region must win


@pytest.fixture
def make_sqs_queues():
    """make_sqs_queues(sqs, name, fifo) -> the `aws` outputs of a queue and DLQ made as the component makes them."""
    return _make_sqs_queues


def _make_sqs_queues(sqs, name: str, fifo: bool = False) -> dict:
    """A queue and its DLQ as the AWS component makes them; the `aws` outputs of the stack."""
    suffix = ".fifo" if fifo else ""
    fifo_attrs = {"FifoQueue": "true"} if fifo else {}
    dlq_url = sqs.create_queue(QueueName=f"{name}-dead-letter-1a2b3c4{suffix}", Attributes=fifo_attrs)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_attrs = {**fifo_attrs, "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})}
    if fifo:
        queue_attrs["ContentBasedDeduplication"] = "true"
    queue_url = sqs.create_queue(QueueName=f"{name}-queue-5d6e7f8{suffix}", Attributes=queue_attrs)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"queue_url": queue_url, "queue_arn": queue_arn, "dlq_url": dlq_url, "dlq_arn": dlq_arn, "function_name": f"{name}-consumer", "producer_policy_arn": "arn:aws:iam::123456789012:policy/p"}
