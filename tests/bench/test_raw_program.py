"""The benchmark's hand-written baseline registers what the components register, input for input.

bench/instructions.py counts each component against bench/raw_program.py; the ratio means something only
while both register the same resources with the same inputs and dependencies. Physical names
differ (the components derive them from the stack), so hex runs are compared as one token.
"""

from __future__ import annotations

import re

import pulumi
import pytest

from workloads import programs
from pulumi_mocks import Engine

HEX_RUN = re.compile(r"[0-9a-f]{6,}")


def normalised(value):
    if isinstance(value, str):
        return HEX_RUN.sub("#", value)
    if isinstance(value, dict):
        return {key: normalised(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalised(item) for item in value]
    if isinstance(value, (pulumi.Asset, pulumi.Archive)):
        return type(value).__name__  # both sides ship the same built package; its path carries a hash
    return value


def registered(program, queues: int) -> dict[str, tuple]:
    engine = Engine(preview=False)
    engine.run(lambda: program(queues))
    return {
        r.name: (r.type, normalised(r.inputs), sorted(urn.rsplit("::", 1)[1] for urn in r.dependencies))
        for r in engine.all()
        if r.custom
    }


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_raw_program_registers_the_components_resources_inputs_and_dependencies(cloud):
    component, raw = programs()[cloud]
    mine, by_hand = registered(component, 2), registered(raw, 2)
    assert sorted(mine) == sorted(by_hand)
    for name in mine:
        assert mine[name] == by_hand[name], name


def test_one_missing_input_fails_the_comparison():
    component, raw = programs()["aws"]
    mine = registered(component, 1)
    mine["q0-queue"][1].pop("visibilityTimeoutSeconds")
    assert mine != registered(raw, 1)
