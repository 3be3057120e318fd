"""Outputs as the component tests pass them, and what the mock engine registered, for comparing two runs.

Another program wires its own resources into a queue's spec: a key it creates, its API's role, its
subnets. Those arrive as Outputs, known (`known`) or, in a preview of a new resource, unknown
(`unknown`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
from pulumi.output import Unknown

from pulumi_mocks import Engine


def known(value: str) -> pulumi.Output[str]:
    """An Output whose value is known (another resource's, after it exists)."""
    return pulumi.Output.from_input(value)


def unknown() -> pulumi.Output[str]:
    """An Output a preview cannot know yet (an id of a resource that is still to be created).

    Call it inside a running program: its futures belong to the engine's event loop.
    """
    loop = asyncio.get_event_loop()
    value, is_known = loop.create_future(), loop.create_future()
    value.set_result(None)
    is_known.set_result(False)
    return pulumi.Output(set(), value, is_known)


def is_unknown(value: Any) -> bool:
    """Whether a registered input is one the preview could not know."""
    return isinstance(value, Unknown)


def _normalised(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _normalised(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalised(item) for item in value]
    if isinstance(value, (pulumi.FileArchive, pulumi.FileAsset)):
        return (type(value).__name__, value.path)  # content-addressed: the same code, the same path
    return value


def registered(engine: Engine) -> dict[str, tuple]:
    """Every resource the engine saw: name -> (type, parent, inputs, sorted dependencies)."""
    return {r.name: (r.type, r.parent, _normalised(r.inputs), sorted(r.dependencies)) for r in engine.all()}
