"""SQS: the dead-letter queue of a deployed queue, through boto3's own endpoint and credential chain.

boto3 resolves `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_SQS`), `AWS_PROFILE` and the rest of the
standard chain itself; the region is the deployed queue's, read from its ARN.
- Whole-DLQ redrive: `StartMessageMoveTask` from the DLQ to the queue (SQS moves the messages
  itself, FIFO included), progress from `ListMessageMoveTasks`.
- Selective redrive (`--id`), bounded redrive (`--max`) and peek: receive with a short visibility
  timeout -> send a copy -> delete the original. FIFO: the copy keeps the message group and gets
  the deduplication id `cloudqueue-redrive-<original message id>`, so a second send of the same
  original within SQS's 5-minute deduplication interval is dropped by SQS.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any, Callable, Optional

from .engine import REDRIVE_COUNT_ATTRIBUTE, DeadLetter, Progress, redrive_count, receive_then_release
from .outputs import AwsNames

VISIBILITY_SECONDS = 30
"""How long a received message stays hidden while it is copied: short, so a crash gives it back soon."""
MAX_MESSAGE_ATTRIBUTES = 10  # SQS's cap per message; the count attribute needs one of them
DEDUPLICATION_PREFIX = "cloudqueue-redrive-"
MOVE_TASK_DONE = ("COMPLETED", "CANCELLED", "FAILED")
MOVE_TASK_POLL_SECONDS = 5.0
"""How often ListMessageMoveTasks is asked for the task's progress."""
RECEIVE_WAIT_SECONDS = 1
"""Long polling: a short poll asks a sample of SQS's servers and can answer empty while messages remain."""


def client(names: AwsNames) -> Any:
    import boto3  # only the AWS commands pay for boto3

    return boto3.client("sqs", region_name=names.region)


class MoveTaskError(Exception):
    """The message move task ended other than COMPLETED."""


def _sendable(attributes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Received message attributes as SendMessage takes them (the list forms are not implemented by SQS)."""
    out = {}
    for name, value in attributes.items():
        kept = {"DataType": value["DataType"]}
        if value.get("StringValue") is not None:
            kept["StringValue"] = value["StringValue"]
        if value.get("BinaryValue") is not None:
            kept["BinaryValue"] = value["BinaryValue"]
        out[name] = kept
    return out


def _shown(attributes: dict[str, Any]) -> dict[str, str]:
    return {
        name: value["StringValue"] if value.get("StringValue") is not None else base64.b64encode(value.get("BinaryValue") or b"").decode()
        for name, value in attributes.items()
    }


class SqsDeadLetterQueue:
    cloud = "aws"

    def __init__(self, sqs: Any, names: AwsNames, visibility_seconds: Optional[int] = None, wait_seconds: Optional[int] = None):
        self.sqs, self.names = sqs, names
        self.visibility = VISIBILITY_SECONDS if visibility_seconds is None else visibility_seconds
        self.wait = RECEIVE_WAIT_SECONDS if wait_seconds is None else wait_seconds
        self.source, self.destination = names.dlq_url, names.queue_url

    # --- the engine's interface ------------------------------------------------------------

    def receive(self, count: int) -> list[DeadLetter]:
        response = self.sqs.receive_message(
            QueueUrl=self.names.dlq_url,
            MaxNumberOfMessages=max(1, min(count, 10)),
            VisibilityTimeout=self.visibility,
            WaitTimeSeconds=self.wait,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        return [self._dead_letter(m) for m in response.get("Messages", [])]

    def browse(self, count: int) -> list[DeadLetter]:
        """Receive up to `count` distinct messages, then make them all visible again at once."""
        return receive_then_release(self, count)

    def send_copy(self, message: DeadLetter, redrive_count: int) -> str:
        raw = message.handle
        attributes = _sendable(raw.get("MessageAttributes", {}))
        attributes[REDRIVE_COUNT_ATTRIBUTE] = {"DataType": "Number", "StringValue": str(redrive_count)}
        if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
            raise ValueError(f"{message.id} has {len(attributes) - 1} message attributes; with {REDRIVE_COUNT_ATTRIBUTE} it would pass SQS's {MAX_MESSAGE_ATTRIBUTES}")
        extra: dict[str, Any] = {}
        if self.names.fifo:
            extra["MessageGroupId"] = raw["Attributes"]["MessageGroupId"]
            extra["MessageDeduplicationId"] = f"{DEDUPLICATION_PREFIX}{raw['MessageId']}"
        trace = raw.get("Attributes", {}).get("AWSTraceHeader")
        if trace:  # the copy stays in the original's X-Ray trace
            extra["MessageSystemAttributes"] = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
        sent = self.sqs.send_message(QueueUrl=self.names.queue_url, MessageBody=raw["Body"], MessageAttributes=attributes, **extra)
        # The confirmation: SQS's digest of the body it stored must be ours before the original goes.
        if sent.get("MD5OfMessageBody") != hashlib.md5(raw["Body"].encode("utf-8")).hexdigest():
            raise ValueError(f"SQS acknowledged {message.id}'s copy with a body digest that does not match; the original is kept")
        return sent["MessageId"]

    def settle(self, message: DeadLetter) -> None:
        self.sqs.delete_message(QueueUrl=self.names.dlq_url, ReceiptHandle=message.handle["ReceiptHandle"])

    def release(self, messages: list[DeadLetter]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": m.handle["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(chunk)]
            failed = self.sqs.change_message_visibility_batch(QueueUrl=self.names.dlq_url, Entries=entries).get("Failed", [])
            if failed:
                raise RuntimeError(f"SQS kept {len(failed)} message(s) hidden: {failed[0].get('Message', failed[0].get('Code'))}")

    # --- whole-queue operations -----------------------------------------------------------

    def depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.names.dlq_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))

    def purge(self) -> None:
        # SQS deletes within 60 s and refuses a second purge of the queue in that time.
        self.sqs.purge_queue(QueueUrl=self.names.dlq_url)

    def start_move_task(self, rate: Optional[float]) -> str:
        request: dict[str, Any] = {"SourceArn": self.names.dlq_arn, "DestinationArn": self.names.queue_arn}
        if rate:
            request["MaxNumberOfMessagesPerSecond"] = int(rate)
        return self.sqs.start_message_move_task(**request)["TaskHandle"]

    def wait_move_task(self, task_handle: str, progress: Optional[Progress] = None, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
        """Poll ListMessageMoveTasks until this task is done; its last entry."""
        while True:
            tasks = self.sqs.list_message_move_tasks(SourceArn=self.names.dlq_arn, MaxResults=10).get("Results", [])
            # Only a RUNNING task carries its handle; the newest entry is the one just started.
            task = next((t for t in tasks if t.get("TaskHandle") == task_handle), tasks[0] if tasks else None)
            if task is None:
                raise MoveTaskError(f"ListMessageMoveTasks on {self.names.dlq_arn} lists no task")
            moved, total = task.get("ApproximateNumberOfMessagesMoved", 0), task.get("ApproximateNumberOfMessagesToMove")
            if progress:
                progress.update(f"{task['Status']}: {moved} of {total if total is not None else '?'} moved", force=True)
            if task["Status"] in MOVE_TASK_DONE:
                if progress:
                    progress.done()
                return task
            sleep(MOVE_TASK_POLL_SECONDS)

    # ---------------------------------------------------------------------------------------

    def _dead_letter(self, raw: dict[str, Any]) -> DeadLetter:
        system = raw.get("Attributes", {})
        attributes = raw.get("MessageAttributes", {})
        sent = system.get("SentTimestamp")
        return DeadLetter(
            key=raw["MessageId"],
            id=raw["MessageId"],
            body=raw["Body"].encode("utf-8"),
            attributes=_shown(attributes),
            group=system.get("MessageGroupId"),
            redrive_count=redrive_count((attributes.get(REDRIVE_COUNT_ATTRIBUTE) or {}).get("StringValue")),
            reason=f"received {system['ApproximateReceiveCount']} times" if "ApproximateReceiveCount" in system else None,
            sent_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(sent) / 1000)) if sent else None,
            handle=raw,
        )


def send(sqs: Any, names: AwsNames, body: bytes, attributes: dict[str, str], group: Optional[str]) -> str:
    """One message to the queue; its message id once SQS has stored it."""
    text = body.decode("utf-8")  # SQS bodies are text; the caller has checked it decodes
    extra: dict[str, Any] = {}
    if names.fifo:
        import uuid

        # Each `send` is a new message: a fresh deduplication id, so the same test body sent twice
        # within 5 minutes is not silently dropped by the queue's content-based deduplication.
        extra = {"MessageGroupId": group, "MessageDeduplicationId": str(uuid.uuid4())}
    sent = sqs.send_message(
        QueueUrl=names.queue_url, MessageBody=text, MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}, **extra
    )
    if sent.get("MD5OfMessageBody") != hashlib.md5(body).hexdigest():
        raise ValueError("SQS acknowledged the message with a body digest that does not match")
    return sent["MessageId"]
