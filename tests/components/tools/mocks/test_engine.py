"""The mock engine's own behaviour: where a program runs, and what crosses between it and its caller."""

from __future__ import annotations

import traceback

import pulumi
import pytest

from pulumi_mocks import Engine


def nested(depth: int, call):
    return call() if depth == 0 else nested(depth - 1, call)


def test_a_program_runs_on_a_shallow_stack_however_deep_the_caller_is():
    engine = Engine(preview=False)
    depth = engine.run(lambda: len(traceback.extract_stack()))
    # The SDK walks the whole stack for every resource: the caller's 200 frames must not be walked.
    assert nested(200, lambda: engine.run(lambda: len(traceback.extract_stack()))) == depth < 20


def test_outputs_made_by_the_caller_are_awaited_in_the_program_and_resolved_after_it(engine):
    import pulumi_aws as aws

    before = pulumi.Output.from_input("orders")
    queue = engine.run(lambda: aws.sqs.Queue("probe", name=before.apply(lambda name: f"{name}-probe")))
    assert engine.one("aws:sqs/queue:Queue").inputs["name"] == "orders-probe"
    assert engine.resolve(queue.arn).endswith(":orders-probe")


def test_an_error_in_the_program_is_raised_to_the_caller():
    with pytest.raises(LookupError, match="no such queue"):
        Engine(preview=True).run(lambda: (_ for _ in ()).throw(LookupError("no such queue")))
