"""Loads the user's handler once per process, named by the CLOUDQUEUE_HANDLER variable."""

from __future__ import annotations

import os

HANDLER_ENV = "CLOUDQUEUE_HANDLER"

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


def log_failure(cloud: str, message_id: object) -> None:
    """Write the failed message's id and the exception to stderr, which every function host collects."""
    import sys
    import traceback  # only failures pay for it

    sys.stderr.write(f"cloudqueue: {cloud} message {message_id!r} failed\n{traceback.format_exc()}")
