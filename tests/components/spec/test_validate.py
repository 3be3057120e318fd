"""Validation of the args' shape, the clouds, the queue name and whole stacks: each problem names field, value and what is allowed."""

from __future__ import annotations

import pulumi
import pytest

from components.spec import (
    DEFAULTS,
    SpecError,
    validate,
    validate_all,
)
from outputs import known
from pulumi_mocks import Engine
from specs import issues_for, with_changes


# --- schema ------------------------------------------------------------------------------------


def test_valid_spec_resolves_with_documented_defaults(base_spec, consumer_dir):
    spec = validate("orders", base_spec)
    assert spec.fifo is DEFAULTS["fifo"]
    assert spec.message_retention_seconds == 345600
    assert spec.max_delivery_attempts == 5
    assert spec.consumer.memory_mb == 256 and spec.consumer.timeout_seconds == 30
    assert spec.consumer.code_path == consumer_dir.resolve()
    assert (spec.consumer.handler_module, spec.consumer.handler_function) == ("handler", "handle")


def test_visibility_timeout_defaults_to_six_times_timeout_plus_batching_window(base_spec):
    spec = validate("orders", with_changes(base_spec, consumer__timeout_seconds=40, consumer__max_batching_window_seconds=5, consumer__batch_size=100))
    assert spec.visibility_timeout("aws") == 6 * 40 + 5


def test_derived_visibility_is_capped_at_the_pubsub_ack_deadline_range_for_gcp(base_spec):
    spec = validate("orders", with_changes(base_spec, consumer__timeout_seconds=200))
    # The aws value stays uncapped; gcp's derived ack deadline stays inside 10..600.
    assert spec.visibility_timeout("aws") == 1200
    assert spec.visibility_timeout("gcp") == 600


def test_explicit_visibility_timeout_is_used_unchanged(base_spec):
    assert validate("orders", with_changes(base_spec, visibility_timeout_seconds=500)).visibility_timeout("aws") == 500


def test_dead_letter_retention_defaults_to_longest_every_targeted_cloud_allows(base_spec):
    assert validate("orders", base_spec).dead_letter_retention_seconds == 1209600
    # Service Bus keeps dead-lettered messages until read: azure does not lower the default.
    assert validate("orders", with_changes(base_spec, clouds=["aws", "azure"])).dead_letter_retention_seconds == 1209600
    # Pub/Sub keeps 31 days, so with gcp targeted too SQS's 14 days stays the default.
    assert validate("orders", with_changes(base_spec, clouds=["aws", "azure", "gcp"])).dead_letter_retention_seconds == 1209600


def test_unknown_field_is_rejected_with_a_suggestion(base_spec):
    issues = issues_for("orders", with_changes(base_spec, consumer__memmory_mb=256))
    assert issues == [
        "queues.orders.consumer.memmory_mb: unknown field (allowed: batch_size, code_path, environment, handler, "
        "max_batching_window_seconds, max_concurrency, memory_mb, network, runtime, timeout_seconds, tracing); did you mean 'memory_mb'?"
    ]


def test_missing_required_fields_are_named(base_spec):
    issues = issues_for("orders", {"clouds": ["aws"], "consumer": {"handler": "handler.handle"}})
    assert issues == ["queues.orders.consumer.code_path: required field is missing"]
    assert issues_for("orders", {"clouds": ["aws"]}) == ["queues.orders.consumer: required field is missing"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"fifo": "yes"}, "queues.orders.fifo: 'yes' (str) is not a boolean (true or false)"),
        ({"max_delivery_attempts": True}, "queues.orders.max_delivery_attempts: True (bool) is not a whole number"),
        ({"message_retention_seconds": 3.5}, "queues.orders.message_retention_seconds: 3.5 (float) is not a whole number"),
        ({"clouds": "aws"}, "queues.orders.clouds: 'aws' (str) is not a list"),
        ({"tags": ["team"]}, "queues.orders.tags: ['team'] (list) is not a mapping"),
        ({"consumer__environment": {"LEVEL": 3}}, "queues.orders.consumer.environment.LEVEL: 3 (int) is not a string"),
    ],
)
def test_wrong_types_are_rejected(base_spec, changes, expected):
    assert issues_for("orders", with_changes(base_spec, **changes)) == [expected]


def test_numbers_may_not_be_outputs_but_producer_ids_may(base_spec):
    unknown = pulumi.Output.from_input(10)
    issues = issues_for("orders", with_changes(base_spec, max_delivery_attempts=unknown))
    assert issues == ["queues.orders.max_delivery_attempts: must be a plain value, not a pulumi Output, because cloudqueue validates it before deploying"]
    # A producer id may come from another resource: the spec carries it, checked once its value is known.
    engine = Engine(preview=False)
    spec = engine.run(lambda: validate("orders", with_changes(base_spec, producers={"aws": [known("arn:aws:iam::123456789012:role/api")]})))
    (producer,) = spec.producers["aws"]
    assert isinstance(producer, pulumi.Output) and engine.resolve(producer) == "arn:aws:iam::123456789012:role/api"


def test_a_spec_that_is_not_a_mapping_is_rejected():
    assert issues_for("orders", ["aws"]) == ["queues.orders: ['aws'] (list) is not a mapping of spec fields"]


def test_derived_visibility_is_raised_to_the_pubsub_minimum_ack_deadline(base_spec):
    spec = validate("orders", with_changes(base_spec, consumer__timeout_seconds=1))
    assert (spec.visibility_timeout("aws"), spec.visibility_timeout("gcp")) == (6, 10)


def test_queue_name_with_invalid_characters_is_rejected(base_spec):
    assert issues_for("orders/eu", base_spec) == [
        "queues.orders/eu: the queue name must start with a letter or digit and hold only letters, digits, '-' and '_'"
    ]


def test_single_cloud_component_rejects_a_clouds_field(base_spec):
    issues = issues_for("orders", base_spec, clouds=("aws",))
    assert issues == ["queues.orders.clouds: not accepted by a single-cloud component, which always targets aws"]


# --- clouds --------------------------------------------------------------------------------------


def test_clouds_must_not_be_empty(base_spec):
    assert issues_for("orders", with_changes(base_spec, clouds=[])) == [
        "queues.orders.clouds: [] is empty (allowed: a non-empty subset of aws, azure, gcp)"
    ]


def test_unknown_cloud_is_rejected(base_spec):
    assert "queues.orders.clouds: 'oci' is not a cloud (allowed: aws, azure, gcp)" in issues_for("orders", with_changes(base_spec, clouds=["oci"]))


def test_every_cloud_is_supported(base_spec):
    assert validate("orders", with_changes(base_spec, clouds=["aws", "azure", "gcp"])).clouds == ("aws", "azure", "gcp")


def test_a_cloud_named_twice_is_rejected(base_spec):
    assert issues_for("orders", with_changes(base_spec, clouds=["aws", "aws"])) == [
        "queues.orders.clouds: ['aws', 'aws'] names a cloud twice"
    ]


def test_keys_and_producers_for_untargeted_clouds_are_rejected(base_spec):
    issues = issues_for("orders", with_changes(base_spec, producers={"gcp": ["serviceAccount:a@p.iam.gserviceaccount.com"]}))
    assert issues == ["queues.orders.producers.gcp: 'gcp' is not in clouds ['aws']"]




# --- whole stacks -----------------------------------------------------------------------------


def test_validate_all_reports_every_queue_problem_together(base_spec):
    queues = {"orders": with_changes(base_spec, consumer__memory_mb=64), "payments": with_changes(base_spec, max_delivery_attempts=0)}
    with pytest.raises(SpecError) as caught:
        validate_all(queues)
    assert [issue.split(":")[0] for issue in caught.value.issues] == [
        "queues.orders.consumer.memory_mb",
        "queues.payments.max_delivery_attempts",
    ]
    assert str(caught.value).startswith("invalid cloudqueue spec:\n  - queues.orders.consumer.memory_mb: 64 is below")


def test_validate_all_needs_a_mapping_of_queues():
    with pytest.raises(SpecError, match=r"queues: \[\] \(list\) must be a non-empty mapping of queue name to spec"):
        validate_all([])
