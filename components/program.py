"""State kept once per Pulumi program: account-wide lookups and the stack's shared resources.

Blocking invokes drain the engine's event loop, so a lookup made once per queue makes a
program quadratic. Each cloud asks here instead, and gets one value per program (and per
explicit provider), built on first use.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable, TypeVar

import pulumi

T = TypeVar("T")

# The state hangs off the program's engine connection, not a module-level map keyed by it: the
# shared resources' outputs hold task contexts that hold the connection, so a map entry would keep
# itself alive, and a process running many programs (the Automation API, the mocked tests) would
# keep every finished program's resources. On the connection, it is freed with the connection.
_STATE = "_cloudqueue_per_program"


def once(key: Hashable, build: Callable[[], T]) -> T:
    """The value for `key` in this program, calling `build` only the first time it is asked for."""
    monitor: Any = pulumi.runtime.settings.SETTINGS.monitor
    cache = getattr(monitor, _STATE, None)
    if cache is None:
        cache = {}
        setattr(monitor, _STATE, cache)
    if key not in cache:
        cache[key] = build()
    return cache[key]


def provider_key(provider: pulumi.ProviderResource | None) -> Hashable:
    """A cache key for an explicit provider (None for the default one)."""
    return None if provider is None else id(provider)
