"""Queue fans one spec out to the single-cloud components."""

from __future__ import annotations

import pulumi
import pytest

from components import AwsQueue, AzureQueue, GcpQueue, Queue, SpecError


def test_queue_fans_out_to_the_aws_component_with_outputs_nested_by_cloud(engine, base_spec):
    queue = engine.run(lambda: Queue("orders", base_spec))
    assert isinstance(queue.aws, AwsQueue)
    root = engine.one("cloudqueue:index:Queue")
    aws = engine.one("cloudqueue:index:AwsQueue")
    assert (aws.name, aws.parent) == ("orders-aws", root.urn)
    outputs = engine.resolve(queue.outputs)
    assert outputs["aws"]["queue_arn"] == engine.one("aws:sqs/queue:Queue", "-queue").outputs["arn"]


def test_queue_fans_out_to_every_targeted_cloud_with_the_brief_outputs(engine, base_spec):
    queue = engine.run(lambda: Queue("orders", {**base_spec, "clouds": ["aws", "azure", "gcp"]}))
    assert isinstance(queue.aws, AwsQueue) and isinstance(queue.azure, AzureQueue) and isinstance(queue.gcp, GcpQueue)
    root = engine.one("cloudqueue:index:Queue")
    for cloud, token in (("aws", "AwsQueue"), ("azure", "AzureQueue"), ("gcp", "GcpQueue")):
        child = engine.one(f"cloudqueue:index:{token}")
        assert (child.name, child.parent) == (f"orders-{cloud}", root.urn)
    outputs = engine.resolve(queue.outputs)
    assert set(outputs["aws"]) == {"queue_url", "queue_arn", "dlq_url", "dlq_arn", "function_name", "producer_policy_arn", "operator_policy_arn"}
    assert set(outputs["azure"]) == {"namespace_name", "queue_name", "dead_letter_path", "function_app_name", "namespace_host"}
    # What `cloudqueue send` and `dlq` connect to (tools/ops/outputs.py prefers it to a derived host).
    namespace = engine.one("azure-native:servicebus:Namespace").outputs
    assert outputs["azure"]["namespace_host"] == f"{namespace['name']}.servicebus.windows.net" == namespace["serviceBusEndpoint"][8:-5]
    assert set(outputs["gcp"]) == {"topic_id", "subscription_id", "dead_letter_topic_id", "dead_letter_subscription_id", "function_name"}
    assert outputs["azure"]["dead_letter_path"] == engine.one("azure-native:servicebus:Queue").outputs["name"] + "/$DeadLetterQueue"
    assert outputs["gcp"]["topic_id"] == engine.one("gcp:pubsub/topic:Topic", "-topic").id


def test_queue_targets_only_the_clouds_named(engine, base_spec):
    queue = engine.run(lambda: Queue("orders", {**base_spec, "clouds": ["gcp"]}))
    assert queue.aws is None and queue.azure is None
    assert set(engine.resolve(queue.outputs)) == {"gcp"}
    assert not [r for r in engine.all() if r.type.startswith(("aws:", "azure-native:"))]


@pytest.mark.parametrize("cloud", ["azure", "gcp"])
def test_queue_rejects_a_spec_another_targeted_cloud_cannot_honour_before_registering(engine, base_spec, cloud):
    with pytest.raises(SpecError, match="must be lowercase letters, digits and single hyphens"):
        engine.run(lambda: Queue("Orders", {**base_spec, "clouds": ["aws", cloud]}))
    assert engine.all() == []


def test_queue_checks_limits_of_every_targeted_cloud_not_just_aws(engine, base_spec):
    # 3 attempts is valid on SQS but below Pub/Sub's minimum; the gcp limit is reported too.
    with pytest.raises(SpecError) as caught:
        engine.run(lambda: Queue("orders", {**base_spec, "clouds": ["aws", "gcp"], "max_delivery_attempts": 3}))
    assert "queues.orders.max_delivery_attempts: 3 is below Google Cloud Pub/Sub's minimum of 5 (allowed 5..100 when gcp is targeted)" in caught.value.issues


def test_transforms_given_to_queue_reach_the_aws_grandchildren(engine, base_spec, escape_hatch):
    engine.run(lambda: Queue("orders", base_spec, pulumi.ResourceOptions(transforms=[escape_hatch])))
    assert engine.one("aws:sqs/queue:Queue", "-queue").outputs["tags"]["cost-center"] == "42"
    assert engine.one("aws:lambda/function:Function").outputs["memorySize"] == 2048
    # Everything else is untouched.
    assert engine.one("aws:iam/role:Role").outputs["tags"] == {"cloudqueue:queue": "orders"}
