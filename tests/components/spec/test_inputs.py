"""Fields typed `pulumi.Input` take another resource's Output: unknown at preview it is skipped, once
known it gets the same check as a plain value, and a bad value fails the run with the same message."""

from __future__ import annotations

import inspect
import re
from typing import Any, Callable, NotRequired, Required, get_args, get_origin

import pulumi
import pytest

from components.spec import QueueArgs, SpecError, validate
from components.spec.inputs import map_inputs
from components.spec.validate import input_type
from outputs import known, unknown
from pulumi_mocks import ACCOUNT, GCP_PROJECT, GCP_REGION, REGION, SUBSCRIPTION, Engine
from specs import issues_for, with_changes

INPUT_FIELDS = {
    "encryption_keys.*",
    "producers.*[]",
    "operators.*[]",
    "alarms.notify.*[]",
    "tags.*",
    "consumer.environment.*",
    "consumer.network.aws.subnet_ids[]",
    "consumer.network.aws.security_group_ids[]",
    "consumer.network.azure.subnet_id",
    "consumer.network.gcp.network",
    "consumer.network.gcp.subnetwork",
}
"""Where another program's resources go; everything else shapes the resource graph and is plain."""


def input_paths(hint: Any, path: str = "") -> set[str]:
    """The paths of every `pulumi.Input` leaf under an annotation (`*` a map's values, `[]` a list's items)."""
    while get_origin(hint) in (Required, NotRequired):
        hint = get_args(hint)[0]
    if input_type(hint) is not None:
        return {path}
    if isinstance(hint, type) and hasattr(hint, "__required_keys__"):
        return {found for key, sub in inspect.get_annotations(hint).items() for found in input_paths(sub, f"{path}.{key}".lstrip("."))}
    if get_origin(hint) is list:
        return input_paths(get_args(hint)[0], f"{path}[]")
    if get_origin(hint) is dict:
        return input_paths(get_args(hint)[1], f"{path}.*")
    return set()


def every_input(wrap: Callable[[str], Any], consumer_dir) -> dict:
    """A spec on every cloud with a valid value, passed through `wrap`, in each Input field."""
    network = {
        "aws": {"subnet_ids": [wrap("subnet-0123456789abcdef0")], "security_group_ids": [wrap("sg-0123456789abcdef0")]},
        "azure": {"subnet_id": wrap(f"/subscriptions/{SUBSCRIPTION}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/core/subnets/fn")},
        "gcp": {"network": wrap(f"projects/{GCP_PROJECT}/global/networks/core"), "subnetwork": wrap(f"projects/{GCP_PROJECT}/regions/{GCP_REGION}/subnetworks/fn")},
    }
    return {
        "clouds": ["aws", "azure", "gcp"],
        "producers": {
            "aws": [wrap(f"arn:aws:iam::{ACCOUNT}:role/api")],
            "azure": [wrap("Group:7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6")],
            "gcp": [wrap(f"serviceAccount:api@{GCP_PROJECT}.iam.gserviceaccount.com")],
        },
        "encryption_keys": {
            "aws": wrap(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"),
            "gcp": wrap(f"projects/{GCP_PROJECT}/locations/{GCP_REGION}/keyRings/queues/cryptoKeys/orders"),
        },
        "operators": {
            "aws": [wrap(f"arn:aws:iam::{ACCOUNT}:role/ops")],
            "azure": [wrap("User:0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9")],
            "gcp": [wrap("group:ops@example.com")],
        },
        # Existing targets only: an e-mail address decides which resources exist, so it is never an Output.
        "alarms": {
            "notify": {
                "aws": [wrap(f"arn:aws:sns:{REGION}:{ACCOUNT}:pager")],
                "azure": [wrap(f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ops/providers/microsoft.insights/actionGroups/pager")],
                "gcp": [wrap(f"projects/{GCP_PROJECT}/notificationChannels/1234567890")],
            }
        },
        "tags": {"team": wrap("payments")},
        "consumer": {"code_path": str(consumer_dir), "handler": "handler.handle", "environment": {"LOG_LEVEL": wrap("debug")}, "network": network},
    }


def test_the_args_type_exactly_the_fields_that_name_other_resources_as_inputs():
    assert input_paths(QueueArgs) == INPUT_FIELDS


def test_every_input_field_is_handed_to_its_check(consumer_dir):
    spec = validate("orders", every_input(str, consumer_dir))
    seen: list[str] = []
    map_inputs(spec, "queues.orders", lambda field, value, check: seen.append(field) or value)
    patterns = {field: re.compile(r"queues\.orders\." + re.escape(field).replace(r"\*", r"[^.\[]+").replace(r"\[\]", r"\[\d+\]") + "$") for field in INPUT_FIELDS}
    matched = {field: [path for path in seen if pattern.match(path)] for field, pattern in patterns.items()}
    # Every value the spec holds in an Input field is visited once, and every Input field is.
    assert sorted(path for paths in matched.values() for path in paths) == sorted(seen) and len(seen) == len(set(seen)) == 18
    assert [field for field, paths in matched.items() if not paths] == []


def test_known_outputs_in_every_input_field_resolve_to_their_values(consumer_dir):
    engine = Engine(preview=False)
    spec = engine.run(lambda: validate("orders", every_input(known, consumer_dir)))
    plain = validate("orders", every_input(str, consumer_dir))
    assert engine.resolve(spec.producers) == dict(plain.producers) and engine.resolve(spec.operators) == dict(plain.operators)
    assert engine.resolve(spec.alarms.notify) == dict(plain.alarms.notify)
    assert engine.resolve(spec.encryption_keys) == plain.encryption_keys and engine.resolve(spec.tags) == plain.tags
    assert engine.resolve(spec.consumer.environment) == plain.consumer.environment
    assert engine.resolve(spec.consumer.network) == plain.consumer.network


def test_unknown_outputs_in_every_input_field_pass_a_preview_unchecked(consumer_dir):
    engine = Engine(preview=True)
    spec = engine.run(lambda: validate("orders", every_input(lambda _: unknown(), consumer_dir)))
    assert all(isinstance(member, pulumi.Output) for members in spec.producers.values() for member in members)


# Each: (args change with the bad value, clouds), one per check an Input field takes.
BAD_VALUES = {
    "aws producer": ({"producers": {"aws": ["arn:aws:iam::*:root"]}}, ["aws"]),
    "azure producer": ({"producers": {"azure": ["everyone"]}}, ["azure"]),
    "gcp producer": ({"producers": {"gcp": ["allUsers"]}}, ["gcp"]),
    "aws operator": ({"operators": {"aws": ["arn:aws:iam::*:root"]}}, ["aws"]),
    "gcp operator": ({"operators": {"gcp": ["allAuthenticatedUsers"]}}, ["gcp"]),
    "aws alarm target": ({"alarms__notify": {"aws": ["arn:aws:sqs:us-east-1:123456789012:pager"]}}, ["aws"]),
    "azure alarm target": ({"alarms__notify": {"azure": ["pager"]}}, ["azure"]),
    "gcp alarm target": ({"alarms__notify": {"gcp": ["projects/p/notificationChannels/pager"]}}, ["gcp"]),
    "aws key alias": ({"encryption_keys": {"aws": "alias/orders"}}, ["aws"]),
    "gcp key": ({"encryption_keys": {"gcp": "orders-key"}}, ["gcp"]),
    "aws tag value": ({"tags": {"team": "pay<ments>"}}, ["aws"]),
    "azure tag value": ({"tags": {"team": "p" * 257}}, ["azure"]),
    "aws subnet": ({"consumer__network": {"aws": {"subnet_ids": ["subnet-12"], "security_group_ids": ["sg-0123456789abcdef0"]}}}, ["aws"]),
    "aws security group": ({"consumer__network": {"aws": {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["sg-zz"]}}}, ["aws"]),
    "azure subnet": ({"consumer__network": {"azure": {"subnet_id": "functions"}}}, ["azure"]),
    "gcp network": ({"consumer__network": {"gcp": {"network": "core", "subnetwork": f"projects/{GCP_PROJECT}/regions/{GCP_REGION}/subnetworks/f"}}}, ["gcp"]),
    "gcp subnetwork": ({"consumer__network": {"gcp": {"network": f"projects/{GCP_PROJECT}/global/networks/core", "subnetwork": "f"}}}, ["gcp"]),
    "aws environment size": ({"consumer__environment": {"PAYLOAD": "x" * 4000}}, ["aws"]),
}


def as_outputs(changes: dict, wrap: Callable[[str], Any]) -> dict:
    """`changes` with every string leaf (the bad value among them) passed through `wrap`."""

    def each(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: each(item) for key, item in value.items()}
        if isinstance(value, list):
            return [each(item) for item in value]
        return wrap(value) if isinstance(value, str) else value

    return {key: each(value) for key, value in changes.items()}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_bad_value_from_an_output_fails_the_run_with_the_message_the_plain_value_gets(base_spec, case):
    changes, clouds = BAD_VALUES[case]
    (expected,) = issues_for("orders", with_changes(base_spec, clouds=clouds, **changes))
    engine = Engine(preview=False)
    with pytest.raises(SpecError) as caught:
        engine.run(lambda: validate("orders", with_changes(base_spec, clouds=clouds, **as_outputs(changes, known))))
    assert caught.value.issues == [expected]
    # The message names the field path, the value (its size for the environment) and the cloud.
    assert expected.startswith("queues.orders.") and clouds[0] in expected.lower().replace("google cloud", "gcp")


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_bad_value_whose_output_is_unknown_at_preview_is_left_to_the_deployment(base_spec, case):
    changes, clouds = BAD_VALUES[case]
    engine = Engine(preview=True)
    engine.run(lambda: validate("orders", with_changes(base_spec, clouds=clouds, **as_outputs(changes, lambda _: unknown()))))


def test_a_secret_bad_value_is_named_without_showing_it(base_spec):
    engine = Engine(preview=False)
    with pytest.raises(SpecError) as caught:
        engine.run(lambda: validate("orders", with_changes(base_spec, producers={"aws": [pulumi.Output.secret("arn:aws:iam::*:root")]})))
    (issue,) = caught.value.issues
    assert issue.startswith("queues.orders.producers.aws[0]: [secret] is not an IAM role") and "*:root" not in issue


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_an_alarm_address_known_only_at_deploy_time_is_refused_with_what_an_output_may_name(base_spec, cloud):
    # Written in the spec it is fine: cloudqueue creates the topic, action group or channel for it.
    validate("orders", with_changes(base_spec, clouds=[cloud], alarms={"notify": {cloud: ["ops@example.com"]}}))
    engine = Engine(preview=False)
    with pytest.raises(SpecError) as caught:
        engine.run(lambda: validate("orders", with_changes(base_spec, clouds=[cloud], alarms={"notify": {cloud: [known("ops@example.com")]}})))
    (issue,) = caught.value.issues
    assert issue.startswith(f"queues.orders.alarms.notify.{cloud}[0]: 'ops@example.com' is an e-mail address known only at deploy time")
    assert "an Output must be " + {"aws": "an SNS topic ARN", "azure": "an action group resource id", "gcp": "a notification channel name"}[cloud] in issue


def test_an_output_that_resolves_to_something_other_than_a_string_is_refused(base_spec):
    engine = Engine(preview=False)
    with pytest.raises(SpecError) as caught:
        engine.run(lambda: validate("orders", with_changes(base_spec, tags={"team": known(42)})))
    assert caught.value.issues == ["queues.orders.tags.team: 42 (int) is not a string"]


@pytest.mark.parametrize(
    "changes",
    [
        {"clouds": [pulumi.Output.from_input("aws")]},
        {"fifo": pulumi.Output.from_input(True)},
        {"max_delivery_attempts": pulumi.Output.from_input(5)},
        {"consumer__code_path": pulumi.Output.from_input(".")},
        {"consumer__handler": pulumi.Output.from_input("handler.handle")},
        {"consumer__runtime": pulumi.Output.from_input("python3.12")},
        {"consumer__tracing": pulumi.Output.from_input(True)},
        {"clouds": ["gcp"], "consumer__network": {"gcp": {"network": "n", "subnetwork": "s", "egress": pulumi.Output.from_input("all-traffic")}}},
    ],
    ids=["clouds", "fifo", "number", "code_path", "handler", "runtime", "tracing", "egress"],
)
def test_fields_that_shape_the_resources_refuse_an_output(base_spec, changes):
    issues = issues_for("orders", with_changes(base_spec, **changes))
    assert [issue for issue in issues if "must be a plain value, not a pulumi Output" in issue]


def test_one_output_given_to_two_queues_comes_back_as_one_checked_output(base_spec):
    """The components share a key's or a subnet's grants by the Output's identity; checking keeps it."""
    engine = Engine(preview=False)

    def program():
        key = known(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3")
        return [validate(name, with_changes(base_spec, encryption_keys={"aws": key})) for name in ("orders", "payments")]

    first, second = engine.run(program)
    assert first.encryption_keys["aws"] is second.encryption_keys["aws"]
    assert engine.resolve(first.encryption_keys["aws"]).endswith(":key/0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3")
