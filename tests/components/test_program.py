"""Per-program state (components/program.py): one value per program, freed with the program."""

from __future__ import annotations

import gc
import weakref

import pulumi

from components import program
from pulumi_mocks import Engine


def probe() -> pulumi.ComponentResource:
    return pulumi.ComponentResource("cloudqueue:test:Probe", "probe")


class HoldsItsConnection:
    """State that refers back to its program's engine connection, as the shared resources do through
    their outputs' task contexts."""

    def __init__(self) -> None:
        self.connection = pulumi.runtime.settings.SETTINGS.monitor


def test_one_value_per_program_and_a_new_one_for_the_next_program():
    values = Engine(preview=False).run(lambda: [program.once("probe", probe), program.once("probe", probe)])
    assert values[0] is values[1]
    assert Engine(preview=False).run(lambda: program.once("probe", probe)) is not values[0]


def test_a_finished_programs_state_is_freed_with_its_engine_not_kept_for_the_process():
    # The SDK keeps the first settings a process sets as its defaults: a program before this one.
    Engine(preview=False).run(lambda: None)
    engine = Engine(preview=False)
    kept = weakref.ref(engine.run(lambda: program.once("state", HoldsItsConnection)))
    del engine
    Engine(preview=False).run(lambda: None)  # the next program
    gc.collect()
    assert kept() is None
