"""GcpQueue's dead-letter alert policy, its notification channels and the operators' grants (preview and up)."""

from __future__ import annotations

import hashlib

from components import GcpQueue
from pulumi_mocks import GCP_PROJECT
from specs import single_cloud_args

POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
TOPIC = "gcp:pubsub/topic:Topic"
TOPIC_MEMBER = "gcp:pubsub/topicIAMMember:TopicIAMMember"
SUBSCRIPTION_MEMBER = "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember"
PAGER = f"projects/{GCP_PROJECT}/notificationChannels/8437562911"
OPERATOR = "group:ops@example.com"


def build(engine, base_spec, **changes) -> GcpQueue:
    return engine.run(lambda: GcpQueue("orders", single_cloud_args(base_spec, **changes)))


def test_the_alert_policy_watches_the_dead_letter_subscription_by_its_short_name(engine, base_spec):
    build(engine, base_spec, dead_letter_retention_seconds=86400)
    policy = engine.one(POLICY).inputs
    short = engine.one(SUBSCRIPTION, "-dead-letter-subscription").outputs["name"]
    assert "/" not in short and policy["combiner"] == "OR" and policy["severity"] == "WARNING"
    (count, age) = [c["conditionThreshold"] for c in policy["conditions"]]
    assert count["filter"] == (
        f'resource.type = "pubsub_subscription" AND resource.label.subscription_id = "{short}" '
        'AND metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages"'
    )
    assert (count["comparison"], count["thresholdValue"], count["duration"]) == ("COMPARISON_GT", 0, "0s")
    assert count["aggregations"] == [{"alignmentPeriod": "60s", "perSeriesAligner": "ALIGN_MAX"}] and count["trigger"] == {"count": 1}
    # The second condition: the oldest message half way to the subscription's retention, before Pub/Sub drops it.
    assert age["filter"].endswith('metric.type = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"') and short in age["filter"]
    assert (age["comparison"], age["thresholdValue"]) == ("COMPARISON_GT", 43200)
    assert "cloudqueue dlq peek --stack dev orders" in policy["documentation"]["content"]
    assert policy.get("notificationChannels", []) == [] and engine.all(CHANNEL) == []


def test_alarms_off_registers_no_alert_policy(engine, base_spec):
    build(engine, base_spec, alarms={"dead_letter": False})
    assert engine.all(POLICY) == [] and engine.all(CHANNEL) == []


def test_each_address_gets_an_email_channel_and_the_policy_notifies_it_and_the_existing_one(engine, base_spec):
    emails = ["ops@example.com", "oncall@example.com"]
    build(engine, base_spec, tags={"team": "Payments"}, alarms={"notify": {"gcp": [PAGER, *emails]}})
    channels = {r.name: r for r in engine.all(CHANNEL)}
    assert set(channels) == {f"orders-alarm-email-{hashlib.sha256(e.encode()).hexdigest()[:8]}" for e in emails}
    for email in emails:
        channel = channels[f"orders-alarm-email-{hashlib.sha256(email.encode()).hexdigest()[:8]}"]
        assert (channel.inputs["type"], channel.inputs["labels"]) == ("email", {"email_address": email})
        assert channel.outputs["name"].startswith(f"projects/{GCP_PROJECT}/notificationChannels/")
    policy = engine.one(POLICY)
    assert policy.inputs["notificationChannels"] == [PAGER, *(channels[f"orders-alarm-email-{hashlib.sha256(e.encode()).hexdigest()[:8]}"].outputs["name"] for e in emails)]
    component = engine.one("cloudqueue:index:GcpQueue")
    for resource in (policy, *channels.values()):
        assert resource.inputs["userLabels"] == {"team": "payments", "cloudqueue_queue": "orders"} and resource.parent == component.urn


def test_each_operator_may_publish_to_the_topic_and_consume_the_dead_letter_subscription_only(engine, base_spec):
    build(engine, base_spec, operators={"gcp": [OPERATOR]})
    topic = engine.one(TOPIC, "-topic").id
    dead_letter_subscription = engine.one(SUBSCRIPTION, "-dead-letter-subscription").id
    grants = {r.name: r.inputs for r in [*engine.all(TOPIC_MEMBER), *engine.all(SUBSCRIPTION_MEMBER)] if "-operator-" in r.name}
    assert grants == {
        "orders-operator-0-publisher": {"topic": topic, "role": "roles/pubsub.publisher", "member": OPERATOR},
        "orders-operator-0-subscriber": {"subscription": dead_letter_subscription, "role": "roles/pubsub.subscriber", "member": OPERATOR},
    }
