"""How spec fields map to each cloud: durations, Azure scale and memory, the Service Bus lock, Google Cloud labels."""

from __future__ import annotations

import pytest

from components.spec import (
    azure_instance_memory_mb,
    azure_lock_seconds,
    azure_scale,
    clock_duration,
    gcp_labels,
    iso8601_duration,
    validate,
)
from specs import with_changes


# --- mappings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "iso"), [(0, "PT0S"), (5, "PT5S"), (180, "PT3M"), (300, "PT5M"), (3661, "PT1H1M1S"), (345600, "P4D"), (1209600, "P14D"), (90061, "P1DT1H1M1S")]
)
def test_durations_map_to_iso_8601_for_service_bus(seconds, iso):
    assert iso8601_duration(seconds) == iso


def test_durations_map_to_clock_time_for_host_json():
    assert [clock_duration(s) for s in (30, 600, 3600, 5400)] == ["00:00:30", "00:10:00", "01:00:00", "01:30:00"]


@pytest.mark.parametrize(("concurrency", "scale"), [(1, (1, 1)), (10, (1, 10)), (16, (1, 16)), (17, (2, 8)), (50, (4, 12)), (1000, (63, 15)), (16000, (1000, 16))])
def test_azure_concurrency_maps_to_instances_times_calls_never_above_the_spec(concurrency, scale):
    instances, calls = azure_scale(concurrency)
    assert (instances, calls) == scale
    assert instances * calls <= concurrency and instances <= 1000 and calls <= 16


@pytest.mark.parametrize(("memory", "size"), [(128, 512), (512, 512), (513, 2048), (2048, 2048), (4096, 4096)])
def test_azure_memory_rounds_up_to_a_flex_instance_size(memory, size):
    assert azure_instance_memory_mb(memory) == size


def test_azure_lock_is_the_visibility_timeout_capped_at_five_minutes(base_spec):
    assert azure_lock_seconds(validate("orders", with_changes(base_spec, clouds=["azure"]))) == 180
    assert azure_lock_seconds(validate("orders", with_changes(base_spec, clouds=["azure"], visibility_timeout_seconds=900))) == 300


def test_tags_map_to_gcp_labels():
    assert gcp_labels({"Team": "Payments", "cloudqueue:queue": "orders", "9lives": "A B", "x": "y" * 80}) == {
        "team": "payments",
        "cloudqueue_queue": "orders",
        "t9lives": "a_b",
        "x": "y" * 63,
    }
