"""The realistic mocks, as the tests use them.

The mocks ship in the package (`components/mocks.py`) because `cloudqueue plan` runs stacks on
them; this module adds what only the tests need: the repository root and its stack files.
"""

from __future__ import annotations

from pathlib import Path

from components.cli import read_stack_config
from components.mocks import *  # noqa: F401,F403 - the mocks' names, for the tests
from components.mocks import flatten_config

REPO = Path(__file__).resolve().parent.parent


def load_stack_config(stack: str) -> dict[str, str]:
    """Pulumi.<stack>.yaml, flattened the way the Pulumi CLI hands config to a program."""
    return flatten_config(read_stack_config(REPO, stack))
