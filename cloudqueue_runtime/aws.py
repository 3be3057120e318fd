"""AWS Lambda adapter: an SQS batch in, `{"batchItemFailures": [...]}` out.

The event source mapping is created with FunctionResponseTypes=[ReportBatchItemFailures], so
only the records listed here return to the queue (and reach the DLQ after maxReceiveCount);
the rest are deleted. Lambda's handler setting is `cloudqueue_runtime.aws.handler`.
"""

from __future__ import annotations

import os

from cloudqueue_runtime._handler import log_failure, user_handler
from cloudqueue_runtime.message import Message


def to_message(record: dict) -> Message:
    """Build a `Message` from one SQS event record."""
    attributes = {}
    for key, value in (record.get("messageAttributes") or {}).items():
        # Binary attributes arrive base64-encoded already; keep that text form.
        text = value.get("stringValue")
        attributes[key] = text if text is not None else value.get("binaryValue", "")
    receive_count = (record.get("attributes") or {}).get("ApproximateReceiveCount")
    return Message(
        id=record["messageId"],
        body=record["body"].encode("utf-8"),
        attributes=attributes,
        delivery_attempt=int(receive_count) if receive_count else None,
        cloud="aws",
    )


def _attempt(record: dict) -> int | None:
    count = (record.get("attributes") or {}).get("ApproximateReceiveCount")
    return int(count) if isinstance(count, str) and count.isdigit() else None


def _xray() -> dict:
    # Lambda sets the active trace header per invocation when X-Ray tracing is on.
    trace = os.environ.get("_X_AMZN_TRACE_ID")
    return {"xray_trace_id": trace.split(";", 1)[0].removeprefix("Root=")} if trace else {}


def _is_fifo(record: dict) -> bool:
    return str(record.get("eventSourceARN", "")).endswith(".fifo") or "MessageGroupId" in (record.get("attributes") or {})


def handler(event: dict, context: object = None) -> dict:
    """Call the user's handler once per record; report exactly the records that failed.

    A FIFO batch stops at the first failure and reports it and every later record, so no
    message of a group is processed ahead of one that must be retried.
    """
    handle = user_handler()  # an import error fails the whole batch: retried, never lost
    records = event["Records"]
    failures: list[dict] = []
    for index, record in enumerate(records):
        try:
            handle(to_message(record))
        except Exception:
            # A record without a messageId raises KeyError here as well; it cannot be named,
            # so the whole batch is failed instead and SQS redelivers it.
            log_failure("aws", record.get("messageId"), _attempt(record), _xray())
            if _is_fifo(record):
                failures.extend({"itemIdentifier": r["messageId"]} for r in records[index:])
                break
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
