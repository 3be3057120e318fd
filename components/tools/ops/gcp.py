"""Pub/Sub: a queue's dead-letter subscription, through google-cloud-pubsub.

Credentials are application default credentials; with `PUBSUB_EMULATOR_HOST` set the client
library itself talks to that host without credentials. Nothing of cloudqueue's own.
- Peek pulls from the dead-letter subscription and gives the messages straight back
  (ack deadline 0).
- Redrive pulls, republishes each message to the queue's topic with its data, its attributes
  minus the `CloudPubSubDeadLetter*` ones Pub/Sub added when forwarding it, and its ordering key;
  waits for the publish result (the message id), and only then acks the dead-lettered message.
- Purge seeks the dead-letter subscription to now: every message published before is acked.
"""

from __future__ import annotations

import warnings
from typing import Any, Optional

from .engine import REDRIVE_COUNT_ATTRIBUTE, DeadLetter, redrive_count, receive_then_release
from .outputs import GcpNames

DEAD_LETTER_ATTRIBUTE_PREFIX = "CloudPubSubDeadLetter"
ACK_DEADLINE_SECONDS = 60
"""Ack deadline of a pulled message while it is copied (the subscription's own is 600 s): short,
so a crash gives it back soon."""
PULL_TIMEOUT_SECONDS = 10.0
PUBLISH_TIMEOUT_SECONDS = 60.0


def _pubsub() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # google-api-core's Python end-of-life notice
        from google.cloud import pubsub_v1
    return pubsub_v1


def publisher() -> Any:
    """A publisher with message ordering on (ordering keys are kept), from the library's own credential chain."""
    pubsub_v1 = _pubsub()
    return pubsub_v1.PublisherClient(publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True))


def subscriber() -> Any:
    return _pubsub().SubscriberClient()


def republished_attributes(attributes: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in attributes.items() if not k.startswith(DEAD_LETTER_ATTRIBUTE_PREFIX)}


class PubSubDeadLetterQueue:
    cloud = "gcp"

    def __init__(self, publisher: Any, subscriber: Any, names: GcpNames, ack_deadline_seconds: Optional[int] = None, pull_timeout: float = PULL_TIMEOUT_SECONDS):
        self.publisher, self.subscriber, self.names = publisher, subscriber, names
        self.ack_deadline = ACK_DEADLINE_SECONDS if ack_deadline_seconds is None else ack_deadline_seconds
        self.pull_timeout = pull_timeout
        self.source, self.destination = names.dead_letter_subscription_id, names.topic_id

    # --- the engine's interface ------------------------------------------------------------

    def receive(self, count: int) -> list[DeadLetter]:
        from google.api_core import exceptions

        try:
            response = self.subscriber.pull(subscription=self.source, max_messages=count, timeout=self.pull_timeout)
        except exceptions.DeadlineExceeded:
            return []  # nothing arrived while the pull waited
        received = [self._dead_letter(m) for m in response.received_messages]
        if received:
            self.subscriber.modify_ack_deadline(subscription=self.source, ack_ids=[m.handle.ack_id for m in received], ack_deadline_seconds=self.ack_deadline)
        return received

    def browse(self, count: int) -> list[DeadLetter]:
        """Pull up to `count` distinct messages, then give them all back at once (ack deadline 0)."""
        return receive_then_release(self, count)

    def send_copy(self, message: DeadLetter, redrive_count: int) -> str:
        raw = message.handle.message
        attributes = republished_attributes(dict(raw.attributes))
        attributes[REDRIVE_COUNT_ATTRIBUTE] = str(redrive_count)
        future = self.publisher.publish(self.destination, raw.data, ordering_key=raw.ordering_key or "", **attributes)
        return future.result(timeout=PUBLISH_TIMEOUT_SECONDS)  # the message id: Pub/Sub has stored it

    def settle(self, message: DeadLetter) -> None:
        self.subscriber.acknowledge(subscription=self.source, ack_ids=[message.handle.ack_id])

    def release(self, messages: list[DeadLetter]) -> None:
        if messages:
            self.subscriber.modify_ack_deadline(subscription=self.source, ack_ids=[m.handle.ack_id for m in messages], ack_deadline_seconds=0)

    def purge(self) -> str:
        """Seek the dead-letter subscription to now; the time it sought to."""
        from google.protobuf import timestamp_pb2

        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        self.subscriber.seek(request={"subscription": self.source, "time": now})
        return now.ToJsonString()

    # ---------------------------------------------------------------------------------------

    def _dead_letter(self, received: Any) -> DeadLetter:
        message = received.message
        attributes = dict(message.attributes)
        count = attributes.get(f"{DEAD_LETTER_ATTRIBUTE_PREFIX}SourceDeliveryCount")
        source = attributes.get(f"{DEAD_LETTER_ATTRIBUTE_PREFIX}SourceSubscription")
        reason = f"delivered {count} times" + (f" on {source}" if source else "") if count else None
        published = attributes.get(f"{DEAD_LETTER_ATTRIBUTE_PREFIX}SourceTopicPublishTime")
        return DeadLetter(
            key=message.message_id,
            id=message.message_id,
            body=bytes(message.data),
            attributes=republished_attributes(attributes),
            group=message.ordering_key or None,
            redrive_count=redrive_count(attributes.get(REDRIVE_COUNT_ATTRIBUTE)),
            reason=reason,
            sent_at=published or (message.publish_time.isoformat() if message.publish_time else None),
            handle=received,
        )


def send(publisher: Any, names: GcpNames, body: bytes, attributes: dict[str, str], group: Optional[str]) -> str:
    """One message to the topic; its message id once Pub/Sub has stored it."""
    return publisher.publish(names.topic_id, body, ordering_key=group or "", **attributes).result(timeout=PUBLISH_TIMEOUT_SECONDS)
