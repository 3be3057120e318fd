"""`__main__.py` run with the real dev and prod stack files, parsed the way the Pulumi CLI hands them over."""

from __future__ import annotations

import json
import runpy

import pulumi
import pytest

from components import SpecError
from pulumi_mocks import Engine, REPO, load_stack_config


def run_main(engine: Engine, config: dict[str, str]) -> dict:
    def program():
        pulumi.runtime.set_all_config(config)
        runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")
        return pulumi.runtime.get_root_resource().outputs

    outputs = engine.run(program)
    return {name: engine.resolve(value) for name, value in outputs.items()}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_dev_stack_builds_each_configured_queue_and_exports_outputs_by_cloud(in_repo, preview):
    engine = Engine(preview=preview, stack="dev")
    outputs = run_main(engine, load_stack_config("dev"))
    assert set(outputs["orders"]) == {"aws"}
    assert set(outputs["orders"]["aws"]) == {"queue_url", "queue_arn", "dlq_url", "dlq_arn", "function_name", "producer_policy_arn"}
    assert outputs["orders"]["aws"]["queue_url"] == engine.one("aws:sqs/queue:Queue", "orders-aws-queue").outputs["url"]
    assert [r.name for r in engine.all("cloudqueue:index:Queue")] == ["orders"]
    # Dev is unprotected: queues can be torn down freely.
    assert not [r.name for r in engine.all() if r.protect]
    assert engine.one("aws:lambda/function:Function").inputs["environment"]["variables"]["LOG_LEVEL"] == "debug"


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_prod_stack_protects_every_queue_and_dead_letter_queue(in_repo, preview):
    engine = Engine(preview=preview, stack="prod")
    config = load_stack_config("prod")
    assert config["cloudqueue:protect"] == "true"
    outputs = run_main(engine, config)
    assert set(outputs) >= {"orders", "payments"}
    queues = engine.all("aws:sqs/queue:Queue")
    assert len(queues) == 4 and all(q.protect for q in queues)
    assert not [r.name for r in engine.all() if r.custom and r.protect and r.type != "aws:sqs/queue:Queue"]
    # The FIFO queue of prod keeps its .fifo names end to end.
    assert outputs["payments"]["aws"]["queue_url"].endswith(".fifo")
    orders_queue = engine.one("aws:sqs/queue:Queue", "orders-aws-queue")
    assert orders_queue.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:eu-west-1:")


def test_an_invalid_queue_stops_the_stack_before_any_resource_is_registered(in_repo, consumer_dir):
    engine = Engine(preview=False)
    config = load_stack_config("dev")
    queues = json.loads(config["cloudqueue:queues"])
    queues["broken"] = {**queues["orders"], "max_delivery_attempts": 0}
    config["cloudqueue:queues"] = json.dumps(queues)
    with pytest.raises(SpecError, match=r"queues\.broken\.max_delivery_attempts: 0 is below AWS SQS's minimum of 1"):
        run_main(engine, config)
    assert engine.all() == []


def test_missing_queues_config_is_a_clear_error(in_repo):
    engine = Engine(preview=True)
    with pytest.raises(pulumi.ConfigMissingError, match="cloudqueue:queues"):
        run_main(engine, {"cloudqueue:protect": "false"})
