"""The real __main__.py, run with the dev and prod stack files under the mocks, passes the pack on every cloud."""

from __future__ import annotations

import pytest

from components.policy_check import stack_policy_config
from policy_harness import Analyzer, mandatory
from pulumi_mocks import REPO, Engine, load_stack_config, ran_stack, run_main

pytestmark = pytest.mark.xdist_group("stacks")  # the unchanged stacks run once per worker (ran_stack)


def policy_config(stack: str) -> dict:
    """What `--policy-pack-config policy/<stack>.json` gives the pack for this stack."""
    return stack_policy_config(REPO, stack)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stacks_policy_config_asks_for_protection_exactly_when_the_stack_protects(stack):
    protect = load_stack_config(stack)["cloudqueue:protect"] == "true"
    assert policy_config(stack)["queues-protected"] == {"required": protect}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_has_no_mandatory_violation_on_any_cloud(stack, preview):
    engine, _ = ran_stack(stack, preview)
    types = {r.type.split(":")[0] for r in engine.all() if r.custom}
    assert {"aws", "azure-native", "gcp"} <= types
    violations = Analyzer(policy_config(stack)).program(engine.all())
    assert mandatory(violations) == []
    # Only the advisory rules speak, and only about what the components leave to the user.
    assert {v.policy for v in violations} <= {"lambda-tracing-active"}


def test_the_pack_catches_an_unprotected_queue_in_the_prod_stack(in_repo):
    engine = Engine(preview=False, stack="prod")
    config = load_stack_config("prod")
    config["cloudqueue:protect"] = "false"
    run_main(engine, config)
    violations = mandatory(Analyzer(policy_config("prod")).program(engine.all()))
    assert violations and {v.policy for v in violations} == {"queues-protected"}
