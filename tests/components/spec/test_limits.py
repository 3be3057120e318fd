"""The LIMITS table: every row rejects values outside its cloud's range, and only when that cloud is targeted."""

from __future__ import annotations

import pytest

from components.spec import LIMITS, validate
from specs import issues_for, with_changes


# --- per-cloud limits: every row of the table fires --------------------------------------------


def _limit_spec(base: dict, field: str, value: int) -> dict:
    return with_changes(base, **{field.replace(".", "__"): value})


@pytest.mark.parametrize("limit", LIMITS, ids=lambda l: f"{l.cloud}-{l.field}")
def test_every_cloud_limit_rejects_values_outside_its_range(base_spec, limit):
    base = with_changes(base_spec, clouds=[limit.cloud])
    if limit.field == "consumer.batch_size":  # large batches need a window: keep that rule quiet
        base = with_changes(base, consumer__max_batching_window_seconds=1)
    allowed = f"{limit.low}..{limit.high}" if limit.high is not None else f"{limit.low} or more"
    suffix = f"(allowed {allowed} when {limit.cloud} is targeted)"
    below = issues_for("orders", _limit_spec(base, limit.field, limit.low - 1))
    assert f"queues.orders.{limit.field}: {limit.low - 1} is below {limit.service}'s minimum of {limit.low} {suffix}" in below
    if limit.high is not None:
        above = issues_for("orders", _limit_spec(base, limit.field, limit.high + 1))
        assert f"queues.orders.{limit.field}: {limit.high + 1} is above {limit.service}'s maximum of {limit.high} {suffix}" in above


def test_pubsub_minimum_delivery_attempts_message_matches_the_brief(base_spec):
    issues = issues_for("orders", with_changes(base_spec, clouds=["gcp"], max_delivery_attempts=3))
    assert "queues.orders.max_delivery_attempts: 3 is below Google Cloud Pub/Sub's minimum of 5 (allowed 5..100 when gcp is targeted)" in issues


def test_lambda_memory_below_minimum_is_rejected_not_clamped(base_spec):
    assert issues_for("orders", with_changes(base_spec, consumer__memory_mb=64)) == [
        "queues.orders.consumer.memory_mb: 64 is below AWS Lambda's minimum of 128 (allowed 128..10240 when aws is targeted)"
    ]


def test_limits_of_untargeted_clouds_do_not_apply(base_spec):
    # 3 attempts is fine on SQS; only Pub/Sub needs 5 or more.
    assert validate("orders", with_changes(base_spec, max_delivery_attempts=3)).max_delivery_attempts == 3
