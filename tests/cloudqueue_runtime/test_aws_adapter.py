"""The Lambda adapter against real SQS message shapes, produced by moto's SQS emulator.

`EventSource` plays the part of Lambda's SQS event source mapping with
ReportBatchItemFailures: it receives a batch, builds the event Lambda builds, calls the
adapter, deletes the records not reported and leaves the reported ones for redelivery.
"""

from __future__ import annotations

import base64
import json

import pytest

from cloudqueue_runtime import aws
from emulators import EventSource


FAIL_ON_ORDER = """
seen = []
def handle(message):
    order = message.json()
    seen.append((order["n"], message.delivery_attempt))
    if order["n"] in FAILING:
        raise RuntimeError(f"cannot process order {order['n']}")
FAILING = FAILING_SET
"""


def make_queues(sqs, fifo: bool = False, max_receive_count: int = 3) -> tuple[str, str]:
    suffix = ".fifo" if fifo else ""
    fifo_attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    dead_letter = sqs.create_queue(QueueName=f"orders-dead-letter{suffix}", Attributes=fifo_attrs)["QueueUrl"]
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receive_count})
    queue = sqs.create_queue(QueueName=f"orders-queue{suffix}", Attributes={**fifo_attrs, "RedrivePolicy": redrive})["QueueUrl"]
    return queue, dead_letter


def send_orders(sqs, queue_url: str, count: int, fifo: bool = False) -> list[str]:
    ids = []
    for n in range(1, count + 1):
        extra = {"MessageGroupId": "customer-1"} if fifo else {}
        sent = sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps({"n": n}),
            MessageAttributes={"source": {"DataType": "String", "StringValue": "api"}},
            **extra,
        )
        ids.append(sent["MessageId"])
    return ids


def test_one_failure_in_a_batch_of_ten_reports_exactly_that_record(sqs, user_module):
    user_module(FAIL_ON_ORDER.replace("FAILING_SET", "{7}"))
    queue, _ = make_queues(sqs)
    ids = send_orders(sqs, queue, 10)
    source = EventSource(sqs, queue)
    records = source.receive()
    assert len(records) == 10
    response = source.deliver(records)
    failing_id = next(r["messageId"] for r in records if json.loads(r["body"])["n"] == 7)
    assert response == {"batchItemFailures": [{"itemIdentifier": failing_id}]}
    assert failing_id in ids
    # Only the failed record is left on the queue; the other nine were deleted.
    remaining = source.receive()
    assert [r["messageId"] for r in remaining] == [failing_id]


def test_a_message_that_keeps_failing_lands_in_the_dead_letter_queue_after_max_attempts(sqs, user_module):
    user_module(FAIL_ON_ORDER.replace("FAILING_SET", "{2}"))
    queue, dead_letter = make_queues(sqs, max_receive_count=3)
    send_orders(sqs, queue, 3)
    source = EventSource(sqs, queue)
    for _ in range(5):
        source.poll()
    import orders_handler

    assert [attempt for n, attempt in orders_handler.seen if n == 2] == [1, 2, 3]
    moved = sqs.receive_message(QueueUrl=dead_letter, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in moved] == [{"n": 2}]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)


def test_fifo_batch_stops_at_the_first_failure_and_reports_the_rest(sqs, user_module):
    user_module(FAIL_ON_ORDER.replace("FAILING_SET", "{3}"))
    queue, _ = make_queues(sqs, fifo=True)
    send_orders(sqs, queue, 10, fifo=True)
    source = EventSource(sqs, queue)
    records = source.receive()
    assert [json.loads(r["body"])["n"] for r in records] == list(range(1, 11))
    response = source.deliver(records)
    assert response["batchItemFailures"] == [{"itemIdentifier": r["messageId"]} for r in records[2:]]
    import orders_handler

    # Orders after the failure were never handed to the handler, so order is kept.
    assert [n for n, _ in orders_handler.seen] == [1, 2, 3]


def test_malformed_body_fails_only_its_own_record(sqs, user_module):
    user_module(FAIL_ON_ORDER.replace("FAILING_SET", "set()"))
    queue, _ = make_queues(sqs)
    send_orders(sqs, queue, 2)
    sqs.send_message(QueueUrl=queue, MessageBody="{not json")
    source = EventSource(sqs, queue)
    records = source.receive()
    response = source.deliver(records)
    bad = next(r["messageId"] for r in records if r["body"] == "{not json")
    assert response == {"batchItemFailures": [{"itemIdentifier": bad}]}


def test_record_without_a_message_id_fails_the_whole_batch_rather_than_losing_it(user_module):
    user_module("def handle(message):\n    pass\n")
    with pytest.raises(KeyError):
        aws.handler({"Records": [{"body": "{}", "attributes": {}}]}, None)


def test_handler_that_cannot_be_imported_fails_the_whole_batch(user_module, monkeypatch):
    user_module("def handle(message):\n    pass\n", handler="no_such_module.handle")
    with pytest.raises(ModuleNotFoundError):
        aws.handler({"Records": []}, None)


def test_message_carries_id_body_attributes_attempt_and_cloud(sqs, user_module):
    user_module("received = []\ndef handle(message):\n    received.append(message)\n")
    queue, _ = make_queues(sqs)
    sqs.send_message(
        QueueUrl=queue,
        MessageBody="héllo",
        MessageAttributes={
            "source": {"DataType": "String", "StringValue": "api"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    source = EventSource(sqs, queue)
    records = source.receive()
    assert source.deliver(records) == {"batchItemFailures": []}
    import orders_handler

    (message,) = orders_handler.received
    assert message.id == records[0]["messageId"]
    assert message.body == "héllo".encode() and message.text == "héllo"
    assert message.attributes == {"source": "api", "blob": base64.b64encode(b"\x00\x01").decode()}
    assert message.delivery_attempt == 1
    assert message.cloud == "aws"


def test_user_handler_module_is_imported_once_per_process(user_module):
    user_module("import builtins\nbuiltins.__dict__.setdefault('cq_imports', []).append(1)\ndef handle(message):\n    pass\n")
    import builtins

    builtins.__dict__.pop("cq_imports", None)
    record = {"messageId": "m1", "body": "{}", "attributes": {"ApproximateReceiveCount": "1"}}
    for _ in range(3):
        aws.handler({"Records": [record]}, None)
    assert builtins.__dict__.pop("cq_imports") == [1]
