"""Each cloud's delivery, emulated around the real adapters.

- SQS on moto, driven the way Lambda's event source mapping drives a real queue: `EventSource` builds the records Lambda builds from received messages and settles them as the
mapping does with ReportBatchItemFailures: the records the adapter reports stay on the queue,
the rest are deleted. `EventSourceMapping` polls until the queue is drained, leaving failures to
reappear when their visibility timeout runs out, as SQS does.
- Service Bus peek-lock with maxDeliveryCount (`ServiceBusQueue`), handing over the
  `ServiceBusMessage` objects the Python worker builds.
- Pub/Sub push with a dead-letter policy (`PushSubscription`), posting real push envelopes.
- Overload, on a simulated clock: Lambda's mapping capped by maximumConcurrency
  (`ConcurrencyLimitedMapping`), the Functions host pulling into free call slots (`FunctionsHost`),
  and Pub/Sub pushing into a Cloud Run service capped at max instances (`CappedPushSubscription`).
"""

from __future__ import annotations

import base64
import heapq
import itertools
import json
import time
import uuid
from collections import Counter, deque
from functools import partial
from typing import Callable, Optional

from azure.functions.servicebus import ServiceBusMessage

from cloudqueue_runtime import aws
from components.tools.local import lambda_record
from components.spec import CLOUD_RUN_PENDING_SECONDS

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


# --- Overload: consumers capped at a fixed concurrency, on a simulated clock ----------------



def retry_delay(attempt: int, minimum: float, maximum: float) -> float:
    """Pub/Sub's retry delay after the `attempt`-th failed delivery: "exponential based on provided minimum and
    maximum backoffs", best effort (RetryPolicy, pubsub.proto); doubling from the minimum is assumed."""
    return min(maximum, minimum * 2 ** (attempt - 1))


class SimLoop:
    """A discrete-event clock: actions run in time order, nothing sleeps, and the run is bounded."""

    def __init__(self, max_events: int = 200_000):
        self.now, self.max_events = 0.0, max_events
        self._events: list = []
        self._order = itertools.count()

    def at(self, when: float, rank: int, action: Callable[[], None]) -> None:
        """Run `action` at `when`; at one instant lower ranks run first (a finish frees its slot before a wait expires)."""
        heapq.heappush(self._events, (when, rank, next(self._order), action))

    def run(self) -> None:
        for _ in range(self.max_events):
            if not self._events:
                return
            self.now, _, _, action = heapq.heappop(self._events)
            action()
        raise RuntimeError(f"simulation still running after {self.max_events} events")


class ConcurrencyLimitedMapping(EventSourceMapping):
    """Lambda's SQS event source mapping with scalingConfig.maximumConcurrency, on `SqsClock`.

    At most `maximum_concurrency` batches are in flight and the mapping receives only when one of
    them is free, so a message waiting for capacity stays visible in the queue and its receive
    count does not move. A batch runs in one invocation, `handler_seconds` per record, and is
    settled when it ends, as ReportBatchItemFailures does.
    """

    def __init__(self, sqs, queue_url: str, batch_size: int, maximum_concurrency: int, handler_seconds: float, clock: SqsClock, handler: Callable = aws.handler):
        super().__init__(sqs, queue_url, batch_size, handler, clock)
        self.maximum_concurrency, self.handler_seconds = maximum_concurrency, handler_seconds
        self.most_in_flight = 0

    def drain(self, max_batches: int = 10_000) -> None:
        in_flight: list[tuple[float, int, list[dict], set[str]]] = []
        order = itertools.count()
        for _ in range(max_batches):
            self._expire_in_flight()
            while len(in_flight) < self.maximum_concurrency and (records := self.receive(self.batch_size)):
                self.batches += 1
                for record in records:
                    self.receives[record["messageId"]] = self.receives.get(record["messageId"], 0) + 1
                try:
                    failed = {item["itemIdentifier"] for item in self.handler({"Records": records}, None)["batchItemFailures"]}
                except Exception:
                    failed = {record["messageId"] for record in records}
                heapq.heappush(in_flight, (self.clock.now + len(records) * self.handler_seconds, next(order), records, failed))
                self.most_in_flight = max(self.most_in_flight, len(in_flight))
            if in_flight:
                ends, _, records, failed = heapq.heappop(in_flight)
                self.clock.advance(max(0.0, ends - self.clock.now))
                self.settle(records, failed, reappear_now=False)
                continue
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            if attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0":
                return
            self.clock.advance(self.visibility + 0.001)  # only failures are left, invisible: let them time out
        raise RuntimeError(f"queue {self.queue_url} not drained in {max_batches} batches")


class FunctionsHost:
    """The Functions host's Service Bus trigger on `instances` x `calls` concurrent calls, on a simulated clock.

    With prefetchCount 0 the host receives (locks, so counts a delivery) a message only into a free
    call slot: a message waiting for capacity stays in the queue with its delivery count unchanged.
    With `prefetch` > 0 each instance also locks up to that many messages ahead; their locks run
    without renewal, and one that expires before a slot takes the message goes back with its
    delivery count raised ("The delivery count is increased when a message is received in PeekLock
    mode and didn't complete the message before the message lock expired", QueueProperties.MaxDeliveryCount).
    """

    def __init__(self, queue: ServiceBusQueue, instances: int, calls: int, handler_seconds: float, lock_seconds: float, prefetch: int = 0):
        self.queue, self.handler_seconds, self.lock_seconds, self.prefetch = queue, handler_seconds, lock_seconds, prefetch
        self.free = [calls] * instances
        self.buffers: list[deque] = [deque() for _ in range(instances)]
        self.loop, self.trigger, self.capacity, self.most_busy = SimLoop(), None, instances * calls, 0

    def run(self, trigger: Callable) -> None:
        self.trigger = trigger
        self._fill()
        self.loop.run()

    def _receive(self) -> Optional[list]:
        if not self.queue.active:
            return None
        message_id, body, count = self.queue.active.pop(0)
        return [message_id, body, count + 1]  # a peek-lock receive is a delivery

    def _fill(self) -> None:
        for instance, buffer in enumerate(self.buffers):
            while self.free[instance] and (message := buffer.popleft() if buffer else self._receive()):
                self._start(instance, message)
            while len(buffer) < self.prefetch and (message := self._receive()):
                buffer.append(message)
                self.loop.at(self.loop.now + self.lock_seconds, 1, partial(self._lock_expired, instance, message))

    def _start(self, instance: int, message: list) -> None:
        self.free[instance] -= 1
        self.most_busy = max(self.most_busy, self.capacity - sum(self.free))
        message_id, body, count = message
        try:
            self.trigger(service_bus_message(body, delivery_count=count, message_id=message_id))
            completed = True
        except Exception:
            completed = False
        self.loop.at(self.loop.now + self.handler_seconds, 0, partial(self._finish, instance, message, completed))

    def _finish(self, instance: int, message: list, completed: bool) -> None:
        self.free[instance] += 1
        if completed:
            self.queue.completed.append(message[0])
            self._fill()
        else:
            self._release(message)

    def _lock_expired(self, instance: int, message: list) -> None:
        if message in self.buffers[instance]:
            self.buffers[instance].remove(message)
            self._release(message)

    def _release(self, message: list) -> None:
        """Abandoned or lock lost: back to the queue, or to $DeadLetterQueue once maxDeliveryCount is used up."""
        (self.queue.dead_letter if message[2] >= self.queue.max_delivery_count else self.queue.active).append(tuple(message))
        self._fill()


class CappedPushSubscription(PushSubscription):
    """Pub/Sub push to a Cloud Run service capped at `instances` x `per_instance` requests, on a simulated clock.

    Cloud Run holds a request that finds every instance busy for up to `pending_seconds`, then
    refuses it with 429 before it reaches the function. Pub/Sub takes any non-2xx answer as a
    negative acknowledgement, and DeadLetterPolicy counts "1 + (the sum of number of NACKs and
    number of times the acknowledgement deadline has been exceeded)" (pubsub.proto): a refusal is a
    delivery attempt. The next push of a message waits the retry policy's delay; after
    `max_delivery_attempts` the message is dead-lettered. `push_window` None pushes every message
    when it is due (the worst case); a number models Pub/Sub's slow-start push window ("increases
    on any successful delivery and decreases on any failure", cloud.google.com/pubsub/docs/push)
    with this model's own constants: that start, +1 per ack, halved per nack.
    """

    def __init__(
        self,
        client,
        max_delivery_attempts: int,
        minimum_backoff: float,
        maximum_backoff: float,
        instances: int,
        per_instance: int,
        handler_seconds: float,
        pending_seconds: float = CLOUD_RUN_PENDING_SECONDS,
        push_window: Optional[int] = None,
    ):
        super().__init__(client, max_delivery_attempts)
        self.minimum_backoff, self.maximum_backoff = minimum_backoff, maximum_backoff
        self.free = self.capacity = instances * per_instance
        self.handler_seconds, self.pending_seconds, self.window = handler_seconds, pending_seconds, push_window
        self.loop = SimLoop()
        self.pending: deque = deque()  # requests Cloud Run holds for a free instance
        self.waiting: deque = deque()  # pushes the window holds back: not yet delivered, not counted
        self.outstanding = self.refused = 0
        self.runs: Counter = Counter()  # function runs per message id

    def burst(self, bodies: list[bytes], published_at: Optional[list[float]] = None) -> None:
        """Publish `bodies` (all at 0 s, or at `published_at`) and deliver until each is acked or dead-lettered."""
        for data, when in zip(bodies, published_at or [0.0] * len(bodies)):
            self.loop.at(when, 2, partial(self._push, str(uuid.uuid4().int)[:16], data, 1))
        self.loop.run()

    def _push(self, message_id: str, data: bytes, attempt: int) -> None:
        if self.window is not None and self.outstanding >= self.window:
            self.waiting.append((message_id, data, attempt))
            return
        self.outstanding += 1
        if self.free:
            self._start(message_id, data, attempt)
            return
        request = [message_id, data, attempt, True]  # True while Cloud Run still holds it
        self.pending.append(request)
        self.loop.at(self.loop.now + self.pending_seconds, 1, partial(self._refuse, request))

    def _start(self, message_id: str, data: bytes, attempt: int) -> None:
        self.free -= 1
        self.runs[message_id] += 1
        status = self.client.post("/", json=envelope(data, attempt, message_id=message_id)).status_code
        self.loop.at(self.loop.now + self.handler_seconds, 0, partial(self._finish, message_id, data, attempt, status))

    def _finish(self, message_id: str, data: bytes, attempt: int, status: int) -> None:
        self.free += 1
        while self.free and self.pending:  # a held request takes the instance before any new push
            request = self.pending.popleft()
            request[3] = False
            self._start(*request[:3])
        self._answered(message_id, data, attempt, 200 <= status < 300)

    def _refuse(self, request: list) -> None:
        if request[3]:  # no instance freed up in time: 429, and the function never saw it
            request[3] = False
            self.pending.remove(request)
            self.refused += 1
            self._answered(*request[:3], False)

    def _answered(self, message_id: str, data: bytes, attempt: int, acked: bool) -> None:
        self.outstanding -= 1
        if acked:
            self.acked.append(message_id)
        elif attempt >= self.max_delivery_attempts:
            self.dead_lettered.append((message_id, data, attempt))
        else:
            delay = retry_delay(attempt, self.minimum_backoff, self.maximum_backoff)
            self.loop.at(self.loop.now + delay, 2, partial(self._push, message_id, data, attempt + 1))
        if self.window is not None:
            self.window = self.window + 1 if acked else max(1, self.window // 2)
            while self.waiting and self.outstanding < self.window:
                self._push(*self.waiting.popleft())
