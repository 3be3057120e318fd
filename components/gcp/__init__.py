"""GcpQueue and what it shares with a stack's other queues on Google Cloud.

- `queue.py`: GcpQueue, a Pub/Sub topic and push subscription with a working dead-letter
  policy, the dead-letter topic and subscription, and a Cloud Functions (2nd gen) consumer.
- `shared.py`: GcpShared, the source bucket, build identity, service agents, key and subnet
  grants and image repositories every queue of a stack shares, and the project lookups.
- `function_source.py`: the files cloudqueue generates into a function's source (main.py).
- `propagation.py`: GrantPropagation, the wait for IAM grants to take effect.
"""

from .function_source import ENTRY_POINT, generated_files, main_py
from .propagation import GRANT_PROPAGATION_SECONDS, GrantPropagation
from .queue import GcpQueue, GcpQueueArgs
from .shared import FUNCTION_KEY_AGENTS, SERVICE_AGENTS, GcpShared, GcpSharedArgs, function_sources_condition

__all__ = [
    "ENTRY_POINT",
    "FUNCTION_KEY_AGENTS",
    "GRANT_PROPAGATION_SECONDS",
    "SERVICE_AGENTS",
    "GcpQueue",
    "GcpQueueArgs",
    "GcpShared",
    "GcpSharedArgs",
    "GrantPropagation",
    "function_sources_condition",
    "generated_files",
    "main_py",
]
