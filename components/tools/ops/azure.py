"""Service Bus: a queue's `$DeadLetterQueue`, through azure-servicebus and DefaultAzureCredential.

The credential is azure-identity's DefaultAzureCredential (environment, workload identity, managed
identity, Azure CLI / azd / PowerShell sign-in), so nothing of cloudqueue's own is configured.
- The dead-letter sub-queue is read with a plain receiver (`sub_queue=DEAD_LETTER`), also for a
  session queue: the sub-queue itself is not session-enabled.
- Redrive builds a new message from the dead-lettered one (body, message id, session id,
  correlation id, content type, subject, time to live, application properties minus the
  DeadLetterReason / DeadLetterErrorDescription the service added), sends it, and only then
  completes the original. Received property keys and string values come back as bytes; they are
  sent back as text (the runtime adapters read attributes as text on every cloud).
- The copy keeps the message id. cloudqueue's queues do not turn on duplicate detection; on a
  queue that does, a copy sent within the detection window would be dropped as a duplicate.
- Purge receives in receive-and-delete mode until the sub-queue is empty (Service Bus has no
  purge call in its data plane), journaling each message.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from .engine import REDRIVE_COUNT_ATTRIBUTE, DeadLetter, redrive_count
from .outputs import AzureNames

# The broker adds these when it dead-letters a message (SDK constants PROPERTIES_DEAD_LETTER_*).
DEAD_LETTER_PROPERTIES = ("DeadLetterReason", "DeadLetterErrorDescription")
WAIT_SECONDS = 5
"""How long one receive waits for a message before the sub-queue counts as gone through."""


def client(names: AzureNames) -> Any:
    from azure.identity import DefaultAzureCredential
    from azure.servicebus import ServiceBusClient

    return ServiceBusClient(fully_qualified_namespace=names.namespace_host, credential=DefaultAzureCredential())


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value  # binary stays binary
    return value


def application_properties(received: Any) -> dict[str, Any]:
    """The received message's own properties as text, without what dead-lettering added."""
    properties = {_text(k): _text(v) for k, v in (received.application_properties or {}).items()}
    return {k: v for k, v in properties.items() if k not in DEAD_LETTER_PROPERTIES}


def body_bytes(received: Any) -> bytes:
    from azure.servicebus.amqp import AmqpMessageBodyType

    if received.body_type != AmqpMessageBodyType.DATA:
        raise ValueError(f"message {received.message_id} has an AMQP {received.body_type.value} body; only data bodies are copied")
    body = received.body
    return body if isinstance(body, bytes) else b"".join(body)


def copy_of(received: Any, count: int) -> Any:
    """The message a redrive sends in place of `received`."""
    from azure.servicebus import ServiceBusMessage

    properties = application_properties(received)
    properties[REDRIVE_COUNT_ATTRIBUTE] = count
    return ServiceBusMessage(
        body_bytes(received),
        message_id=received.message_id,
        session_id=received.session_id,
        correlation_id=received.correlation_id,
        content_type=received.content_type,
        subject=received.subject,
        time_to_live=received.time_to_live,
        application_properties=properties,
    )


class ServiceBusDeadLetterQueue:
    cloud = "azure"

    def __init__(self, client: Any, names: AzureNames, wait_seconds: float = WAIT_SECONDS):
        from azure.servicebus import ServiceBusSubQueue

        self.client, self.names, self.wait = client, names, wait_seconds
        self.source = f"{names.namespace_host}/{names.dead_letter_path}"
        self.destination = f"{names.namespace_host}/{names.queue_name}"
        self._sub_queue = ServiceBusSubQueue.DEAD_LETTER
        self._receiver: Optional[Any] = None
        self._sender: Optional[Any] = None

    @property
    def receiver(self) -> Any:
        if self._receiver is None:
            # A plain (non-session) receiver in peek-lock mode: settle explicitly, after the copy is sent.
            self._receiver = self.client.get_queue_receiver(self.names.queue_name, sub_queue=self._sub_queue, prefetch_count=0)
        return self._receiver

    @property
    def sender(self) -> Any:
        if self._sender is None:
            self._sender = self.client.get_queue_sender(self.names.queue_name)
        return self._sender

    def close(self) -> None:
        for handler in (self._receiver, self._sender, self.client):
            if handler is not None:
                handler.close()

    # --- the engine's interface ------------------------------------------------------------

    def receive(self, count: int) -> list[DeadLetter]:
        return [self._dead_letter(m) for m in self.receiver.receive_messages(max_message_count=count, max_wait_time=self.wait)]

    def browse(self, count: int) -> list[DeadLetter]:
        """Peek (no lock, nothing settled) from the first sequence number on."""
        found: list[DeadLetter] = []
        start = 0
        while len(found) < count:
            batch = self.receiver.peek_messages(max_message_count=count - len(found), sequence_number=start)
            if not batch:
                break
            found.extend(self._dead_letter(m) for m in batch)
            start = batch[-1].sequence_number + 1
        return found

    def send_copy(self, message: DeadLetter, redrive_count: int) -> str:
        self.sender.send_messages(copy_of(message.handle, redrive_count))  # returns once the broker has accepted it
        return message.handle.message_id

    def settle(self, message: DeadLetter) -> None:
        self.receiver.complete_message(message.handle)

    def release(self, messages: list[DeadLetter]) -> None:
        for message in messages:
            self.receiver.abandon_message(message.handle)

    def purge(self, record: Callable[[DeadLetter], None]) -> int:
        """Receive-and-delete until empty; `record` journals each message as it goes."""
        from azure.servicebus import ServiceBusReceiveMode

        purged = 0
        with self.client.get_queue_receiver(
            self.names.queue_name, sub_queue=self._sub_queue, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE, prefetch_count=0
        ) as receiver:
            while True:
                batch = receiver.receive_messages(max_message_count=100, max_wait_time=self.wait)
                if not batch:
                    return purged
                for received in batch:
                    record(self._dead_letter(received))
                    purged += 1

    # ---------------------------------------------------------------------------------------

    def _dead_letter(self, received: Any) -> DeadLetter:
        properties = application_properties(received)
        reason = " - ".join(str(part) for part in (received.dead_letter_reason, received.dead_letter_error_description) if part)
        try:
            body = body_bytes(received)
        except ValueError:
            body = b""  # shown empty; a redrive of it stops with the error
        return DeadLetter(
            key=str(received.sequence_number),
            id=str(received.message_id),
            body=body,
            attributes={str(k): v if isinstance(v, str) else repr(v) for k, v in properties.items()},
            group=received.session_id,
            redrive_count=redrive_count(properties.get(REDRIVE_COUNT_ATTRIBUTE)),
            reason=reason or None,
            sent_at=received.enqueued_time_utc.isoformat() if received.enqueued_time_utc else None,
            handle=received,
        )


def send(client: Any, names: AzureNames, body: bytes, attributes: dict[str, str], group: Optional[str]) -> str:
    """One message to the queue; its message id once the broker has accepted it."""
    import uuid

    from azure.servicebus import ServiceBusMessage

    message = ServiceBusMessage(body, message_id=str(uuid.uuid4()), session_id=group, application_properties=dict(attributes) or None)
    with client.get_queue_sender(names.queue_name) as sender:
        sender.send_messages(message)
    return message.message_id
