"""The real __main__.py, run with the dev and prod stack files under the mocks, passes the pack on every cloud."""

from __future__ import annotations

import pytest

from components.tools.policy_check import stack_policy_config
from policy_harness import Analyzer, mandatory
from pulumi_mocks import REPO, Engine, load_stack_config, ran_stack, run_main

pytestmark = pytest.mark.xdist_group("stacks")  # the unchanged stacks run once per worker (ran_stack)


def policy_config(stack: str) -> dict:
    """What `--policy-pack-config policy/<stack>.json` gives the pack for this stack (prod's for the all-options one)."""
    return stack_policy_config(REPO, "prod" if stack == "all-options" else stack)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stacks_policy_config_asks_for_protection_exactly_when_the_stack_protects(stack):
    protect = load_stack_config(stack)["cloudqueue:protect"] == "true"
    assert policy_config(stack)["queues-protected"] == {"required": protect}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
@pytest.mark.parametrize("stack", ["dev", "prod", "all-options"])
def test_stack_has_no_violation_on_any_cloud_not_even_an_advisory_one(stack, preview):
    engine, _ = ran_stack(stack, preview)
    types = {r.type.split(":")[0] for r in engine.all() if r.custom}
    assert {"aws", "azure-native", "gcp"} <= types
    assert Analyzer(policy_config(stack)).program(engine.all()) == []


def test_turning_tracing_off_is_what_the_advisory_tracing_rule_reports(in_repo):
    engine = Engine(preview=False, stack="dev")
    config = load_stack_config("dev")
    config["cloudqueue:queues"] = config["cloudqueue:queues"].replace('"consumer": {', '"consumer": {"tracing": false, ', 1)
    run_main(engine, config)
    violations = Analyzer(policy_config("dev")).program(engine.all())
    assert {(v.policy, v.level) for v in violations} == {("lambda-tracing-active", "advisory")}


def test_the_pack_catches_an_unprotected_queue_in_the_prod_stack(in_repo):
    engine = Engine(preview=False, stack="prod")
    config = load_stack_config("prod")
    config["cloudqueue:protect"] = "false"
    run_main(engine, config)
    violations = mandatory(Analyzer(policy_config("prod")).program(engine.all()))
    assert violations and {v.policy for v in violations} == {"queues-protected"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_turning_the_dead_letter_alarms_off_is_what_the_three_alarm_rules_report(in_repo, stack):
    import json

    engine = Engine(preview=False, stack=stack)
    config = load_stack_config(stack)
    queues = json.loads(config["cloudqueue:queues"])
    for spec in queues.values():
        spec["alarms"] = {"dead_letter": False}
    config["cloudqueue:queues"] = json.dumps(queues)
    run_main(engine, config)
    violations = mandatory(Analyzer(policy_config(stack)).program(engine.all()))
    alarm_rules = ("sqs-dead-letter-queue-has-alarm", "servicebus-dead-letter-queue-has-alert", "pubsub-dead-letter-subscription-has-alert")
    # One per dead-letter queue on each cloud, and nothing else.
    assert sorted(v.policy for v in violations) == sorted(rule for rule in alarm_rules for _ in queues)


def test_a_stack_that_turns_the_alarms_off_on_purpose_can_make_their_rules_advisory(in_repo):
    import json

    engine = Engine(preview=False, stack="dev")
    config = load_stack_config("dev")
    queues = json.loads(config["cloudqueue:queues"])
    queues["orders"]["alarms"] = {"dead_letter": False}
    config["cloudqueue:queues"] = json.dumps(queues)
    run_main(engine, config)
    rules = ("sqs-dead-letter-queue-has-alarm", "servicebus-dead-letter-queue-has-alert", "pubsub-dead-letter-subscription-has-alert")
    # As README says: the CLI's policy config file takes a bare level ("advisory") for a policy.
    violations = Analyzer({**policy_config("dev"), **{rule: "advisory" for rule in rules}}).program(engine.all())
    assert sorted((v.policy, v.level) for v in violations) == sorted((rule, "advisory") for rule in rules)
    assert mandatory(violations) == []
