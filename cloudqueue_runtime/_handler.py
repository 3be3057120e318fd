"""Loads the user's handler once per process, named by the CLOUDQUEUE_HANDLER variable."""

from __future__ import annotations

import os

HANDLER_ENV = "CLOUDQUEUE_HANDLER"
QUEUE_ENV = "CLOUDQUEUE_QUEUE"
"""The spec's queue name, set by every component so failure logs say which queue."""
# Exception messages are the handler's words and may quote data; keep them bounded.
MAX_EXCEPTION_MESSAGE = 1000

_loaded: dict = {}


def user_handler():
    """Return the `module.function` named in CLOUDQUEUE_HANDLER, importing its module once."""
    spec = os.environ.get(HANDLER_ENV, "")
    handler = _loaded.get(spec)
    if handler is None:
        module_name, _, function_name = spec.rpartition(".")
        if not module_name:
            raise RuntimeError(f"{HANDLER_ENV} must be 'module.function', got {spec!r}")
        from importlib import import_module

        handler = getattr(import_module(module_name), function_name)
        _loaded[spec] = handler
    return handler


def _type_name(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def log_failure(cloud: str, message_id: object, attempt: object = None, correlation: dict | None = None) -> None:
    """Log one JSON line for the message that just failed; call it from an `except` block.

    The line carries the message id, delivery attempt, cloud, queue, exception type and message
    and the stack, plus the cloud's trace correlation fields when given. The message body is
    never logged: it may hold personal data.
    """
    import json  # failures only: a clean cold start never pays for these imports
    import sys
    import traceback

    error = sys.exc_info()[1]
    record = {
        "severity": "ERROR",  # Cloud Logging reads this key; the others ignore it
        "message": "cloudqueue: message failed",
        "cloud": cloud,
        "queue": os.environ.get(QUEUE_ENV, ""),
        "message_id": message_id,
        "delivery_attempt": attempt,
        "exception_type": _type_name(error) if error else None,
        "exception_message": str(error)[:MAX_EXCEPTION_MESSAGE] if error else None,
        "stack": "".join(traceback.format_tb(error.__traceback__)) if error else None,
        **(correlation or {}),
    }
    line = json.dumps(record, default=str)
    if cloud == "azure":
        # The Python worker hands `logging` records to the host with the invocation's operation
        # id, so the line lands in Application Insights next to the trace of that message.
        import logging

        logging.getLogger("cloudqueue").error(line)
    else:
        sys.stderr.write(line + "\n")
