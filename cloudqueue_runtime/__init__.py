"""cloudqueue's in-function runtime: `Message` and one adapter per cloud.

Stdlib-only and copied into every function artifact next to the user's code. Each adapter
imports only what it needs, so a cold start pays for nothing else.
"""

from cloudqueue_runtime.message import Message

__all__ = ["Message"]
