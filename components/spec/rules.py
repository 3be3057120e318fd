"""The rules a resolved spec must pass, and `RULES`, the table `validate` runs.

Each rule takes the resolved spec and the error path prefix (`queues.<name>`) and returns every
problem it finds, naming the field path, the value, the cloud and the allowed range. The checks of
one value that may come from another program's resource (a producer id, a key, a tag or
environment value, a network id) are functions of their own, listed by `input_values`: a rule
runs them on a plain value before anything is registered, and `validate` runs the same ones on an
Output's value once it is known.
"""

import ast
import functools
import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable

from .inputs import (
    aws_environment_size_issues,
    aws_tag_value_issues,
    azure_tag_value_issues,
    identity_issues,
    key_issues,
    network_id_issues,
    notify_issues,
)
from .limits import (
    _AWS_TAG,
    _AZURE_TAG_FORBIDDEN,
    _DNS_NAME,
    _ENV_KEY,
    _IDENTIFIER_PATH,
    AWS_MAX_ALARM_ACTIONS,
    AWS_NETWORK_COUNTS,
    AZURE_FUNCTIONS_REQUIREMENT,
    CLOUD_NAMES,
    CLOUDS,
    DNS_NAME_CLOUDS,
    FUNCTIONS_FRAMEWORK,
    GCP_EGRESS,
    GCP_MAX_LABELS,
    GENERATED_FILES,
    IDENTITY_FORMATS,
    KEY_FORMATS,
    LAMBDA_ARCHITECTURE,
    LIMITS,
    NAME_LIMITS,
    NOTIFY_TARGET_FORMATS,
    PROVIDER_PACKAGES,
    RESERVED_ENV,
    RESERVED_ENV_PREFIX,
    RUNTIMES,
    _range_text,
)
from .mappings import gcp_label
from .model import QueueSpec


def _field_value(spec: QueueSpec, field: str) -> Any:
    target: Any = spec
    for part in field.split("."):
        target = getattr(target, part)
    return target


# Each rule takes the resolved spec and the error path prefix and yields error messages.
Rule = Callable[[QueueSpec, str], list[str]]


def _rule_clouds(spec: QueueSpec, path: str) -> list[str]:
    issues = []
    if not spec.clouds:
        issues.append(f"{path}.clouds: [] is empty (allowed: a non-empty subset of {', '.join(CLOUDS)})")
    for cloud in spec.clouds:
        if cloud not in CLOUDS:
            issues.append(f"{path}.clouds: {cloud!r} is not a cloud (allowed: {', '.join(CLOUDS)})")
    if len(set(spec.clouds)) != len(spec.clouds):
        issues.append(f"{path}.clouds: {list(spec.clouds)!r} names a cloud twice")
    # Per-cloud maps may only name targeted clouds.
    per_cloud_maps = (
        ("encryption_keys", spec.encryption_keys), ("producers", spec.producers), ("operators", spec.operators),
        ("consumer.network", spec.consumer.network), ("alarms.notify", spec.alarms.notify),
    )
    for field, per_cloud in per_cloud_maps:
        for cloud in per_cloud:
            if cloud not in spec.clouds:
                issues.append(f"{path}.{field}.{cloud}: {cloud!r} is not in clouds {list(spec.clouds)!r}")
    return issues


def _importable(package: str) -> bool:
    if package in sys.modules:  # already imported, so installed: skip the path search every queue would repeat
        return True
    try:
        return importlib.util.find_spec(package) is not None
    except ImportError:  # a broken install counts as missing
        return False


def _rule_provider_installed(spec: QueueSpec, path: str) -> list[str]:
    issues = []
    for cloud in spec.clouds:
        package = PROVIDER_PACKAGES.get(cloud)
        if package and not _importable(package):
            issues.append(
                f"{path}.clouds: {cloud!r} needs the {CLOUD_NAMES[cloud]} provider SDK ({package}), which is not installed; "
                f"install the extra: pip install 'cloudqueue[{cloud}]'"
            )
    return issues


def _rule_limits(spec: QueueSpec, path: str) -> list[str]:
    issues = []
    for limit in LIMITS:
        if limit.cloud not in spec.clouds:
            continue
        value = _field_value(spec, limit.field)
        if value is None:  # visibility not given: derived inside the range
            continue
        allowed = f"allowed {_range_text(limit.low, limit.high)} when {limit.cloud} is targeted"
        if limit.low is not None and value < limit.low:
            issues.append(f"{path}.{limit.field}: {value} is below {limit.service}'s minimum of {limit.low} ({allowed})")
        elif limit.high is not None and value > limit.high:
            issues.append(f"{path}.{limit.field}: {value} is above {limit.service}'s maximum of {limit.high} ({allowed})")
    return issues


def _rule_aws_event_source(spec: QueueSpec, path: str) -> list[str]:
    if "aws" not in spec.clouds:
        return []
    consumer, issues = spec.consumer, []
    visibility = spec.visibility_timeout("aws")
    if visibility < consumer.timeout_seconds:
        issues.append(
            f"{path}.visibility_timeout_seconds: {visibility} is below consumer.timeout_seconds "
            f"({consumer.timeout_seconds}); AWS Lambda rejects an SQS event source whose visibility timeout "
            f"is shorter than the function timeout (allowed {consumer.timeout_seconds}..43200 when aws is targeted)"
        )
    if spec.fifo and consumer.batch_size > 10:
        issues.append(
            f"{path}.consumer.batch_size: {consumer.batch_size} is above AWS Lambda's FIFO maximum of 10 "
            f"(allowed 1..10 for fifo queues when aws is targeted)"
        )
    if spec.fifo and consumer.max_batching_window_seconds != 0:
        issues.append(
            f"{path}.consumer.max_batching_window_seconds: {consumer.max_batching_window_seconds} is not supported "
            f"for FIFO queues by the AWS Lambda SQS event source (allowed 0 for fifo queues when aws is targeted)"
        )
    if not spec.fifo and consumer.batch_size > 10 and consumer.max_batching_window_seconds < 1:
        issues.append(
            f"{path}.consumer.batch_size: {consumer.batch_size} needs consumer.max_batching_window_seconds of at "
            f"least 1 on AWS Lambda (allowed 1..10 without a batching window when aws is targeted)"
        )
    if not spec.fifo and spec.dead_letter_retention_seconds < spec.message_retention_seconds:
        # Standard queues keep the original enqueue time when a message is dead-lettered.
        issues.append(
            f"{path}.dead_letter_retention_seconds: {spec.dead_letter_retention_seconds} is below "
            f"message_retention_seconds ({spec.message_retention_seconds}); AWS SQS keeps the original enqueue "
            f"time in the dead-letter queue, so messages would expire early "
            f"(allowed {spec.message_retention_seconds}..1209600 when aws is targeted)"
        )
    return issues


def _rule_names(spec: QueueSpec, path: str) -> list[str]:
    issues = []
    for cloud in spec.clouds:
        limit = NAME_LIMITS.get(cloud)
        if limit is not None and len(spec.name) > limit.max_queue_name:
            issues.append(
                f"{path}: the queue name {spec.name!r} is {len(spec.name)} characters, above the {CLOUD_NAMES[cloud]} maximum of "
                f"{limit.max_queue_name} ({limit.longest} are capped at {limit.limit}, and the longest is "
                f"'<name>{limit.suffix}' plus {limit.random} random characters) (allowed 1..{limit.max_queue_name} when {cloud} is targeted)"
            )
    dns_clouds = [c for c in DNS_NAME_CLOUDS if c in spec.clouds]
    if dns_clouds and not _DNS_NAME.match(spec.name):
        issues.append(
            f"{path}: the queue name {spec.name!r} must be lowercase letters, digits and single hyphens, starting with a "
            f"letter, because it names Function Apps, storage containers and Cloud Run services (when {' and '.join(dns_clouds)} is targeted)"
        )
    return issues


def _rule_azure(spec: QueueSpec, path: str) -> list[str]:
    if "azure" not in spec.clouds or "azure" not in spec.encryption_keys:
        return []
    # Customer-managed keys are a Premium namespace feature, set once per namespace, not per queue.
    return [
        f"{path}.encryption_keys.azure: customer-managed keys need a Premium Service Bus namespace, which cloudqueue "
        f"does not provision (it shares one Standard namespace per stack); Service Bus encrypts at rest with "
        f"Microsoft-managed keys (allowed: no azure key when azure is targeted)"
    ]


def _rule_generated_files(spec: QueueSpec, path: str) -> list[str]:
    issues = []
    for cloud, names in GENERATED_FILES.items():
        if cloud not in spec.clouds:
            continue
        for file_name in names:
            if (spec.consumer.code_path / file_name).exists():
                issues.append(
                    f"{path}.consumer.code_path: {file_name} is generated by cloudqueue as the {CLOUD_NAMES[cloud]} entry "
                    f"point and would replace the one in {str(spec.consumer.code_path)!r}; rename it (when {cloud} is targeted)"
                )
    if "gcp" in spec.clouds and spec.consumer.handler_module.split(".")[0] == "main":
        issues.append(f"{path}.consumer.handler: module 'main' is the Google Cloud entry point cloudqueue generates; rename the module (when gcp is targeted)")
    return issues


def _rule_gcp_ack_deadline(spec: QueueSpec, path: str) -> list[str]:
    if "gcp" not in spec.clouds:
        return []
    deadline = spec.visibility_timeout("gcp")
    if spec.consumer.timeout_seconds > deadline:
        return [
            f"{path}.consumer.timeout_seconds: {spec.consumer.timeout_seconds} is above the Google Cloud Pub/Sub "
            f"ack deadline ({deadline}); a push is redelivered once the deadline passes "
            f"(allowed 1..{deadline} when gcp is targeted)"
        ]
    return []


def _rule_identities_and_keys(spec: QueueSpec, path: str) -> list[str]:
    issues = []
    for field, per_cloud in (("producers", spec.producers), ("operators", spec.operators)):
        for cloud, members in per_cloud.items():
            if cloud not in IDENTITY_FORMATS:
                continue
            for index, member in enumerate(members):
                if isinstance(member, str):
                    issues += identity_issues(cloud, f"{path}.{field}.{cloud}[{index}]", member)
            named = [member for member in members if isinstance(member, str)]
            for member in sorted({m for m in named if named.count(m) > 1}):
                issues.append(f"{path}.{field}.{cloud}: {member!r} is named twice (allowed: each identity once)")
    # Azure and Google Cloud would get the same role on the same queue or topic twice, which Azure refuses
    # (a role assignment exists) and Google Cloud revokes for both when one goes: operators may send already.
    for cloud in ("azure", "gcp"):
        both = {m for m in spec.producers.get(cloud, ()) if isinstance(m, str)} & {m for m in spec.operators.get(cloud, ()) if isinstance(m, str)}
        for member in sorted(both):
            issues.append(
                f"{path}.operators.{cloud}: {member!r} is a producer too; an operator may send already, so name it under operators only "
                f"(when {cloud} is targeted)"
            )
    for cloud, key in spec.encryption_keys.items():
        if cloud in KEY_FORMATS and isinstance(key, str):
            issues += key_issues(cloud, f"{path}.encryption_keys.{cloud}", key)
    return issues


def _rule_alarms(spec: QueueSpec, path: str) -> list[str]:
    """Whom the dead-letter alarms notify: an address or the cloud's own target, each once, within the cloud's action limit."""
    alarms, field, issues = spec.alarms, f"{path}.alarms", []
    named = {cloud: entries for cloud, entries in alarms.notify.items() if entries}
    if named and not alarms.dead_letter:
        issues.append(
            f"{field}.notify: names {', '.join(sorted(named))} but alarms.dead_letter is false, so no alarm would notify them "
            f"(allowed: alarms.dead_letter true, or no notify)"
        )
    for cloud, entries in named.items():
        if cloud not in spec.clouds or cloud not in NOTIFY_TARGET_FORMATS:
            continue  # refused by _rule_clouds
        plain = [entry for entry in entries if isinstance(entry, str)]
        for index, entry in enumerate(entries):
            if isinstance(entry, str):
                issues += notify_issues(cloud, f"{field}.notify.{cloud}[{index}]", entry)
        for entry in sorted({e for e in plain if plain.count(e) > 1}):
            issues.append(f"{field}.notify.{cloud}: {entry!r} is named twice (allowed: each address or target once)")
        if cloud == "aws":
            # One action for the topic cloudqueue creates for the addresses, one per existing topic.
            actions = (1 if alarms.emails("aws") else 0) + len(alarms.targets("aws"))
            if actions > AWS_MAX_ALARM_ACTIONS:
                issues.append(
                    f"{field}.notify.aws: {actions} alarm actions (one topic for the e-mail addresses, one per SNS topic ARN) is above "
                    f"CloudWatch's maximum of {AWS_MAX_ALARM_ACTIONS} per alarm (allowed 0..{AWS_MAX_ALARM_ACTIONS} when aws is targeted)"
                )
    return issues


def _rule_environment(spec: QueueSpec, path: str) -> list[str]:
    issues, env = [], spec.consumer.environment
    for key in env:
        if not _ENV_KEY.match(key):
            issues.append(f"{path}.consumer.environment.{key}: not a valid variable name (letters, digits and '_', starting with a letter)")
            continue
        if key.upper().startswith(RESERVED_ENV_PREFIX):
            issues.append(f"{path}.consumer.environment.{key}: the {RESERVED_ENV_PREFIX} prefix is reserved for the cloudqueue runtime")
            continue
        if "aws" in spec.clouds and len(key) < 2:  # Lambda's key pattern: [a-zA-Z]([a-zA-Z0-9_])+
            issues.append(f"{path}.consumer.environment.{key}: AWS Lambda needs variable names of at least 2 characters (when aws is targeted)")
        for cloud in spec.clouds:
            service, names, prefixes = RESERVED_ENV.get(cloud, ("", frozenset(), ()))
            if key in names or key.upper().startswith(tuple(p.upper() for p in prefixes)):
                issues.append(f"{path}.consumer.environment.{key}: reserved by {service} and cannot be set (when {cloud} is targeted)")
    if "aws" in spec.clouds:
        issues += aws_environment_size_issues(f"{path}.consumer.environment", env)
    return issues


def _rule_tags(spec: QueueSpec, path: str) -> list[str]:
    issues = _gcp_label_issues(spec, path) + _azure_tag_issues(spec, path)
    if "aws" not in spec.clouds:
        return issues
    if len(spec.tags) > 45:  # AWS allows 50 per resource; 5 left for the user's transforms
        issues.append(f"{path}.tags: {len(spec.tags)} tags is above the AWS maximum of 45 (allowed 0..45 when aws is targeted)")
    for key, value in spec.tags.items():
        if not (1 <= len(key) <= 128) or not _AWS_TAG.match(key) or key.lower().startswith("aws:"):
            issues.append(f"{path}.tags.{key}: not a valid AWS tag key (1..128 of letters, digits, spaces and _.:/=+-@, not starting with aws:)")
        if isinstance(value, str):
            issues += aws_tag_value_issues(f"{path}.tags.{key}", value)
    return issues


def _gcp_label_issues(spec: QueueSpec, path: str) -> list[str]:
    if "gcp" not in spec.clouds:
        return []
    issues, seen = [], {}
    # One label is cloudqueue's own (cloudqueue_queue).
    if len(spec.tags) > GCP_MAX_LABELS - 1:
        issues.append(f"{path}.tags: {len(spec.tags)} tags is above the Google Cloud maximum of {GCP_MAX_LABELS - 1} labels (allowed 0..{GCP_MAX_LABELS - 1} when gcp is targeted)")
    for key in [*spec.tags, "cloudqueue:queue"]:
        label = gcp_label(key, True)
        if label in seen:
            issues.append(
                f"{path}.tags.{key}: becomes the Google Cloud label {label!r}, as {seen[label]!r} does; labels are lowercase "
                f"letters, digits, '_' and '-' (when gcp is targeted)"
            )
        seen.setdefault(label, key)
    return issues


def _azure_tag_issues(spec: QueueSpec, path: str) -> list[str]:
    if "azure" not in spec.clouds:
        return []
    issues = []
    if len(spec.tags) > 49:  # Azure allows 50 per resource; one is cloudqueue's own
        issues.append(f"{path}.tags: {len(spec.tags)} tags is above the Azure maximum of 49 (allowed 0..49 when azure is targeted)")
    for key, value in spec.tags.items():
        if len(key) > 512 or _AZURE_TAG_FORBIDDEN.search(key):
            issues.append(f"{path}.tags.{key}: not a valid Azure tag name (at most 512 characters, none of < > % & \\ ? /) (when azure is targeted)")
        if isinstance(value, str):
            issues += azure_tag_value_issues(f"{path}.tags.{key}", value)
    return issues


def _rule_runtime(spec: QueueSpec, path: str) -> list[str]:
    if spec.consumer.runtime not in RUNTIMES:
        return [f"{path}.consumer.runtime: {spec.consumer.runtime!r} is not supported (allowed: {', '.join(RUNTIMES)})"]
    return []


@functools.lru_cache(maxsize=256)
def _parsed(module_file: str, mtime_ns: int, size: int) -> ast.Module:
    """A handler module's syntax tree, parsed once per content (many queues share one consumer)."""
    return ast.parse(Path(module_file).read_text(encoding="utf-8"), filename=module_file)


def _rule_consumer_code(spec: QueueSpec, path: str) -> list[str]:
    consumer = spec.consumer
    field = f"{path}.consumer"
    if not consumer.code_path.is_dir():
        return [f"{field}.code_path: {str(consumer.code_path)!r} is not a directory"]
    if not _IDENTIFIER_PATH.match(consumer.handler):
        return [f"{field}.handler: {consumer.handler!r} is not of the form module.function"]
    if consumer.handler_module.split(".")[0] == "cloudqueue_runtime":
        return [f"{field}.handler: {consumer.handler!r} must name the user's module, not the cloudqueue runtime"]
    relative = Path(*consumer.handler_module.split("."))
    candidates = [consumer.code_path / relative.with_suffix(".py"), consumer.code_path / relative / "__init__.py"]
    module_file = next((c for c in candidates if c.is_file()), None)
    if module_file is None:
        return [f"{field}.handler: module {consumer.handler_module!r} not found in {str(consumer.code_path)!r} (looked for {relative.with_suffix('.py')})"]
    try:
        stat = module_file.stat()
        tree = _parsed(str(module_file), stat.st_mtime_ns, stat.st_size)
    except SyntaxError as error:
        return [f"{field}.handler: {module_file} does not parse: {error.msg} (line {error.lineno})"]
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and node.name == consumer.handler_function:
            return [f"{field}.handler: {consumer.handler!r} is async; the adapters call the handler synchronously"]
        if isinstance(node, ast.FunctionDef) and node.name == consumer.handler_function:
            return []
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == consumer.handler_function for t in node.targets):
            return []
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == consumer.handler_function for a in node.names):
            return []
    return [f"{field}.handler: {module_file.name} defines no top-level {consumer.handler_function!r}"]


def _rule_requirements(spec: QueueSpec, path: str) -> list[str]:
    """The consumer's requirements install for every targeted cloud, and its Lambda zips fit Lambda, before anything is registered."""
    from .. import artifact

    field = f"{path}.consumer.code_path"
    issues = []
    for cloud, requirement in (("azure", AZURE_FUNCTIONS_REQUIREMENT), ("gcp", FUNCTIONS_FRAMEWORK)):
        line = artifact.conflicting_pin(spec.consumer.code_path, requirement) if cloud in spec.clouds else None
        if line:
            issues.append(
                f"{field}: requirements.txt pins {line!r}, but the {CLOUD_NAMES[cloud]} entry point cloudqueue generates needs "
                f"{requirement!r}; pin a version in that range or drop the line (when {cloud} is targeted)"
            )
    if "aws" in spec.clouds and spec.consumer.runtime in RUNTIMES and spec.consumer.code_path.is_dir():
        platform = artifact.lambda_platform(spec.consumer.runtime, LAMBDA_ARCHITECTURE)
        try:
            layer = artifact.build_layer(spec.consumer.code_path, platform)
        except artifact.RequirementsError as error:
            issues.append(
                f"{field}: requirements.txt: {error.package} cannot be installed for {platform.description}: {error.detail}; "
                f"pin a version that publishes a wheel for this platform, or drop the compiled extra (when aws is targeted)"
            )
        else:
            # The same (cached) zips AwsQueue uploads: Lambda's size quotas are checked here, not at deploy.
            issues += [f"{field}: {problem}" for problem in artifact.lambda_size_problems(artifact.build(spec.consumer.code_path), layer)]
    return issues


def _rule_network(spec: QueueSpec, path: str) -> list[str]:
    field = f"{path}.consumer.network"
    network, issues = spec.consumer.network, []
    aws = network.get("aws") if "aws" in spec.clouds else None
    for key, (low, high) in AWS_NETWORK_COUNTS.items():
        ids = (aws or {}).get(key)
        if ids is None:
            continue
        if not low <= len(ids) <= high:
            issues.append(f"{field}.aws.{key}: {len(ids)} ids is outside AWS Lambda's range (allowed {low}..{high} when aws is targeted)")
        for index, value in enumerate(ids):
            if isinstance(value, str):
                issues += network_id_issues("aws", key, f"{field}.aws.{key}[{index}]", value)
    for cloud, keys in (("azure", ("subnet_id",)), ("gcp", ("network", "subnetwork"))):
        settings = network.get(cloud) if cloud in spec.clouds else None
        for key in keys if settings else ():
            if isinstance(settings.get(key), str):
                issues += network_id_issues(cloud, key, f"{field}.{cloud}.{key}", settings[key])
    gcp = network.get("gcp") if "gcp" in spec.clouds else None
    if gcp and gcp.get("egress", "private-ranges-only") not in GCP_EGRESS:
        issues.append(f"{field}.gcp.egress: {gcp['egress']!r} is not a Direct VPC egress setting (allowed: {', '.join(GCP_EGRESS)} when gcp is targeted)")
    return issues


# Order matters only for readability of the combined error.
RULES: tuple[Rule, ...] = (
    _rule_clouds,
    _rule_provider_installed,
    _rule_limits,
    _rule_names,
    _rule_aws_event_source,
    _rule_azure,
    _rule_gcp_ack_deadline,
    _rule_identities_and_keys,
    _rule_alarms,
    _rule_environment,
    _rule_network,
    _rule_tags,
    _rule_runtime,
    _rule_consumer_code,
    _rule_generated_files,
    _rule_requirements,
)
