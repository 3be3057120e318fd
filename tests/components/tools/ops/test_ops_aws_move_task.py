"""Whole-DLQ redrive on SQS: StartMessageMoveTask and the ListMessageMoveTasks progress loop.

moto (5.x) implements neither call, and neither does ministack, so these tests run the command
against botocore's Stubber: it checks each request against the SQS API model and the parameters
cloudqueue must send, and answers with the responses SQS documents. Not an SQS: the task's effect
on messages is SQS's own and is not simulated here.
"""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import Stubber

from components.tools import cli
from components.tools.ops import aws as ops_aws

REGION = "eu-west-1"
DLQ_ARN = f"arn:aws:sqs:{REGION}:123456789012:orders-dead-letter-1a2b3c4"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:orders-queue-5d6e7f8"
DLQ_URL = f"https://sqs.{REGION}.amazonaws.com/123456789012/orders-dead-letter-1a2b3c4"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/123456789012/orders-queue-5d6e7f8"
HANDLE = "eyJ0YXNrSWQiOiJkYzE4In0="


@pytest.fixture
def stubbed(aws_env, project, monkeypatch, write_outputs):
    """(stubber, outputs file): the command's SQS client answers from the stubber."""
    sqs = boto3.client("sqs", region_name=REGION)
    stubber = Stubber(sqs)
    monkeypatch.setattr(ops_aws, "client", lambda names: sqs)
    monkeypatch.setattr(ops_aws, "MOVE_TASK_POLL_SECONDS", 0)
    outputs = write_outputs(project, {"orders": {"aws": {"queue_url": QUEUE_URL, "queue_arn": QUEUE_ARN, "dlq_url": DLQ_URL, "dlq_arn": DLQ_ARN}}})
    with stubber:
        yield stubber, outputs
    stubber.assert_no_pending_responses()


def expect_depth(stubber, visible: int) -> None:
    stubber.add_response(
        "get_queue_attributes",
        {"Attributes": {"ApproximateNumberOfMessages": str(visible), "ApproximateNumberOfMessagesNotVisible": "0"}},
        {"QueueUrl": DLQ_URL, "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]},
    )


def task(status: str, moved: int, total: int = 40, **extra) -> dict:
    entry = {"Status": status, "SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN, "ApproximateNumberOfMessagesMoved": moved,
             "ApproximateNumberOfMessagesToMove": total, "StartedTimestamp": int(datetime.datetime(2026, 1, 1).timestamp() * 1000), **extra}
    if status == "RUNNING":
        entry["TaskHandle"] = HANDLE
    return {"Results": [entry]}


def test_a_whole_redrive_starts_a_move_task_to_the_queue_at_the_given_rate_and_follows_it_to_completion(stubbed, project, capsys, journal_records):
    stubber, outputs = stubbed
    expect_depth(stubber, 40)
    stubber.add_response("start_message_move_task", {"TaskHandle": HANDLE}, {"SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN, "MaxNumberOfMessagesPerSecond": 50})
    listing = {"SourceArn": DLQ_ARN, "MaxResults": 10}
    stubber.add_response("list_message_move_tasks", task("RUNNING", 0), listing)
    stubber.add_response("list_message_move_tasks", task("RUNNING", 25), listing)
    stubber.add_response("list_message_move_tasks", task("COMPLETED", 40), listing)
    assert cli.main(["dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--rate", "50"]) == 0
    out = capsys.readouterr().out
    assert f"aws: message move task started at 50 messages/s: about 40 message(s) from {DLQ_ARN} to {QUEUE_ARN}" in out
    assert f"aws: moved 40 message(s) from {DLQ_URL} to {QUEUE_URL}" in out
    records = journal_records(project)
    assert [(r["event"], r["task_handle"]) for r in records] == [("move-task-started", HANDLE), ("move-task-finished", HANDLE)]
    assert records[1]["status"] == "COMPLETED" and records[1]["moved"] == 40


def test_without_rate_the_task_request_leaves_the_rate_to_sqs(stubbed, capsys):
    stubber, outputs = stubbed
    expect_depth(stubber, 3)
    stubber.add_response("start_message_move_task", {"TaskHandle": HANDLE}, {"SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN})
    stubber.add_response("list_message_move_tasks", task("COMPLETED", 3, 3), {"SourceArn": DLQ_ARN, "MaxResults": 10})
    assert cli.main(["dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs]) == 0


def test_a_failed_move_task_exits_one_with_its_reason(stubbed, capsys):
    stubber, outputs = stubbed
    expect_depth(stubber, 5)
    stubber.add_response("start_message_move_task", {"TaskHandle": HANDLE}, {"SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN})
    stubber.add_response("list_message_move_tasks", task("FAILED", 2, 5, FailureReason="AccessDenied"), {"SourceArn": DLQ_ARN, "MaxResults": 10})
    assert cli.main(["dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs]) == 1
    assert "the move task ended FAILED: AccessDenied; 2 moved" in capsys.readouterr().err


def test_a_dry_run_and_an_empty_queue_start_no_task(stubbed, capsys):
    stubber, outputs = stubbed
    expect_depth(stubber, 12)
    expect_depth(stubber, 0)
    assert cli.main(["dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--dry-run", "--rate", "10"]) == 0
    assert cli.main(["dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs]) == 0
    out = capsys.readouterr().out
    assert f"aws: would start an SQS message move task at 10 messages/s: about 12 message(s) from {DLQ_ARN} to {QUEUE_ARN}" in out
    assert "is empty; nothing to redrive" in out


@pytest.mark.parametrize("rate", ["0.5", "501", "2.5"])
def test_a_move_task_rate_outside_sqs_range_is_refused_before_any_call(stubbed, capsys, rate):
    _, outputs = stubbed
    assert cli.main(["dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--rate", rate]) == 2
    assert "a whole-queue SQS redrive moves 1..500 messages per second, a whole number" in capsys.readouterr().err
