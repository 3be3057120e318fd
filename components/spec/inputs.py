"""The spec's fields that may name another program's resource, and the check of one value of each.

args.py types these fields as `pulumi.Input`: producer and operator ids, encryption keys, tag values,
environment values, the consumer's network ids and existing alarm targets. Each check here takes the field path and one
plain value and returns its problems. The rules run them on plain values before anything is
registered; `validate` runs the same ones on an Output's value once the deployment knows it (a
preview that does not know it yet skips it, as AWS CDK's queue validation skips unresolved tokens:
`validateRange` in aws/aws-cdk packages/aws-cdk-lib/aws-sqs/lib/validate-queue-props.ts).
`map_inputs` is the one list of where these fields are and which check each takes.
"""

from dataclasses import replace
from functools import partial
from typing import Any, Callable, Mapping

from .limits import _AWS_TAG, _EMAIL, AWS_MAX_ENV_BYTES, IDENTITY_FORMATS, KEY_FORMATS, NETWORK_ID_FORMATS, NOTIFY_TARGET_FORMATS
from .model import AlarmSpec, QueueSpec

Check = Callable[[str, str], list[str]]
"""The problems with one plain value: (field path, value) -> messages naming path, value, cloud and what is allowed."""

Wrap = Callable[[str, Any, Check], Any]
"""What `map_inputs` calls for each value: (field path, value, its check) -> the value to keep in the spec."""


def identity_issues(cloud: str, field: str, member: str) -> list[str]:
    """A producer must be a named identity of `cloud`, never a public principal."""
    pattern, wanted = IDENTITY_FORMATS[cloud]
    return [] if pattern.match(member) else [f"{field}: {member!r} is not {wanted}; public principals are never granted"]


def key_issues(cloud: str, field: str, key: str) -> list[str]:
    """A customer-managed key must be written the way `cloud`'s IAM can grant it."""
    pattern, wanted = KEY_FORMATS[cloud]
    return [] if pattern.match(key) else [f"{field}: {key!r} is not {wanted}"]


def notify_issues(cloud: str, field: str, entry: str) -> list[str]:
    """An `alarms.notify.<cloud>` entry written in the spec: an e-mail address, or the cloud's existing target."""
    pattern, wanted = NOTIFY_TARGET_FORMATS[cloud]
    if pattern.match(entry) or _EMAIL.match(entry):
        return []
    return [f"{field}: {entry!r} is neither an e-mail address nor {wanted} (when {cloud} is targeted)"]


def notify_target_issues(cloud: str, field: str, entry: str) -> list[str]:
    """An `alarms.notify.<cloud>` entry known only at deploy time: it can only name an existing target.

    An e-mail address decides which resources exist (the topic, action group or channel cloudqueue
    creates for it), so it must be written in the spec, where it is known before anything is registered.
    """
    pattern, wanted = NOTIFY_TARGET_FORMATS[cloud]
    if _EMAIL.match(entry) and not pattern.match(entry):
        return [
            f"{field}: {entry!r} is an e-mail address known only at deploy time; cloudqueue creates what notifies an address "
            f"before deploying, so write it in the spec (an Output must be {wanted}) (when {cloud} is targeted)"
        ]
    return notify_issues(cloud, field, entry)


def aws_tag_value_issues(field: str, value: str) -> list[str]:
    if len(value) > 256 or not _AWS_TAG.match(value):
        return [f"{field}: {value!r} is not a valid AWS tag value (0..256 of letters, digits, spaces and _.:/=+-@)"]
    return []


def azure_tag_value_issues(field: str, value: str) -> list[str]:
    if len(value) > 256:
        return [f"{field}: a value of {len(value)} characters is above the Azure maximum of 256 (when azure is targeted)"]
    return []


def tag_value_issues(clouds: tuple[str, ...], field: str, value: str) -> list[str]:
    """A tag value on every targeted cloud (Google Cloud labels take any value: it is mapped, see gcp_label)."""
    return (azure_tag_value_issues(field, value) if "azure" in clouds else []) + (aws_tag_value_issues(field, value) if "aws" in clouds else [])


def network_id_issues(cloud: str, key: str, field: str, value: str) -> list[str]:
    """A network id in the shape `cloud` writes it (NETWORK_ID_FORMATS)."""
    pattern, wanted = NETWORK_ID_FORMATS[cloud, key]
    return [] if pattern.match(value) else [f"{field}: {value!r} is not {wanted} (when {cloud} is targeted)"]


def no_issues(field: str, value: str) -> list[str]:
    """An environment value: any string (their total size is checked by `aws_environment_size_issues`)."""
    return []


def aws_environment_size_issues(field: str, environment: Mapping[str, Any]) -> list[str]:
    """Lambda's cap on all variables together, counted over the string values (an Output is counted once known)."""
    size = sum(len(k.encode()) + len(v.encode()) for k, v in environment.items() if isinstance(v, str))  # bytes, not characters
    limit = AWS_MAX_ENV_BYTES - 256  # headroom for the adapter's own variables
    if size > limit:
        return [f"{field}: {size} bytes is above AWS Lambda's limit of {limit} for user variables (allowed 0..{limit} when aws is targeted)"]
    return []


def map_inputs(spec: QueueSpec, path: str, wrap: Wrap) -> dict[str, Any]:
    """Every value of `spec` in a field typed `pulumi.Input`, replaced by `wrap(field path, value, check)`.

    Returns the QueueSpec fields that hold them (producers, operators, alarms, encryption_keys, tags, consumer),
    rebuilt around what `wrap` returned, for `dataclasses.replace`. Clouds the spec does not
    target keep their values unchecked: the rules have already refused them.
    """

    def identities(field: str, per_cloud: Mapping[str, tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
        return {
            cloud: tuple(
                wrap(f"{path}.{field}.{cloud}[{index}]", member, partial(identity_issues, cloud)) if cloud in IDENTITY_FORMATS else member
                for index, member in enumerate(members)
            )
            for cloud, members in per_cloud.items()
        }

    producers, operators = identities("producers", spec.producers), identities("operators", spec.operators)
    notify = {
        cloud: tuple(
            wrap(f"{path}.alarms.notify.{cloud}[{index}]", entry, partial(notify_target_issues, cloud)) if cloud in NOTIFY_TARGET_FORMATS else entry
            for index, entry in enumerate(entries)
        )
        for cloud, entries in spec.alarms.notify.items()
    }
    keys = {
        cloud: wrap(f"{path}.encryption_keys.{cloud}", key, partial(key_issues, cloud)) if cloud in KEY_FORMATS else key
        for cloud, key in spec.encryption_keys.items()
    }
    tags = {key: wrap(f"{path}.tags.{key}", value, partial(tag_value_issues, spec.clouds)) for key, value in spec.tags.items()}
    environment = {key: wrap(f"{path}.consumer.environment.{key}", value, no_issues) for key, value in spec.consumer.environment.items()}
    network = {}
    for cloud, settings in spec.consumer.network.items():
        settings = dict(settings)
        for id_cloud, key in NETWORK_ID_FORMATS:
            if id_cloud != cloud or key not in settings:
                continue
            field, check = f"{path}.consumer.network.{cloud}.{key}", partial(network_id_issues, cloud, key)
            value = settings[key]
            if isinstance(value, (list, tuple)):  # AWS's id lists
                settings[key] = type(value)(wrap(f"{field}[{index}]", item, check) for index, item in enumerate(value))
            else:
                settings[key] = wrap(field, value, check)
        network[cloud] = settings
    consumer = replace(spec.consumer, environment=environment, network=network)
    alarms = AlarmSpec(dead_letter=spec.alarms.dead_letter, notify=notify)
    return {"producers": producers, "operators": operators, "alarms": alarms, "encryption_keys": keys, "tags": tags, "consumer": consumer}
