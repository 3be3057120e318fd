"""The spec's day-two fields: `alarms`, `operators` and `max_message_bytes`, each rule with the case that makes it fail."""

from __future__ import annotations

import warnings

import pytest

from components.spec import CrossAccountProducerWarning, validate
from specs import issues_for, with_changes

ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:pager"
ACTION_GROUP = "/subscriptions/3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b/resourceGroups/ops/providers/microsoft.insights/actionGroups/pager"
CHANNEL = "projects/my-project/notificationChannels/1234567890"
TARGETS = {"aws": TOPIC, "azure": ACTION_GROUP, "gcp": CHANNEL}
WANTED = {
    "aws": "an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)",
    "azure": "an action group resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Insights/actionGroups/<name>)",
    "gcp": "a notification channel name (projects/<project>/notificationChannels/<id>)",
}
ALL = ["aws", "azure", "gcp"]


# --- max_message_bytes ------------------------------------------------------------------------


def test_max_message_bytes_defaults_to_256_kib_the_lowest_limit_every_cloud_takes(base_spec):
    assert validate("orders", with_changes(base_spec, clouds=ALL)).max_message_bytes == 262144


def test_one_mib_messages_are_allowed_on_sqs_alone_and_refused_once_service_bus_is_targeted(base_spec):
    assert validate("orders", with_changes(base_spec, max_message_bytes=1048576)).max_message_bytes == 1048576
    assert issues_for("orders", with_changes(base_spec, clouds=["aws", "azure"], max_message_bytes=1048576)) == [
        "queues.orders.max_message_bytes: 1048576 is above Azure Service Bus Standard's maximum of 262144 (allowed 1..262144 when azure is targeted)"
    ]


def test_max_message_bytes_must_be_a_whole_number(base_spec):
    assert issues_for("orders", with_changes(base_spec, max_message_bytes="256KB")) == [
        "queues.orders.max_message_bytes: '256KB' (str) is not a whole number"
    ]


# --- alarms ---------------------------------------------------------------------------------------


def test_the_dead_letter_alarm_is_on_by_default_and_notifies_nobody_until_told(base_spec):
    alarms = validate("orders", with_changes(base_spec, clouds=ALL)).alarms
    assert alarms.dead_letter is True and dict(alarms.notify) == {}


@pytest.mark.parametrize("cloud", ALL)
def test_notify_takes_addresses_and_the_clouds_own_targets_apart(base_spec, cloud):
    alarms = validate("orders", with_changes(base_spec, clouds=[cloud], alarms={"notify": {cloud: ["ops@example.com", TARGETS[cloud]]}})).alarms
    assert alarms.emails(cloud) == ("ops@example.com",) and alarms.targets(cloud) == (TARGETS[cloud],)


@pytest.mark.parametrize("cloud", ALL)
def test_a_notify_entry_that_is_neither_an_address_nor_the_clouds_target_names_both_forms(base_spec, cloud):
    other = TARGETS["gcp" if cloud == "aws" else "aws"]  # another cloud's target is not this cloud's
    for bad in ("ops", "ops@", other):
        assert issues_for("orders", with_changes(base_spec, clouds=[cloud], alarms={"notify": {cloud: [bad]}})) == [
            f"queues.orders.alarms.notify.{cloud}[0]: {bad!r} is neither an e-mail address nor {WANTED[cloud]} (when {cloud} is targeted)"
        ]


def test_notify_may_name_only_targeted_clouds(base_spec):
    assert issues_for("orders", with_changes(base_spec, alarms={"notify": {"gcp": [CHANNEL]}})) == [
        "queues.orders.alarms.notify.gcp: 'gcp' is not in clouds ['aws']"
    ]


def test_naming_whom_to_notify_with_the_alarm_off_is_refused_not_ignored(base_spec):
    assert validate("orders", with_changes(base_spec, alarms={"dead_letter": False})).alarms.dead_letter is False
    assert issues_for("orders", with_changes(base_spec, alarms={"dead_letter": False, "notify": {"aws": ["ops@example.com"]}})) == [
        "queues.orders.alarms.notify: names aws but alarms.dead_letter is false, so no alarm would notify them "
        "(allowed: alarms.dead_letter true, or no notify)"
    ]


def test_an_address_named_twice_is_refused(base_spec):
    assert issues_for("orders", with_changes(base_spec, alarms={"notify": {"aws": ["ops@example.com", "ops@example.com"]}})) == [
        "queues.orders.alarms.notify.aws: 'ops@example.com' is named twice (allowed: each address or target once)"
    ]


def test_cloudwatch_takes_at_most_five_actions_the_address_topic_counting_as_one(base_spec):
    topics = [f"arn:aws:sns:us-east-1:{ACCOUNT}:pager-{i}" for i in range(5)]
    validate("orders", with_changes(base_spec, alarms={"notify": {"aws": topics}}))
    validate("orders", with_changes(base_spec, alarms={"notify": {"aws": ["a@example.com", "b@example.com", *topics[:4]]}}))
    assert issues_for("orders", with_changes(base_spec, alarms={"notify": {"aws": ["a@example.com", *topics]}})) == [
        "queues.orders.alarms.notify.aws: 6 alarm actions (one topic for the e-mail addresses, one per SNS topic ARN) is above "
        "CloudWatch's maximum of 5 per alarm (allowed 0..5 when aws is targeted)"
    ]


def test_alarm_fields_have_a_shape(base_spec):
    issues = issues_for("orders", with_changes(base_spec, alarms={"dead_letters": True, "dead_letter": "yes"}))
    assert "queues.orders.alarms.dead_letters: unknown field (allowed: dead_letter, notify); did you mean 'dead_letter'?" in issues
    assert "queues.orders.alarms.dead_letter: 'yes' (str) is not a boolean (true or false)" in issues


# --- operators --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cloud", "bad", "wanted"),
    [
        ("aws", "arn:aws:iam::*:root", "an IAM role, user or account-root ARN"),
        ("azure", "everyone", "an Entra ID principal object id"),
        ("gcp", "allUsers", "an IAM member such as serviceAccount:"),
    ],
)
def test_operators_take_the_identity_formats_producers_take(base_spec, cloud, bad, wanted):
    (issue,) = issues_for("orders", with_changes(base_spec, clouds=[cloud], operators={cloud: [bad]}))
    assert issue.startswith(f"queues.orders.operators.{cloud}[0]: {bad!r} is not {wanted}") and issue.endswith("public principals are never granted")


def test_operators_may_name_only_targeted_clouds_and_each_identity_once(base_spec):
    ops = f"arn:aws:iam::{ACCOUNT}:role/ops"
    assert issues_for("orders", with_changes(base_spec, operators={"azure": ["0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9"]})) == [
        "queues.orders.operators.azure: 'azure' is not in clouds ['aws']"
    ]
    assert issues_for("orders", with_changes(base_spec, operators={"aws": [ops, ops]})) == [
        f"queues.orders.operators.aws: {ops!r} is named twice (allowed: each identity once)"
    ]


@pytest.mark.parametrize("cloud", ["azure", "gcp"])
def test_an_operator_who_is_a_producer_too_is_refused_where_the_grants_would_collide(base_spec, cloud):
    member = {"azure": "0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9", "gcp": "serviceAccount:api@p.iam.gserviceaccount.com"}[cloud]
    assert issues_for("orders", with_changes(base_spec, clouds=[cloud], producers={cloud: [member]}, operators={cloud: [member]})) == [
        f"queues.orders.operators.{cloud}: {member!r} is a producer too; an operator may send already, so name it under operators only "
        f"(when {cloud} is targeted)"
    ]


def test_on_aws_an_operator_may_be_a_producer_too(base_spec):
    # IAM policies and queue-policy statements add up; nothing collides.
    member = f"arn:aws:iam::{ACCOUNT}:role/api"
    assert validate("orders", with_changes(base_spec, producers={"aws": [member]}, operators={"aws": [member]})).operators == {"aws": (member,)}


def test_an_operator_in_another_account_than_the_queue_key_is_warned_about_with_the_statement_to_add(base_spec):
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate("orders", with_changes(base_spec, encryption_keys={"aws": key}, operators={"aws": ["arn:aws:iam::210987654321:role/ops"]}))
    (warning,) = [str(w.message) for w in caught if isinstance(w.message, CrossAccountProducerWarning)]
    assert warning.startswith("queues.orders.operators.aws[0]: arn:aws:iam::210987654321:role/ops is in account 210987654321")
    assert '"Sid": "AllowOperatorThroughSqs"' in warning and "the SQS actions of the operator policy" in warning


def test_send_checks_bodies_against_the_same_default_and_cloud_maxima_the_spec_validates():
    # `cloudqueue send` reads the spec's max_message_bytes, and without a stack file falls back to these.
    from components.spec import DEFAULTS, LIMITS
    from components.tools.ops import outputs

    maxima = {limit.cloud: limit.high for limit in LIMITS if limit.field == "max_message_bytes"}
    assert outputs.DEFAULT_MAX_MESSAGE_BYTES == DEFAULTS["max_message_bytes"] == min(maxima.values())
    assert {cloud: outputs.CLOUD_MESSAGE_LIMITS[cloud] for cloud in ("azure", "gcp")} == {cloud: maxima[cloud] for cloud in ("azure", "gcp")}
    # AWS: the component creates both queues at the spec's size, so the default is what a stack without the field got.
    assert outputs.CLOUD_MESSAGE_LIMITS["aws"] == DEFAULTS["max_message_bytes"]
