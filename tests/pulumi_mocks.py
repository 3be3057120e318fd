"""The realistic mocks, as the tests use them.

The mocks ship in the package (`components/tools/mocks.py`) because `cloudqueue plan` runs stacks on
them; this module adds what only the tests need: the repository root and its stack files.
"""

from __future__ import annotations

from pathlib import Path

from components.tools.cli import read_stack_config
from components.tools.mocks import *  # noqa: F401,F403 - the mocks' names, for the tests
from components.tools.mocks import Engine, flatten_config
from components.tools.plan import run_stack_program
from security.scan import STACK_FILES  # where each stack's file is: the scan's every-option-on stack is not at the top level

REPO = Path(__file__).resolve().parent.parent


def load_stack_config(stack: str) -> dict[str, str]:
    """Pulumi.<stack>.yaml, flattened the way the Pulumi CLI hands config to a program."""
    return flatten_config(read_stack_config(REPO, stack, STACK_FILES.get(stack)))


def run_main(engine: Engine, config: dict[str, str]) -> dict:
    """Run this repository's __main__.py with `config` on `engine`, from the project folder; return its stack outputs, resolved."""
    outputs = run_stack_program(engine, REPO, config)
    return {name: engine.resolve(value) for name, value in outputs.items()}


_RAN: dict[tuple[str, bool], tuple[Engine, dict]] = {}


def ran_stack(stack: str, preview: bool) -> tuple[Engine, dict]:
    """This repository's program run once per test process with Pulumi.<stack>.yaml: (engine, outputs).

    Tests that only read what the unchanged stack registers share it; the files put it in one
    xdist group, so each stack and mode runs once.
    """
    if (stack, preview) not in _RAN:
        engine = Engine(preview=preview, stack=stack)
        _RAN[stack, preview] = engine, run_main(engine, load_stack_config(stack))
    return _RAN[stack, preview]
