"""Azure Functions adapter: one Service Bus message in; raising abandons it.

The generated `function_app.py` binds a Service Bus queue trigger with one message per call
(`cardinality="one"`) and lets the host settle it: returning completes the message, raising
abandons it, so Service Bus raises its delivery count and dead-letters it once the count
passes `maxDeliveryCount`. One message per call is what keeps a failure confined to its own
message, the equivalent of SQS's ReportBatchItemFailures: a failed batch would be abandoned
whole. `azure.functions` is never imported here; the host hands over its `ServiceBusMessage`.
"""

from __future__ import annotations

from cloudqueue_runtime._handler import log_failure, user_handler
from cloudqueue_runtime.message import Message


def to_message(received) -> Message:
    """Build a `Message` from an `azure.functions.ServiceBusMessage`."""
    properties = received.application_properties or received.user_properties or {}
    return Message(
        id=received.message_id,
        body=received.get_body(),
        attributes={str(key): str(value) for key, value in properties.items()},
        delivery_attempt=received.delivery_count,
        cloud="azure",
    )


def process(received) -> None:
    """Call the user's handler once; any exception propagates so the host abandons the message."""
    handle = user_handler()  # an import error abandons the message too: retried, never lost
    try:
        handle(to_message(received))
    except Exception:
        log_failure("azure", getattr(received, "message_id", None), getattr(received, "delivery_count", None))
        raise
