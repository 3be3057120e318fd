"""State kept once per Pulumi program: account-wide lookups and the stack's shared resources.

Blocking invokes drain the engine's event loop, so a lookup made once per queue makes a
program quadratic. Each cloud asks here instead, and gets one value per program (and per
explicit provider), built on first use.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Hashable, TypeVar

import pulumi

T = TypeVar("T")

# Keyed by the engine connection, so each program (and each mocked test run) gets its own.
_per_program: "weakref.WeakKeyDictionary[Any, dict[Hashable, Any]]" = weakref.WeakKeyDictionary()


def once(key: Hashable, build: Callable[[], T]) -> T:
    """The value for `key` in this program, calling `build` only the first time it is asked for."""
    cache = _per_program.setdefault(pulumi.runtime.settings.SETTINGS.monitor, {})
    if key not in cache:
        cache[key] = build()
    return cache[key]


def provider_key(provider: pulumi.ProviderResource | None) -> Hashable:
    """A cache key for an explicit provider (None for the default one)."""
    return None if provider is None else id(provider)
