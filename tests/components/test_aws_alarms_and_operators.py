"""AwsQueue's dead-letter alarms, their SNS topic, and the operators' rights, through realistic mocks (preview and up)."""

from __future__ import annotations

import hashlib

import pytest

from components import AwsQueue
from components.aws import OPERATOR_DEAD_LETTER_ACTIONS, OPERATOR_MOVE_TASK_ACTIONS, OPERATOR_QUEUE_ACTIONS
from pulumi_mocks import ACCOUNT, REGION
from specs import single_cloud_args

QUEUE = "aws:sqs/queue:Queue"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
MANAGED_POLICY = "aws:iam/policy:Policy"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
PAGER = f"arn:aws:sns:{REGION}:{ACCOUNT}:pager"
OPERATOR = f"arn:aws:iam::{ACCOUNT}:role/ops"


def build(engine, base_spec, **changes) -> AwsQueue:
    return engine.run(lambda: AwsQueue("orders", single_cloud_args(base_spec, **changes)))


def alarms(engine) -> dict[str, dict]:
    return {r.name.removeprefix("orders-"): r.inputs for r in engine.all(ALARM)}


def test_a_message_in_the_dead_letter_queue_raises_an_alarm_by_default(engine, base_spec):
    build(engine, base_spec)
    count = alarms(engine)["dead-letter-alarm"]
    dead_letter = engine.one(QUEUE, "-dead-letter").outputs["name"]
    assert {k: count[k] for k in ("namespace", "metricName", "dimensions", "statistic", "period", "evaluationPeriods", "comparisonOperator", "threshold", "treatMissingData")} == {
        "namespace": "AWS/SQS",
        "metricName": "ApproximateNumberOfMessagesVisible",
        "dimensions": {"QueueName": dead_letter},
        "statistic": "Maximum",
        "period": 60,
        "evaluationPeriods": 1,
        "comparisonOperator": "GreaterThanThreshold",
        "threshold": 0,
        "treatMissingData": "notBreaching",
    }
    # Without `notify` the alarm still exists (the console and `describe-alarms` show it), with no action.
    assert count["alarmActions"] == count["okActions"] == [] and engine.all(TOPIC) == []
    assert "cloudqueue dlq peek --stack dev orders" in count["alarmDescription"]


def test_the_oldest_dead_letter_half_way_to_expiry_raises_the_second_alarm(engine, base_spec):
    build(engine, base_spec, dead_letter_retention_seconds=604800)
    age = alarms(engine)["dead-letter-age-alarm"]
    assert (age["metricName"], age["threshold"], age["dimensions"]) == ("ApproximateAgeOfOldestMessage", 302400, {"QueueName": engine.one(QUEUE, "-dead-letter").outputs["name"]})
    assert (age["statistic"], age["period"], age["comparisonOperator"], age["treatMissingData"]) == ("Maximum", 60, "GreaterThanThreshold", "notBreaching")


def test_alarms_off_registers_no_alarm_and_no_topic(engine, base_spec):
    build(engine, base_spec, alarms={"dead_letter": False})
    assert engine.all(ALARM) == [] and engine.all(TOPIC) == [] and engine.all(SUBSCRIPTION) == []


def test_addresses_get_one_topic_under_the_queue_key_with_an_email_subscription_each(engine, base_spec):
    emails = ["ops@example.com", "oncall@example.com"]
    build(engine, base_spec, encryption_keys={"aws": KEY_ARN}, alarms={"notify": {"aws": [*emails, PAGER]}})
    topic = engine.one(TOPIC)
    assert topic.name == "orders-alarm-topic" and topic.inputs["kmsMasterKeyId"] == KEY_ARN
    subscriptions = {r.name: r.inputs for r in engine.all(SUBSCRIPTION)}
    # Named after the address, so reordering the list replaces no subscription (a pending one cannot be deleted).
    assert subscriptions == {
        f"orders-alarm-email-{hashlib.sha256(e.encode()).hexdigest()[:8]}": {"topic": topic.outputs["arn"], "protocol": "email", "endpoint": e} for e in emails
    }
    for alarm in alarms(engine).values():
        assert alarm["alarmActions"] == alarm["okActions"] == [topic.outputs["arn"], PAGER]


def test_an_existing_topic_alone_creates_no_topic(engine, base_spec):
    build(engine, base_spec, alarms={"notify": {"aws": [PAGER]}})
    assert engine.all(TOPIC) == [] and all(a["alarmActions"] == [PAGER] for a in alarms(engine).values())


def test_without_a_queue_key_the_alarm_topic_is_not_given_one(engine, base_spec):
    build(engine, base_spec, alarms={"notify": {"aws": ["ops@example.com"]}})
    assert "kmsMasterKeyId" not in engine.one(TOPIC).inputs


def test_alarm_resources_are_the_components_children_with_its_tags(engine, base_spec):
    build(engine, base_spec, tags={"team": "payments"}, alarms={"notify": {"aws": ["ops@example.com"]}})
    component = engine.one("cloudqueue:index:AwsQueue")
    for resource in [*engine.all(ALARM), engine.one(TOPIC), engine.one(SUBSCRIPTION)]:
        assert resource.parent == component.urn and not resource.protect, resource.name
    for resource in [*engine.all(ALARM), engine.one(TOPIC)]:
        assert resource.inputs["tags"] == {"team": "payments", "cloudqueue:queue": "orders"}


# --- operators ----------------------------------------------------------------------------------------


def test_the_operator_policy_grants_send_on_the_queue_and_the_dlq_commands_on_its_dead_letter_queue_only(engine, base_spec):
    component = build(engine, base_spec)
    policy = engine.one(MANAGED_POLICY, "-operator-policy")
    queue, dead_letter = engine.one(QUEUE, "-queue").outputs["arn"], engine.one(QUEUE, "-dead-letter").outputs["arn"]
    assert engine.policy(policy)["Statement"] == [
        {"Sid": "SendToThisQueue", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": queue},
        {"Sid": "WorkItsDeadLetterQueue", "Effect": "Allow", "Action": [*OPERATOR_DEAD_LETTER_ACTIONS, *OPERATOR_MOVE_TASK_ACTIONS], "Resource": dead_letter},
    ]
    assert engine.resolve(component.operator_policy_arn) == policy.outputs["arn"]


def test_with_a_key_the_operator_policy_may_use_it_through_sqs_only(engine, base_spec):
    build(engine, base_spec, encryption_keys={"aws": KEY_ARN})
    statements = engine.policy(engine.one(MANAGED_POLICY, "-operator-policy"))["Statement"]
    assert statements[-1] == {
        "Sid": "UseTheQueueKeyThroughSqs", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": KEY_ARN,
        "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}},
    }


def test_listed_operators_are_granted_in_both_queue_policies_without_the_move_task_actions(engine, base_spec):
    # Queue policies cannot grant the move-task actions across accounts; the managed policy holds them.
    build(engine, base_spec, operators={"aws": [OPERATOR]})
    policies = {p.name.removeprefix("orders-"): engine.policy(p)["Statement"] for p in engine.all(QUEUE_POLICY)}
    queue, dead_letter = engine.one(QUEUE, "-queue").outputs["arn"], engine.one(QUEUE, "-dead-letter").outputs["arn"]
    assert policies["queue-policy"][1:] == [{"Sid": "AllowListedOperators", "Effect": "Allow", "Principal": {"AWS": [OPERATOR]}, "Action": OPERATOR_QUEUE_ACTIONS, "Resource": queue}]
    assert policies["dead-letter-policy"][1:] == [
        {"Sid": "AllowListedOperators", "Effect": "Allow", "Principal": {"AWS": [OPERATOR]}, "Action": OPERATOR_DEAD_LETTER_ACTIONS, "Resource": dead_letter}
    ]
    assert not set(OPERATOR_MOVE_TASK_ACTIONS) & set(OPERATOR_DEAD_LETTER_ACTIONS)


@pytest.mark.parametrize("role", ["queue", "dead-letter"])
def test_without_operators_the_queue_policies_grant_nothing_more(engine, base_spec, role):
    build(engine, base_spec)
    assert [s["Sid"] for s in engine.policy(engine.one(QUEUE_POLICY, f"-{role}-policy"))["Statement"]] == ["DenyInsecureTransport"]
