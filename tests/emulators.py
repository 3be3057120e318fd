"""Each cloud's delivery, emulated around the real adapters.

- SQS on moto, driven the way Lambda's event source mapping drives a real queue: `EventSource` builds the records Lambda builds from received messages and settles them as the
mapping does with ReportBatchItemFailures: the records the adapter reports stay on the queue,
the rest are deleted. `EventSourceMapping` polls until the queue is drained, leaving failures to
reappear when their visibility timeout runs out, as SQS does.
- Service Bus peek-lock with maxDeliveryCount (`ServiceBusQueue`), handing over the
  `ServiceBusMessage` objects the Python worker builds.
- Pub/Sub push with a dead-letter policy (`PushSubscription`), posting real push envelopes.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Callable

from azure.functions.servicebus import ServiceBusMessage

from cloudqueue_runtime import aws
from components.local import lambda_record

REGION = "us-east-1"
SUBSCRIPTION = "projects/cloudqueue-dev/subscriptions/orders-gcp-subscription-04154db"


class EventSource:
    """Receive and settle like Lambda's SQS event source mapping with ReportBatchItemFailures."""

    def __init__(self, sqs, queue_url: str, handler: Callable = aws.handler):
        self.sqs, self.queue_url, self.handler = sqs, queue_url, handler
        self.arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def receive(self, batch_size: int = 10) -> list[dict]:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=batch_size, AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])
        return [self.record(m) for m in messages]

    def record(self, message: dict) -> dict:
        """The record Lambda builds from one received message."""
        return lambda_record(message, self.arn)

    def settle(self, records: list[dict], failed: set[str], reappear_now: bool) -> None:
        done = [{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(records) if r["messageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=done)  # as the mapping deletes
        for record in records:
            if record["messageId"] in failed and reappear_now:
                # Visibility 0 stands in for the visibility timeout running out.
                self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)

    def deliver(self, records: list[dict], reappear_now: bool = True) -> dict:
        """Invoke the adapter with one batch; an exception fails the whole batch, as Lambda does."""
        try:
            response = self.handler({"Records": records}, None)
        except Exception:
            self.settle(records, {r["messageId"] for r in records}, reappear_now)
            raise
        self.settle(records, {item["itemIdentifier"] for item in response["batchItemFailures"]}, reappear_now)
        return response

    def poll(self) -> dict:
        return self.deliver(self.receive())


class SqsClock:
    """moto's SQS clock, moved by hand: a visibility timeout passes without waiting for it.

    Time stands still while a batch is handled, so what is visible is decided exactly, and the
    poller moves the clock on only when every remaining message is in flight.
    """

    def __init__(self, monkeypatch):
        import moto.sqs.models as sqs_models

        self.now = time.time()
        monkeypatch.setattr(sqs_models, "unix_time", lambda *args: self.now)
        monkeypatch.setattr(sqs_models, "unix_time_millis", lambda *args: self.now * 1000)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class EventSourceMapping(EventSource):
    """Polls until the queue is empty and nothing is in flight; failures wait out their visibility timeout."""

    def __init__(self, sqs, queue_url: str, batch_size: int, handler: Callable = aws.handler, clock: SqsClock | None = None):
        super().__init__(sqs, queue_url, handler)
        self.batch_size = batch_size
        self.clock = clock
        self.visibility = int(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"])
        self.receives: dict[str, int] = {}
        self.batches = 0

    def _expire_in_flight(self) -> None:
        """Forget in-flight marks whose visibility timeout has run out, as SQS does.

        moto keeps such a message "pending" until a receive reaches it in the queue, and a FIFO
        receive skips every group with a pending message, so it would hand a group's later
        message out before the earlier one that timed out. Real SQS never does.
        """
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[DEFAULT_ACCOUNT_ID][REGION].queues[self.queue_url.rsplit("/", 1)[-1]]
        for message in [m for m in queue.pending_messages if m.visible]:
            queue.pending_messages.remove(message)

    def drain(self, deadline_seconds: float = 60) -> None:
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            self._expire_in_flight()
            records = self.receive(self.batch_size)
            if records:
                self.batches += 1
                for record in records:
                    self.receives[record["messageId"]] = self.receives.get(record["messageId"], 0) + 1
                try:
                    self.deliver(records, reappear_now=False)
                except Exception:
                    pass  # the whole batch stays and comes back after its visibility timeout
                continue
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            if attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0":
                return
            if self.clock is not None:
                self.clock.advance(self.visibility + 0.001)  # everything left is in flight: let it time out
            else:
                time.sleep(0.05)
        raise TimeoutError(f"queue {self.queue_url} not drained in {deadline_seconds} s")


def drain_messages(sqs, queue_url: str) -> list[dict]:
    """Everything on a queue (the dead-letter queue, typically), removed and returned."""
    found = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        found += batch


def create_queues_like_the_component(sqs, queue_inputs: dict, dead_letter_inputs: dict) -> tuple[str, str]:
    """The component's queue and DLQ in moto, with exactly the settings it recorded.

    The visibility timeout is the component's own: with `SqsClock` it passes without waiting.
    """
    fifo = bool(queue_inputs.get("fifoQueue"))
    suffix = ".fifo" if fifo else ""
    fifo_attributes = {"FifoQueue": "true"} if fifo else {}
    dead_letter = sqs.create_queue(
        QueueName=f"dead-letter{suffix}",
        Attributes={**fifo_attributes, "MessageRetentionPeriod": str(int(dead_letter_inputs["messageRetentionSeconds"]))},
    )["QueueUrl"]
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.loads(queue_inputs["redrivePolicy"])
    attributes = {
        **fifo_attributes,
        "MessageRetentionPeriod": str(int(queue_inputs["messageRetentionSeconds"])),
        "VisibilityTimeout": str(int(queue_inputs["visibilityTimeoutSeconds"])),
        # The component's own maxReceiveCount, pointed at this emulator's DLQ.
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": int(redrive["maxReceiveCount"])}),
    }
    if queue_inputs.get("contentBasedDeduplication"):
        attributes["ContentBasedDeduplication"] = "true"
    queue = sqs.create_queue(QueueName=f"queue{suffix}", Attributes=attributes)["QueueUrl"]
    return queue, dead_letter


# --- Azure Service Bus ---------------------------------------------------------------------


def service_bus_message(body: bytes, delivery_count: int = 1, properties: dict | None = None, message_id: str | None = None) -> ServiceBusMessage:
    """A message as the Python worker builds it from the host's Service Bus trigger data."""
    return ServiceBusMessage(
        body=body,
        message_id=message_id or uuid.uuid4().hex,
        delivery_count=delivery_count,
        application_properties=properties or {},
        user_properties=properties or {},
        content_type="application/json",
        lock_token=str(uuid.uuid4()),
        sequence_number=delivery_count,
    )


class ServiceBusQueue:
    """Peek-lock delivery with maxDeliveryCount: complete on return, abandon on raise, then dead-letter."""

    def __init__(self, max_delivery_count: int):
        self.max_delivery_count = max_delivery_count
        self.active: list[tuple[str, bytes, int]] = []
        self.dead_letter: list[tuple[str, bytes, int]] = []
        self.completed: list[str] = []

    def send(self, body: bytes) -> str:
        message_id = uuid.uuid4().hex
        self.active.append((message_id, body, 0))
        return message_id

    def drain(self, trigger) -> None:
        while self.active:
            message_id, body, count = self.active.pop(0)
            count += 1
            received = service_bus_message(body, delivery_count=count, message_id=message_id)
            try:
                trigger(received)
            except Exception:
                # Abandoned: back to the queue, or to $DeadLetterQueue once the count is used up.
                (self.dead_letter if count >= self.max_delivery_count else self.active).append((message_id, body, count))
            else:
                self.completed.append(message_id)


# --- Pub/Sub push --------------------------------------------------------------------------


def envelope(data: bytes, attempt: int | None = 1, attributes: dict | None = None, message_id: str | None = None) -> dict:
    """A push request body as Pub/Sub sends it (wrapped, with deliveryAttempt when a dead-letter policy is set)."""
    message_id = message_id or str(uuid.uuid4().int)[:16]
    body = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes or {},
            "messageId": message_id,
            "message_id": message_id,
            "publishTime": "2026-11-29T10:00:00.000Z",
            "publish_time": "2026-11-29T10:00:00.000Z",
        },
        "subscription": SUBSCRIPTION,
    }
    if attempt is not None:
        body["deliveryAttempt"] = attempt
    return body


class PushSubscription:
    """Pub/Sub push delivery with a dead-letter policy."""

    def __init__(self, client, max_delivery_attempts: int):
        self.client, self.max_delivery_attempts = client, max_delivery_attempts
        self.acked: list[str] = []
        self.dead_lettered: list[tuple[str, bytes, int]] = []

    def publish_and_deliver(self, data: bytes) -> None:
        message_id = str(uuid.uuid4().int)[:16]
        for attempt in range(1, self.max_delivery_attempts + 1):
            if 200 <= self.client.post("/", json=envelope(data, attempt, message_id=message_id)).status_code < 300:
                self.acked.append(message_id)
                return
        self.dead_lettered.append((message_id, data, attempt))
