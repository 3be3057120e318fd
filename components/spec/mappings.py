"""How a spec field maps to each cloud: one function per mapping.

The components call these, and the README's equivalence table states them: durations as
Service Bus and host.json write them, the Service Bus lock, the Flex Consumption instance size
and scale, Google Cloud labels, and the burst a Pub/Sub push subscription can take without
dead-lettering a message the function never ran.
"""

import math
import re
from fractions import Fraction
from typing import Any, Mapping

from .limits import AZURE_CALLS_PER_INSTANCE, AZURE_INSTANCE_MEMORY_MB, AZURE_MAX_LOCK_SECONDS, CLOUD_RUN_PENDING_SECONDS
from .model import QueueSpec


def iso8601_duration(seconds: int) -> str:
    """Seconds as an ISO-8601 duration, the form Service Bus takes: 345600 -> P4D, 180 -> PT3M."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return ("P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")) if (days or time) else "PT0S"


def clock_duration(seconds: int) -> str:
    """Seconds as `hh:mm:ss`, the form host.json takes."""
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def azure_lock_seconds(spec: QueueSpec) -> int:
    """Service Bus lockDuration: the visibility timeout, capped at Service Bus's 5 minutes.

    The Functions host renews the lock (maxAutoLockRenewalDuration) for as long as the
    consumer runs, so a cap below the visibility timeout never hands a message out twice.
    """
    return min(spec.visibility_timeout("azure"), AZURE_MAX_LOCK_SECONDS)


def azure_instance_memory_mb(memory_mb: int) -> int:
    """The smallest Flex Consumption instance size that holds `memory_mb`."""
    return next(size for size in AZURE_INSTANCE_MEMORY_MB if size >= memory_mb)


def azure_scale(max_concurrency: int) -> tuple[int, int]:
    """(maximum instances, calls per instance) whose product is the most that max_concurrency allows.

    Each instance runs at most AZURE_CALLS_PER_INSTANCE calls; the fewest instances that reach
    max_concurrency are used, and the product never exceeds it.
    """
    instances = -(-max_concurrency // AZURE_CALLS_PER_INSTANCE)
    return instances, max_concurrency // instances


# Pub/Sub push to Cloud Run under overload: CLOUD_RUN_PENDING_SECONDS (limits.py) states the hold.
def gcp_safe_burst(instances: int, attempts: int, handler_seconds: float, pending_seconds: float = CLOUD_RUN_PENDING_SECONDS) -> int:
    """The largest burst in which Pub/Sub can never dead-letter a message the function did not run: ceil(C x N x Q / T).

    A message dead-lettered unrun was refused on each of its N pushes after a Q-second hold in which
    all C instances (one request each) were busy with other messages. The holds do not overlap, so
    the others kept C x N x Q instance-seconds busy, which B - 1 messages of T seconds cannot when
    (B - 1) x T < C x N x Q, whatever the arrival pattern, push window or retry delays.
    """
    return math.ceil(Fraction(instances * attempts) * Fraction(pending_seconds) / Fraction(handler_seconds))


def gcp_attempts_for_burst(burst: int, instances: int, handler_seconds: float, pending_seconds: float = CLOUD_RUN_PENDING_SECONDS) -> int:
    """The fewest max_delivery_attempts for which `gcp_safe_burst` covers `burst` (Pub/Sub allows up to 100)."""
    return math.floor(Fraction(burst - 1) * Fraction(handler_seconds) / (instances * Fraction(pending_seconds))) + 1


def gcp_label(text: str, key: bool) -> str:
    """A tag key or value as a Google Cloud label: lowercase, [a-z0-9_-], at most 63 characters."""
    label = re.sub(r"[^a-z0-9_-]", "_", text.lower())[:63]
    if key and not label[:1].isalpha():
        label = ("t" + label)[:63]  # keys must start with a letter
    return label


def gcp_labels(tags: Mapping[str, Any]) -> dict[str, Any]:
    """Tags as Google Cloud labels; Output values are passed through unchanged."""
    return {gcp_label(k, True): (gcp_label(v, False) if isinstance(v, str) else v) for k, v in tags.items()}

