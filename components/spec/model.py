"""The resolved spec: what `validate` returns and the cloud components read.

`QueueSpec` and `ConsumerSpec` hold every field with its default filled in, and derive what is
computed from other fields (the visibility timeout per cloud, the consumer's environment).
A field that may name another program's resource holds that resource's Output as given, wrapped
so that its value is checked once known (see validate.py).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from cloudqueue_runtime._handler import HANDLER_ENV, QUEUE_ENV

from .limits import _EMAIL, _limit


@dataclass(frozen=True)
class ConsumerSpec:
    """A validated consumer with every default filled in."""

    code_path: Path
    handler: str
    runtime: str
    memory_mb: int
    timeout_seconds: int
    batch_size: int
    max_batching_window_seconds: int
    max_concurrency: int
    environment: Mapping[str, Any]
    tracing: bool
    network: Mapping[str, Mapping[str, Any]]

    @property
    def handler_module(self) -> str:
        return self.handler.rpartition(".")[0]

    @property
    def handler_function(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass(frozen=True)
class AlarmSpec:
    """The dead-letter alarms and whom they notify, per cloud."""

    dead_letter: bool
    notify: Mapping[str, tuple[Any, ...]]

    def emails(self, cloud: str) -> tuple[str, ...]:
        """The addresses cloudqueue creates a topic, action group or channel for (always plain strings)."""
        return tuple(entry for entry in self.notify.get(cloud, ()) if isinstance(entry, str) and _EMAIL.match(entry))

    def targets(self, cloud: str) -> tuple[Any, ...]:
        """The existing targets named: everything else, an Output included (it must resolve to a target)."""
        return tuple(entry for entry in self.notify.get(cloud, ()) if not (isinstance(entry, str) and _EMAIL.match(entry)))


@dataclass(frozen=True)
class QueueSpec:
    """A validated queue spec with every default filled in; what the cloud components read."""

    name: str
    clouds: tuple[str, ...]
    fifo: bool
    message_retention_seconds: int
    visibility_timeout_seconds: Optional[int]
    max_delivery_attempts: int
    dead_letter_retention_seconds: int
    encryption_keys: Mapping[str, Any]
    consumer: ConsumerSpec
    producers: Mapping[str, tuple[Any, ...]]
    tags: Mapping[str, Any]
    operators: Mapping[str, tuple[Any, ...]]
    max_message_bytes: int
    alarms: AlarmSpec

    def visibility_timeout(self, cloud: str) -> int:
        """The visibility (AWS), lock (Azure) or ack deadline (GCP) for one cloud, in seconds."""
        if self.visibility_timeout_seconds is not None:
            return self.visibility_timeout_seconds
        # AWS guidance for SQS event sources: 6 x the function timeout plus the batching
        # window, so a batch can be retried by Lambda before the message reappears.
        derived = 6 * self.consumer.timeout_seconds + self.consumer.max_batching_window_seconds
        # Derived (never user-given) values are kept inside the cloud's own range.
        limit = _limit("visibility_timeout_seconds", cloud)
        if limit is not None and limit.low is not None:
            derived = max(derived, limit.low)
        if limit is not None and limit.high is not None:
            derived = min(derived, limit.high)
        return derived

    def function_environment(self) -> dict[str, Any]:
        """What the consumer's environment holds on every cloud: the user's variables, then the runtime's own."""
        return {**self.consumer.environment, HANDLER_ENV: self.consumer.handler, QUEUE_ENV: self.name}

