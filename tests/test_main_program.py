"""`__main__.py` run with the real dev and prod stack files, parsed the way the Pulumi CLI hands them over."""

from __future__ import annotations

import json

import pulumi
import pytest

from components import SpecError
from components.spec import iso8601_duration, validate
from pulumi_mocks import REPO, Engine, load_stack_config, ran_stack, run_main

pytestmark = pytest.mark.xdist_group("stacks")  # the unchanged stacks run once per worker (ran_stack)


OUTPUTS = {
    "aws": {"queue_url", "queue_arn", "dlq_url", "dlq_arn", "function_name", "producer_policy_arn", "operator_policy_arn"},
    "azure": {"namespace_name", "queue_name", "dead_letter_path", "function_app_name", "namespace_host"},
    "gcp": {"topic_id", "subscription_id", "dead_letter_topic_id", "dead_letter_subscription_id", "function_name"},
}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_dev_stack_builds_each_configured_queue_on_three_clouds_and_exports_outputs_by_cloud(preview):
    engine, outputs = ran_stack("dev", preview)
    assert {cloud: set(values) for cloud, values in outputs["orders"].items()} == OUTPUTS
    assert outputs["orders"]["aws"]["queue_url"] == engine.one("aws:sqs/queue:Queue", "orders-aws-queue").outputs["url"]
    assert outputs["orders"]["azure"]["dead_letter_path"] == "orders-azure-queue/$DeadLetterQueue"
    assert [r.name for r in engine.all("cloudqueue:index:Queue")] == ["orders"]
    # Dev is unprotected: queues can be torn down freely.
    assert not [r.name for r in engine.all() if r.protect]
    assert engine.one("aws:lambda/function:Function").inputs["environment"]["variables"]["LOG_LEVEL"] == "debug"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_cloud_gets_the_same_attempts_and_equivalent_retention_and_visibility(stack):
    engine, _ = ran_stack(stack, False)
    queues = json.loads(load_stack_config(stack)["cloudqueue:queues"])
    for name in queues:
        spec = validate(name, queues[name], base_dir=REPO)
        sqs = engine.one("aws:sqs/queue:Queue", f"{name}-aws-queue")
        sqs_dead_letter = engine.one("aws:sqs/queue:Queue", f"{name}-aws-dead-letter")
        service_bus = engine.one("azure-native:servicebus:Queue", f"{name}-azure-queue")
        pubsub = engine.one("gcp:pubsub/subscription:Subscription", f"{name}-gcp-subscription")
        pubsub_dead_letter = engine.one("gcp:pubsub/subscription:Subscription", f"{name}-gcp-dead-letter-subscription")
        attempts = spec.max_delivery_attempts
        assert json.loads(sqs.inputs["redrivePolicy"])["maxReceiveCount"] == attempts
        assert service_bus.inputs["maxDeliveryCount"] == attempts
        assert pubsub.inputs["deadLetterPolicy"]["maxDeliveryAttempts"] == attempts
        retention = spec.message_retention_seconds
        assert sqs.inputs["messageRetentionSeconds"] == retention
        assert service_bus.inputs["defaultMessageTimeToLive"] == iso8601_duration(retention)
        assert pubsub.inputs["messageRetentionDuration"] == f"{retention}s"
        # Dead-lettered messages: as long on SQS and Pub/Sub; Service Bus keeps them until read.
        assert sqs_dead_letter.inputs["messageRetentionSeconds"] == spec.dead_letter_retention_seconds
        assert pubsub_dead_letter.inputs["messageRetentionDuration"] == f"{spec.dead_letter_retention_seconds}s"
        visibility = spec.visibility_timeout("aws")
        assert sqs.inputs["visibilityTimeoutSeconds"] == visibility
        assert pubsub.inputs["ackDeadlineSeconds"] == visibility
        assert service_bus.inputs["lockDuration"] == iso8601_duration(min(visibility, 300))
        assert service_bus.inputs["requiresSession"] is spec.fifo and pubsub.inputs["enableMessageOrdering"] is spec.fifo


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_dead_letter_queue_has_its_alarm_and_where_messages_expire_one_at_half_their_retention(stack):
    engine, _ = ran_stack(stack, False)
    queues = json.loads(load_stack_config(stack)["cloudqueue:queues"])
    for name in queues:
        spec = validate(name, queues[name], base_dir=REPO)
        dead_letter = engine.one("aws:sqs/queue:Queue", f"{name}-aws-dead-letter").outputs["name"]
        count = engine.one("aws:cloudwatch/metricAlarm:MetricAlarm", f"{name}-aws-dead-letter-alarm").inputs
        age = engine.one("aws:cloudwatch/metricAlarm:MetricAlarm", f"{name}-aws-dead-letter-age-alarm").inputs
        assert count["dimensions"] == age["dimensions"] == {"QueueName": dead_letter}
        assert (count["threshold"], age["threshold"]) == (0, spec.dead_letter_retention_seconds // 2)
        alert = engine.one("azure-native:monitor:MetricAlert", f"{name}-azure-dead-letter-alarm").inputs
        assert alert["criteria"]["allOf"][0]["dimensions"][0]["values"] == [engine.one("azure-native:servicebus:Queue", f"{name}-azure-queue").outputs["name"]]
        conditions = engine.one("gcp:monitoring/alertPolicy:AlertPolicy", f"{name}-gcp-dead-letter-alarm").inputs["conditions"]
        held = engine.one("gcp:pubsub/subscription:Subscription", f"{name}-gcp-dead-letter-subscription").outputs["name"]
        assert [c["conditionThreshold"]["thresholdValue"] for c in conditions] == [0, spec.dead_letter_retention_seconds // 2]
        assert all(f'subscription_id = "{held}"' in c["conditionThreshold"]["filter"] for c in conditions)
        # Both SQS queues at the spec's message size, which Service Bus Standard and Pub/Sub also take.
        assert {engine.one("aws:sqs/queue:Queue", f"{name}-aws-{role}").inputs["maxMessageSize"] for role in ("queue", "dead-letter")} == {spec.max_message_bytes}


def test_prod_e_mails_the_orders_alarms_on_every_cloud_and_grants_its_operators():
    engine, outputs = ran_stack("prod", False)
    topic = engine.one("aws:sns/topic:Topic", "orders-aws-alarm-topic")
    assert engine.one("aws:sns/topicSubscription:TopicSubscription").inputs["endpoint"] == "payments-oncall@example.com"
    assert topic.inputs["kmsMasterKeyId"] == engine.one("aws:sqs/queue:Queue", "orders-aws-queue").inputs["kmsMasterKeyId"]
    assert engine.one("azure-native:monitor:ActionGroup").inputs["emailReceivers"][0]["emailAddress"] == "payments-oncall@example.com"
    assert engine.one("gcp:monitoring/notificationChannel:NotificationChannel").inputs["labels"] == {"email_address": "payments-oncall@example.com"}
    assert [r.name for r in engine.all("azure-native:authorization:RoleAssignment") if "-operator-" in r.name] == ["orders-azure-operator-0-sender", "orders-azure-operator-0-receiver"]
    assert outputs["orders"]["aws"]["operator_policy_arn"] == engine.one("aws:iam/policy:Policy", "orders-aws-operator-policy").outputs["arn"]
    assert outputs["orders"]["azure"]["namespace_host"].endswith(".servicebus.windows.net")


def test_azure_and_gcp_shared_pieces_are_created_once_per_stack():
    engine, _ = ran_stack("prod", False)
    assert len(engine.all("azure-native:servicebus:Namespace")) == 1 and len(engine.all("azure-native:servicebus:Queue")) == 2
    assert len(engine.all("gcp:storage/bucket:Bucket")) == 1 and len(engine.all("gcp:cloudfunctionsv2/function:Function")) == 2
    assert sorted(engine.mocks.invokes) == [
        "aws:index/getPartition:getPartition",
        "aws:index/getRegion:getRegion",
        "azure-native:authorization:getClientConfig",
        "gcp:organizations/getClientConfig:getClientConfig",
        "gcp:organizations/getProject:getProject",
        "gcp:storage/getProjectServiceAccount:getProjectServiceAccount",
    ]


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_prod_stack_protects_every_queue_and_dead_letter_queue(preview):
    assert load_stack_config("prod")["cloudqueue:protect"] == "true"
    engine, outputs = ran_stack("prod", preview)
    assert set(outputs) >= {"orders", "payments"}
    data_types = {
        "aws:sqs/queue:Queue",
        "azure-native:servicebus:Queue",
        "azure-native:servicebus:Namespace",
        "azure-native:resources:ResourceGroup",
        "gcp:pubsub/topic:Topic",
        "gcp:pubsub/subscription:Subscription",
    }
    data = [r for r in engine.all() if r.type in data_types]
    assert len(data) == 4 + 2 + 1 + 1 + 4 + 4 and all(r.protect for r in data)
    assert not [r.name for r in engine.all() if r.custom and r.protect and r.type not in data_types]
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
