"""Google Cloud Functions adapter: a Pub/Sub push request in, an HTTP status out.

The push subscription posts one JSON envelope per message:
`{"message": {"data": <base64>, "attributes": {...}, "messageId": ...}, "subscription": ...,
"deliveryAttempt": n}` (`deliveryAttempt` is present because the subscription has a dead-letter
policy). Pub/Sub acks on 102, 200, 201, 202 or 204 and redelivers on anything else, so a
handler failure and a malformed envelope both answer non-2xx: the message is retried and,
after `max_delivery_attempts`, forwarded to the dead-letter topic. Nothing is acked silently.
Only the stdlib is used; the request is whatever the Functions Framework passes (a Flask
request), read through `get_data()`.
"""

from __future__ import annotations

import binascii
import os

from cloudqueue_runtime._handler import log_failure, user_handler
from cloudqueue_runtime.message import Message

# Set by GcpQueue when tracing is on: the project whose Cloud Trace the log lines point at.
TRACE_PROJECT_ENV = "CLOUDQUEUE_TRACE_PROJECT"
ACKED = 204
MALFORMED = 400
FAILED = 500


class MalformedEnvelope(ValueError):
    """The request body is not a Pub/Sub push envelope."""


def to_message(envelope: object) -> Message:
    """Build a `Message` from a decoded push envelope; raise MalformedEnvelope when it is not one."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("message"), dict):
        raise MalformedEnvelope("the body has no 'message' object")
    pushed = envelope["message"]
    message_id = pushed.get("messageId") or pushed.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise MalformedEnvelope("the message has no messageId")
    data = pushed.get("data", "")
    attributes = pushed.get("attributes") or {}
    attempt = envelope.get("deliveryAttempt")
    if not isinstance(data, str) or not isinstance(attributes, dict) or not (attempt is None or isinstance(attempt, int)):
        raise MalformedEnvelope("data, attributes or deliveryAttempt has the wrong type")
    try:
        body = binascii.a2b_base64(data, strict_mode=True) if data else b""
    except binascii.Error as error:
        raise MalformedEnvelope(f"data is not base64: {error}") from None
    return Message(id=message_id, body=body, attributes={str(k): str(v) for k, v in attributes.items()}, delivery_attempt=attempt, cloud="gcp")


def push(request) -> tuple[str, int]:
    """Handle one push request: 204 when the handler returns, non-2xx otherwise."""
    import json  # imported on the first request (the Functions Framework has loaded it by then), not at start

    try:
        message = to_message(json.loads(request.get_data()))
    except ValueError as error:  # MalformedEnvelope, JSONDecodeError and UnicodeDecodeError alike
        log_failure("gcp", None, None, _correlation(request))
        return f"malformed Pub/Sub push envelope: {error}", MALFORMED
    try:
        user_handler()(message)
    except Exception:
        log_failure("gcp", message.id, message.delivery_attempt, _correlation(request))
        return "handler failed", FAILED
    return "", ACKED


def _correlation(request) -> dict:
    # Read only when a failure is logged: a handled message pays nothing for tracing.
    return trace_fields(getattr(request, "headers", None) or {}, os.environ.get(TRACE_PROJECT_ENV))


def trace_fields(headers, project: str | None) -> dict:
    """Cloud Logging's trace correlation fields for this request, from `traceparent` or `X-Cloud-Trace-Context`.

    With them, a failure's log line shows under the request's trace in Cloud Trace. Empty when
    tracing is off (no project) or the request carries no trace.
    """
    if not project:
        return {}
    trace = span = None
    sampled = False
    parent = headers.get("traceparent") or ""
    parts = parent.split("-")
    if len(parts) == 4 and len(parts[1]) == 32 and len(parts[2]) == 16:  # W3C: version-trace-span-flags
        trace, span, sampled = parts[1], parts[2], parts[3].endswith("1")
    else:
        context = headers.get("X-Cloud-Trace-Context") or ""  # TRACE_ID/SPAN_ID;o=1
        trace_part, _, rest = context.partition("/")
        if len(trace_part) == 32:
            span_part, _, options = rest.partition(";")
            trace, span, sampled = trace_part, (f"{int(span_part):016x}" if span_part.isdigit() else None), options == "o=1"
    if not trace:
        return {}
    fields = {"logging.googleapis.com/trace": f"projects/{project}/traces/{trace}", "logging.googleapis.com/trace_sampled": sampled}
    if span:
        fields["logging.googleapis.com/spanId"] = span
    return fields
