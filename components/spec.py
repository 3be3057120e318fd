"""The cloudqueue spec: one declarative queue, validated against every targeted cloud.

`QueueArgs` is both the stack config entry under `cloudqueue:queues.<name>` and the
component args. `validate()` checks it against one table of rules and returns a
fully-resolved `QueueSpec`; it runs before any resource is registered and reports
every problem at once. Values are never clamped: a value a cloud cannot honour is
an error that names the field, the value, the cloud and the allowed range.
"""

import ast
import difflib
import functools
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Required, TypedDict, get_args, get_origin, get_type_hints

import pulumi

from cloudqueue_runtime._handler import HANDLER_ENV, QUEUE_ENV

CLOUDS = ("aws", "azure", "gcp")
"""Every cloud a spec may name, in fan-out order."""

CLOUD_NAMES = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud"}

# The provider SDK each cloud's component needs; installed by the extra of the same name
# (`pip install 'cloudqueue[gcp]'`), so a program pays only for the clouds it targets.
PROVIDER_PACKAGES = {"aws": "pulumi_aws", "azure": "pulumi_azure_native", "gcp": "pulumi_gcp"}


class AwsNetworkArgs(TypedDict, total=False):
    """Where the Lambda consumer's network interfaces go: subnets and security groups of a VPC."""

    subnet_ids: Required[list[str]]
    """Subnet ids (subnet-...), 1..16; two or more Availability Zones keep the consumer up when one fails."""
    security_group_ids: Required[list[str]]
    """Security group ids (sg-...), 1..5, for the function's network interfaces."""


class AzureNetworkArgs(TypedDict, total=False):
    """Flex Consumption VNet integration: the Function App's outbound traffic goes through this subnet."""

    subnet_id: Required[str]
    """Resource id of a subnet delegated to Microsoft.App/environments."""


class GcpNetworkArgs(TypedDict, total=False):
    """Direct VPC egress for the Cloud Run function: no connector, the instances get addresses in the subnet."""

    network: Required[str]
    """VPC network, projects/<project>/global/networks/<name>."""
    subnetwork: Required[str]
    """Subnetwork in the function's region, projects/<project>/regions/<region>/subnetworks/<name>."""
    egress: str
    """private-ranges-only (the default) or all-traffic."""


class NetworkArgs(TypedDict, total=False):
    """Opt-in private networking of the consumer, per cloud; absent means the cloud's public network."""

    aws: AwsNetworkArgs
    """The VPC subnets and security groups of the Lambda function."""
    azure: AzureNetworkArgs
    """The subnet of the Function App's VNet integration."""
    gcp: GcpNetworkArgs
    """The network and subnetwork of the function's Direct VPC egress."""


class ConsumerArgs(TypedDict, total=False):
    """The function that consumes the queue, the same business code on every cloud."""

    code_path: Required[str]
    """Folder holding the handler module(s), relative to the Pulumi project directory."""
    handler: Required[str]
    """`module.function` called once per message, e.g. `handler.handle`."""
    runtime: str
    """Python runtime, e.g. `python3.12`; mapped to each cloud's own runtime name."""
    memory_mb: int
    """Memory for one function instance, in MiB."""
    timeout_seconds: int
    """Longest time one invocation may run, in seconds."""
    batch_size: int
    """Most messages handed to one invocation (AWS); push clouds deliver one at a time."""
    max_batching_window_seconds: int
    """Longest wait to fill a batch before invoking, in seconds (AWS standard queues)."""
    max_concurrency: int
    """Most function instances working the queue at once."""
    environment: dict[str, str]
    """Extra environment variables for the function."""
    tracing: bool
    """Trace every invocation (X-Ray, Application Insights, Cloud Trace correlation); true by default."""
    network: NetworkArgs
    """Opt-in private networking per cloud; absent means no VPC/VNet."""


class CloudQueueArgs(TypedDict, total=False):
    """One queue on one cloud: the spec without `clouds` (the args of AwsQueue and its twins)."""

    fifo: bool
    """Ordered delivery: SQS FIFO, Service Bus sessions, Pub/Sub ordering keys."""
    message_retention_seconds: int
    """How long an unconsumed message is kept, in seconds."""
    visibility_timeout_seconds: int
    """How long a received message stays hidden before redelivery, in seconds."""
    max_delivery_attempts: int
    """Deliveries before a message is moved to the dead-letter queue."""
    dead_letter_retention_seconds: int
    """How long a dead-lettered message is kept, in seconds."""
    encryption_keys: dict[str, str]
    """Customer-managed key per cloud (AWS KMS key ARN, Key Vault key id, Cloud KMS key name)."""
    consumer: Required[ConsumerArgs]
    """The consuming function."""
    producers: dict[str, list[str]]
    """Identities per cloud granted send rights on this queue only."""
    tags: dict[str, str]
    """Tags (AWS, Azure) or labels (Google Cloud) put on every resource."""


class QueueArgs(CloudQueueArgs, total=False):
    """One queue, its dead-letter queue, its producers and its consumer, on several clouds."""

    clouds: Required[list[str]]
    """Clouds to provision on: a non-empty subset of aws, azure, gcp."""


# --- Defaults -------------------------------------------------------------------------------

# Plain defaults. Derived ones (visibility timeout, dead-letter retention) are computed in
# `_resolve`, where their rule is stated.
DEFAULTS: dict[str, Any] = {
    "fifo": False,
    "message_retention_seconds": 4 * 24 * 3600,  # SQS's own default: 4 days
    "max_delivery_attempts": 5,  # the lowest value every cloud accepts (Pub/Sub minimum)
    "encryption_keys": {},
    "producers": {},
    "tags": {},
    "consumer.runtime": "python3.12",
    "consumer.memory_mb": 256,
    "consumer.timeout_seconds": 30,
    "consumer.batch_size": 10,  # the largest batch every SQS queue type accepts without a window
    "consumer.max_batching_window_seconds": 0,
    "consumer.max_concurrency": 10,
    "consumer.environment": {},
    # Tracing is on by default: following one message across queue, function and dead-letter
    # queue is what an incident needs, and it costs little at queue volumes.
    "consumer.tracing": True,
    "consumer.network": {},
}

RUNTIMES = ("python3.11", "python3.12", "python3.13")
"""Python runtimes that every cloud's function service offers and the runtime adapters support."""


# --- Per-cloud limits, as data ----------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """One cloud's accepted range for one spec field."""

    field: str
    """Field path inside a queue spec, e.g. `consumer.memory_mb`."""
    cloud: str
    """Cloud key the limit belongs to."""
    service: str
    """Service that imposes it, as named in errors."""
    low: Optional[int]
    """Smallest accepted value, or None."""
    high: Optional[int]
    """Largest accepted value, or None."""


# Sources: SQS CreateQueue attributes and RedrivePolicy; Lambda quotas and SQS event-source
# parameters; Service Bus quotas and SBQueue properties; Pub/Sub Subscription resource and
# Cloud Functions (2nd gen) limits. Visibility is only range-checked when given: the derived
# default is built inside each cloud's range (see `QueueSpec.visibility_timeout`).
# Flex Consumption runs up to 1000 instances of 512, 2048 or 4096 MB. Each instance takes this
# many Service Bus calls at once, the Functions host's default per core.
AZURE_CALLS_PER_INSTANCE = 16
AZURE_MAX_INSTANCES = 1000
AZURE_INSTANCE_MEMORY_MB = (512, 2048, 4096)

LIMITS: tuple[Limit, ...] = (
    Limit("max_delivery_attempts", "aws", "AWS SQS", 1, 1000),  # maxReceiveCount
    Limit("max_delivery_attempts", "azure", "Azure Service Bus", 1, 2000),  # maxDeliveryCount
    Limit("max_delivery_attempts", "gcp", "Google Cloud Pub/Sub", 5, 100),  # deadLetterPolicy
    Limit("visibility_timeout_seconds", "aws", "AWS SQS", 0, 43200),  # 12 hours
    Limit("visibility_timeout_seconds", "gcp", "Google Cloud Pub/Sub", 10, 600),  # ackDeadlineSeconds
    Limit("message_retention_seconds", "aws", "AWS SQS", 60, 1209600),  # 14 days
    Limit("message_retention_seconds", "azure", "Azure Service Bus", 5, None),  # defaultMessageTimeToLive
    Limit("message_retention_seconds", "gcp", "Google Cloud Pub/Sub", 600, 604800),  # subscription: 7 days
    Limit("dead_letter_retention_seconds", "aws", "AWS SQS", 60, 1209600),
    Limit("dead_letter_retention_seconds", "azure", "Azure Service Bus", 5, None),
    Limit("dead_letter_retention_seconds", "gcp", "Google Cloud Pub/Sub", 600, 604800),
    Limit("visibility_timeout_seconds", "azure", "Azure Service Bus", 5, None),  # lockDuration floor; capped at 300, see below
    Limit("consumer.memory_mb", "aws", "AWS Lambda", 128, 10240),
    Limit("consumer.memory_mb", "azure", "Azure Functions Flex Consumption", 1, AZURE_INSTANCE_MEMORY_MB[-1]),  # rounded up to an instance size
    Limit("consumer.memory_mb", "gcp", "Google Cloud Functions", 128, 32768),
    Limit("consumer.timeout_seconds", "aws", "AWS Lambda", 1, 900),
    Limit("consumer.timeout_seconds", "azure", "Azure Functions (Flex Consumption, cloudqueue cap)", 1, 3600),
    Limit("consumer.timeout_seconds", "gcp", "Google Cloud Pub/Sub push", 1, 600),  # bounded by the ack deadline
    Limit("consumer.batch_size", "aws", "AWS Lambda SQS event source", 1, 10000),
    Limit("consumer.max_batching_window_seconds", "aws", "AWS Lambda SQS event source", 0, 300),
    Limit("consumer.max_concurrency", "aws", "AWS Lambda SQS event source maximum concurrency", 2, 1000),
    Limit("consumer.max_concurrency", "azure", "Azure Functions Flex Consumption", 1, AZURE_MAX_INSTANCES * AZURE_CALLS_PER_INSTANCE),
    Limit("consumer.max_concurrency", "gcp", "Google Cloud Functions maximum instances", 1, 1000),
)

# Longest stored retention per cloud; the dead-letter default is the minimum over targeted clouds.
MAX_RETENTION = {limit.cloud: limit.high for limit in LIMITS if limit.field == "dead_letter_retention_seconds"}

# Service Bus caps a message lock at 5 minutes; the Functions host renews it up to the timeout.
AZURE_MAX_LOCK_SECONDS = 300


@dataclass(frozen=True)
class NameLimit:
    """The longest physical name a cloud derives from the queue name, and the limit it must fit."""

    cloud: str
    longest: str
    """What the longest derived name is, as named in errors."""
    suffix: str
    """What the component appends to the queue name for it, under Queue."""
    random: int
    """Characters the provider's autonaming adds."""
    limit: int
    """The service's cap on that name."""

    @property
    def max_queue_name(self) -> int:
        return self.limit - len(self.suffix) - self.random


# Pulumi autonames children as `<name>-<role>` plus a random suffix: `-<7 hex>` for the bridged
# AWS and Google Cloud providers, 8 characters for azure-native. The longest per cloud:
NAME_LIMITS = {
    "aws": NameLimit("aws", "IAM role names", "-aws-consumer-role", 8, 64),
    # App Service site (Function App) names are at most 60 characters.
    "azure": NameLimit("azure", "Function App names", "-azure-consumer", 8, 60),
    # A 2nd gen function is a Cloud Run service, whose names are at most 49 characters.
    "gcp": NameLimit("gcp", "Cloud Run service names", "-gcp-consumer", 8, 49),
}
AWS_MAX_QUEUE_NAME = NAME_LIMITS["aws"].max_queue_name

# Function App names, storage containers and Cloud Run services take lowercase letters, digits
# and single hyphens only, starting with a letter.
_DNS_NAME = re.compile(r"^[a-z](-?[a-z0-9])*$")
DNS_NAME_CLOUDS = ("azure", "gcp")


# Lambda reserves these variables (Lambda developer guide, "Defined runtime environment
# variables"); cloudqueue reserves its own prefix for the adapters.
AWS_RESERVED_ENV = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)
AWS_MAX_ENV_BYTES = 4096  # Lambda: all environment variables together
RESERVED_ENV_PREFIX = "CLOUDQUEUE_"

# Names each function host sets or owns, per cloud: (service, exact names, prefixes).
RESERVED_ENV = {
    "aws": ("AWS Lambda", AWS_RESERVED_ENV, ()),
    # App settings the Functions host and App Service read; cloudqueue sets the identity ones.
    "azure": ("Azure Functions", frozenset({"ServiceBusConnection"}), ("AzureWebJobs", "FUNCTIONS_", "WEBSITE_", "SCM_", "AzureFunctionsWebHost", "APPLICATIONINSIGHTS_", "ServiceBusConnection__")),
    # Cloud Run and the Functions Framework set these (Cloud Run "reserved environment variables").
    "gcp": ("Google Cloud Functions", frozenset({"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION", "FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE", "GOOGLE_FUNCTION_SOURCE"}), ("X_GOOGLE_",)),
}

# Entry points each cloud's function host needs at the artifact root, generated by cloudqueue.
GENERATED_FILES = {
    "azure": ("function_app.py", "host.json"),
    "gcp": ("main.py",),
}

# Graviton costs about 20% less than x86 per GB-second for the same work; requirements are
# installed for it (binary wheels for aarch64).
LAMBDA_ARCHITECTURE = "arm64"
# What the generated entry points import, merged into the consumer's requirements.txt.
AZURE_FUNCTIONS_REQUIREMENT = "azure-functions>=1.20,<2"
FUNCTIONS_FRAMEWORK = "functions-framework>=3.5,<4"

# Pub/Sub (GCP) labels: at most 64, keys and values lowercase letters, digits, '_' and '-', 63 long.
GCP_MAX_LABELS = 64

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_IDENTIFIER_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_AWS_PRINCIPAL = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:(root|(role|user)/[\w+=,.@/-]+)$")
_AWS_KMS_KEY = re.compile(r"^arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
# An object id, optionally typed: `User:<id>` or `Group:<id>`; a bare id is a service principal.
_AZURE_PRINCIPAL = re.compile(r"^((ServicePrincipal|User|Group|ForeignGroup):)?[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_AZURE_KEY = re.compile(r"^https://[a-z0-9-]+\.vault\.azure\.net/keys/[A-Za-z0-9-]+(/[0-9a-f]{32})?$")
_GCP_MEMBER = re.compile(r"^(serviceAccount|user|group|domain|principal|principalSet):\S+$")
_GCP_KEY = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
_AWS_TAG = re.compile(r"^[\w .:/=+\-@]*$")

IDENTITY_FORMATS = {
    "aws": (_AWS_PRINCIPAL, "an IAM role, user or account-root ARN (arn:aws:iam::123456789012:role/name)"),
    "azure": (_AZURE_PRINCIPAL, "an Entra ID principal object id (a GUID; User:<id> or Group:<id> for people)"),
    "gcp": (_GCP_MEMBER, "an IAM member such as serviceAccount:api@project.iam.gserviceaccount.com"),
}
KEY_FORMATS = {
    "aws": (_AWS_KMS_KEY, "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); IAM cannot grant kms:Decrypt by alias"),
    "azure": (_AZURE_KEY, "a Key Vault key id (https://<vault>.vault.azure.net/keys/<name>[/<version>])"),
    "gcp": (_GCP_KEY, "a Cloud KMS key name (projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>)"),
}


# --- The resolved spec ------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsumerSpec:
    """A validated consumer with every default filled in."""

    code_path: Path
    handler: str
    runtime: str
    memory_mb: int
    timeout_seconds: int
    batch_size: int
    max_batching_window_seconds: int
    max_concurrency: int
    environment: Mapping[str, Any]
    tracing: bool
    network: Mapping[str, Mapping[str, Any]]

    @property
    def handler_module(self) -> str:
        return self.handler.rpartition(".")[0]

    @property
    def handler_function(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass(frozen=True)
class QueueSpec:
    """A validated queue spec with every default filled in; what the cloud components read."""

    name: str
    clouds: tuple[str, ...]
    fifo: bool
    message_retention_seconds: int
    visibility_timeout_seconds: Optional[int]
    max_delivery_attempts: int
    dead_letter_retention_seconds: int
    encryption_keys: Mapping[str, Any]
    consumer: ConsumerSpec
    producers: Mapping[str, tuple[Any, ...]]
    tags: Mapping[str, Any]

    def visibility_timeout(self, cloud: str) -> int:
        """The visibility (AWS), lock (Azure) or ack deadline (GCP) for one cloud, in seconds."""
        if self.visibility_timeout_seconds is not None:
            return self.visibility_timeout_seconds
        # AWS guidance for SQS event sources: 6 x the function timeout plus the batching
        # window, so a batch can be retried by Lambda before the message reappears.
        derived = 6 * self.consumer.timeout_seconds + self.consumer.max_batching_window_seconds
        # Derived (never user-given) values are kept inside the cloud's own range.
        limit = _limit("visibility_timeout_seconds", cloud)
        if limit is not None and limit.low is not None:
            derived = max(derived, limit.low)
        if limit is not None and limit.high is not None:
            derived = min(derived, limit.high)
        return derived

    def function_environment(self) -> dict[str, Any]:
        """What the consumer's environment holds on every cloud: the user's variables, then the runtime's own."""
        return {**self.consumer.environment, HANDLER_ENV: self.consumer.handler, QUEUE_ENV: self.name}


# --- How a spec field maps to each cloud ---------------------------------------------------------
# One place per mapping; the components call these and the README's equivalence table states them.


def iso8601_duration(seconds: int) -> str:
    """Seconds as an ISO-8601 duration, the form Service Bus takes: 345600 -> P4D, 180 -> PT3M."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return ("P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")) if (days or time) else "PT0S"


def clock_duration(seconds: int) -> str:
    """Seconds as `hh:mm:ss`, the form host.json takes."""
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def azure_lock_seconds(spec: "QueueSpec") -> int:
    """Service Bus lockDuration: the visibility timeout, capped at Service Bus's 5 minutes.

    The Functions host renews the lock (maxAutoLockRenewalDuration) for as long as the
    consumer runs, so a cap below the visibility timeout never hands a message out twice.
    """
    return min(spec.visibility_timeout("azure"), AZURE_MAX_LOCK_SECONDS)


def azure_instance_memory_mb(memory_mb: int) -> int:
    """The smallest Flex Consumption instance size that holds `memory_mb`."""
    return next(size for size in AZURE_INSTANCE_MEMORY_MB if size >= memory_mb)


def azure_scale(max_concurrency: int) -> tuple[int, int]:
    """(maximum instances, calls per instance) whose product is the most that max_concurrency allows.

    Each instance runs at most AZURE_CALLS_PER_INSTANCE calls; the fewest instances that reach
    max_concurrency are used, and the product never exceeds it.
    """
    instances = -(-max_concurrency // AZURE_CALLS_PER_INSTANCE)
    return instances, max_concurrency // instances


def gcp_label(text: str, key: bool) -> str:
    """A tag key or value as a Google Cloud label: lowercase, [a-z0-9_-], at most 63 characters."""
    label = re.sub(r"[^a-z0-9_-]", "_", text.lower())[:63]
    if key and not label[:1].isalpha():
        label = ("t" + label)[:63]  # keys must start with a letter
    return label


def gcp_labels(tags: Mapping[str, Any]) -> dict[str, Any]:
    """Tags as Google Cloud labels; Output values are passed through unchanged."""
    return {gcp_label(k, True): (gcp_label(v, False) if isinstance(v, str) else v) for k, v in tags.items()}


class SpecError(ValueError):
    """A queue spec that cannot be provisioned; `issues` lists every problem found."""

    def __init__(self, issues: list[str]):
        self.issues = issues
        super().__init__("invalid cloudqueue spec:\n" + "\n".join(f"  - {issue}" for issue in issues))


# --- Validation -------------------------------------------------------------------------------


def validate(name: str, args: Mapping[str, Any], base_dir: Optional[Path] = None, clouds: Optional[tuple[str, ...]] = None) -> QueueSpec:
    """Check `args` against the schema and every targeted cloud's limits; return the resolved spec.

    `base_dir` anchors `consumer.code_path` (default: the current directory, which is the
    Pulumi project directory during `pulumi up`). `clouds` fixes the targeted clouds for a
    single-cloud component, whose args carry no `clouds` field.
    """
    path = f"queues.{name}"
    if not isinstance(args, Mapping):
        raise SpecError([f"{path}: {_describe(args)} is not a mapping of spec fields"])
    issues: list[str] = []
    args = dict(args)
    if clouds is not None:
        if "clouds" in args:
            issues.append(f"{path}.clouds: not accepted by a single-cloud component, which always targets {clouds[0]}")
        args["clouds"] = list(clouds)
    if not isinstance(name, str) or not _NAME.match(name):
        issues.append(f"{path}: the queue name must start with a letter or digit and hold only letters, digits, '-' and '_'")
    _check_shape(args, QueueArgs, path, issues)
    if issues:
        raise SpecError(issues)
    spec = _resolve(name, args, base_dir or Path.cwd())
    for rule in RULES:
        issues.extend(rule(spec, path))
    if issues:
        raise SpecError(issues)
    _warn_unpinned(spec, path)
    return spec


class UnpinnedRequirementsWarning(UserWarning):
    """A consumer requirement without an exact pin: two deploys of the same code may differ."""


def _warn_unpinned(spec: QueueSpec, path: str) -> None:
    from . import artifact

    loose = artifact.unpinned(spec.consumer.code_path)
    if loose:
        import warnings

        warnings.warn(
            UnpinnedRequirementsWarning(
                f"{path}.consumer.code_path: requirements.txt does not pin {', '.join(repr(line) for line in loose)}; "
                f"reproducible deploys need exact versions (name==version)"
            ),
            stacklevel=3,
        )


def validate_all(queues: Any, base_dir: Optional[Path] = None) -> dict[str, QueueSpec]:
    """Validate every queue of a stack before any is built, reporting all problems together."""
    if not isinstance(queues, Mapping) or not queues:
        raise SpecError([f"queues: {_describe(queues)} must be a non-empty mapping of queue name to spec"])
    specs, issues = {}, []
    for name, args in queues.items():
        try:
            specs[name] = validate(name, args, base_dir)
        except SpecError as error:
            issues.extend(error.issues)
    if issues:
        raise SpecError(issues)
    return specs


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _type_word(hint: Any) -> str:
    return {bool: "boolean (true or false)", int: "whole number", str: "string"}[hint]


@functools.lru_cache(maxsize=None)
def _fields(typed_dict: type) -> dict[str, Any]:
    """A TypedDict's field annotations, resolved once (get_type_hints is slow, and specs are many)."""
    return get_type_hints(typed_dict)


def _is_typeddict(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__required_keys__")


# Single-string fields that may be another program's Output (a subnet from the user's network
# stack); their shape is checked when they are plain strings.
OUTPUT_FIELDS = frozenset({"subnet_id", "network", "subnetwork"})


def _check_shape(value: Any, hint: Any, path: str, issues: list[str], may_be_output: bool = False) -> None:
    """Type-check `value` against a TypedDict / list / dict / scalar annotation.

    Only string entries of lists and maps (producer ids, keys, tags, environment values) may
    be pulumi Outputs; they are skipped, not guessed. Everything else drives validation.
    """
    if isinstance(value, pulumi.Output):
        if not (may_be_output and hint is str):
            issues.append(f"{path}: must be a plain value, not a pulumi Output, because cloudqueue validates it before deploying")
        return
    if _is_typeddict(hint):
        if not isinstance(value, Mapping):
            issues.append(f"{path}: {_describe(value)} is not a mapping")
            return
        fields = _fields(hint)
        for key in value:
            if key not in fields:
                close = difflib.get_close_matches(str(key), fields, n=1)
                hint_text = f"; did you mean {close[0]!r}?" if close else ""
                issues.append(f"{path}.{key}: unknown field (allowed: {', '.join(sorted(fields))}){hint_text}")
        for key in sorted(hint.__required_keys__):
            if key not in value:
                issues.append(f"{path}.{key}: required field is missing")
        for key, sub in fields.items():
            if key in value:
                _check_shape(value[key], sub, f"{path}.{key}", issues, may_be_output=key in OUTPUT_FIELDS)
        return
    origin = get_origin(hint)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            issues.append(f"{path}: {_describe(value)} is not a list")
            return
        for index, item in enumerate(value):
            _check_shape(item, get_args(hint)[0], f"{path}[{index}]", issues, may_be_output=True)
        return
    if origin is dict:
        if not isinstance(value, Mapping):
            issues.append(f"{path}: {_describe(value)} is not a mapping")
            return
        for key, item in value.items():
            if not isinstance(key, str):
                issues.append(f"{path}: key {_describe(key)} is not a string")
            _check_shape(item, get_args(hint)[1], f"{path}.{key}", issues, may_be_output=True)
        return
    ok = isinstance(value, hint) and (hint is not int or not isinstance(value, bool))
    if not ok:
        issues.append(f"{path}: {_describe(value)} is not a {_type_word(hint)}")


def _resolve(name: str, args: Mapping[str, Any], base_dir: Path) -> QueueSpec:
    consumer_args = args["consumer"]

    def pick(key: str, source: Mapping[str, Any], prefix: str = "") -> Any:
        return source.get(key, DEFAULTS[prefix + key])

    consumer = ConsumerSpec(
        code_path=(base_dir / consumer_args["code_path"]).resolve(),
        handler=consumer_args["handler"],
        **{
            key: pick(key, consumer_args, "consumer.")
            for key in ("runtime", "memory_mb", "timeout_seconds", "batch_size", "max_batching_window_seconds", "max_concurrency", "environment", "tracing", "network")
        },
    )
    clouds = tuple(args["clouds"])
    # Default dead-letter retention: the longest every targeted cloud can store, so a failed
    # message stays inspectable for as long as possible (SQS keeps the original enqueue time).
    known = [MAX_RETENTION[c] for c in clouds if c in MAX_RETENTION and MAX_RETENTION[c] is not None]
    dead_letter_default = min(known) if known else MAX_RETENTION["aws"]
    return QueueSpec(
        name=name,
        clouds=clouds,
        fifo=pick("fifo", args),
        message_retention_seconds=pick("message_retention_seconds", args),
        visibility_timeout_seconds=args.get("visibility_timeout_seconds"),
        max_delivery_attempts=pick("max_delivery_attempts", args),
        dead_letter_retention_seconds=args.get("dead_letter_retention_seconds", dead_letter_default),
        encryption_keys=dict(pick("encryption_keys", args)),
        consumer=consumer,
        producers={cloud: tuple(ids) for cloud, ids in pick("producers", args).items()},
        tags=dict(pick("tags", args)),
    )


def _limit(field: str, cloud: str) -> Optional[Limit]:
    return next((lim for lim in LIMITS if lim.field == field and lim.cloud == cloud), None)


def _field_value(spec: QueueSpec, field: str) -> Any:
    target: Any = spec
    for part in field.split("."):
        target = getattr(target, part)
    return target


def _range_text(low: Optional[int], high: Optional[int]) -> str:
    if high is None:
        return f"{low} or more"
    return f"{low}..{high}"


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
    for field, per_cloud in (("encryption_keys", spec.encryption_keys), ("producers", spec.producers), ("consumer.network", spec.consumer.network)):
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
    for cloud, members in spec.producers.items():
        if cloud not in IDENTITY_FORMATS:
            continue
        pattern, wanted = IDENTITY_FORMATS[cloud]
        for index, member in enumerate(members):
            if isinstance(member, str) and not pattern.match(member):
                issues.append(f"{path}.producers.{cloud}[{index}]: {member!r} is not {wanted}; public principals are never granted")
    for cloud, key in spec.encryption_keys.items():
        if cloud in KEY_FORMATS and isinstance(key, str) and not KEY_FORMATS[cloud][0].match(key):
            issues.append(f"{path}.encryption_keys.{cloud}: {key!r} is not {KEY_FORMATS[cloud][1]}")
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
        for cloud in spec.clouds:
            service, names, prefixes = RESERVED_ENV.get(cloud, ("", frozenset(), ()))
            if key in names or key.upper().startswith(tuple(p.upper() for p in prefixes)):
                issues.append(f"{path}.consumer.environment.{key}: reserved by {service} and cannot be set (when {cloud} is targeted)")
    if "aws" in spec.clouds:
        size = sum(len(k) + len(v) for k, v in env.items() if isinstance(v, str))
        if size > AWS_MAX_ENV_BYTES - 256:  # headroom for the adapter's own variables
            issues.append(
                f"{path}.consumer.environment: {size} bytes is above AWS Lambda's limit of "
                f"{AWS_MAX_ENV_BYTES - 256} for user variables (allowed 0..{AWS_MAX_ENV_BYTES - 256} when aws is targeted)"
            )
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
        if isinstance(value, str) and (len(value) > 256 or not _AWS_TAG.match(value)):
            issues.append(f"{path}.tags.{key}: {value!r} is not a valid AWS tag value (0..256 of letters, digits, spaces and _.:/=+-@)")
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


_AZURE_TAG_FORBIDDEN = re.compile(r"[<>%&\\?/]")


def _azure_tag_issues(spec: QueueSpec, path: str) -> list[str]:
    if "azure" not in spec.clouds:
        return []
    issues = []
    if len(spec.tags) > 49:  # Azure allows 50 per resource; one is cloudqueue's own
        issues.append(f"{path}.tags: {len(spec.tags)} tags is above the Azure maximum of 49 (allowed 0..49 when azure is targeted)")
    for key, value in spec.tags.items():
        if len(key) > 512 or _AZURE_TAG_FORBIDDEN.search(key):
            issues.append(f"{path}.tags.{key}: not a valid Azure tag name (at most 512 characters, none of < > % & \\ ? /) (when azure is targeted)")
        if isinstance(value, str) and len(value) > 256:
            issues.append(f"{path}.tags.{key}: a value of {len(value)} characters is above the Azure maximum of 256 (when azure is targeted)")
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
    """The consumer's requirements install for every targeted cloud, before anything is registered."""
    from . import artifact

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
            artifact.install_requirements(spec.consumer.code_path, platform)
        except artifact.RequirementsError as error:
            issues.append(
                f"{field}: requirements.txt: {error.package} cannot be installed for {platform.description}: {error.detail}; "
                f"pin a version that publishes a wheel for this platform, or drop the compiled extra (when aws is targeted)"
            )
    return issues


# Network ids, shaped as each cloud writes them. Lambda takes at most 16 subnets and 5 security
# groups per function (Lambda VpcConfig).
_AWS_SUBNET = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
_AWS_SECURITY_GROUP = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
_AZURE_SUBNET = re.compile(
    r"^/subscriptions/[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}/resourceGroups/[-\w.()]{1,90}"
    r"/providers/Microsoft\.Network/virtualNetworks/[-\w.]{2,64}/subnets/[-\w.]{1,80}$",
    re.IGNORECASE,
)
_GCP_RESOURCE = r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?"
_GCP_PROJECT = r"[a-z][-a-z0-9]{4,28}[a-z0-9]"
_GCP_NETWORK = re.compile(rf"^projects/{_GCP_PROJECT}/global/networks/{_GCP_RESOURCE}$")
_GCP_SUBNETWORK = re.compile(rf"^projects/{_GCP_PROJECT}/regions/[a-z]+-[a-z]+[0-9]+/subnetworks/{_GCP_RESOURCE}$")
AWS_NETWORK_COUNTS = {"subnet_ids": (_AWS_SUBNET, "an AWS subnet id (subnet- and 8 or 17 hex digits)", 1, 16),
                      "security_group_ids": (_AWS_SECURITY_GROUP, "an AWS security group id (sg- and 8 or 17 hex digits)", 1, 5)}
GCP_EGRESS = {"private-ranges-only": "VPC_EGRESS_PRIVATE_RANGES_ONLY", "all-traffic": "VPC_EGRESS_ALL_TRAFFIC"}
"""Direct VPC egress settings, spec value -> Cloud Functions value."""


def _rule_network(spec: QueueSpec, path: str) -> list[str]:
    field = f"{path}.consumer.network"
    network, issues = spec.consumer.network, []
    aws = network.get("aws") if "aws" in spec.clouds else None
    for key, (pattern, wanted, low, high) in AWS_NETWORK_COUNTS.items():
        ids = (aws or {}).get(key)
        if ids is None:
            continue
        if not low <= len(ids) <= high:
            issues.append(f"{field}.aws.{key}: {len(ids)} ids is outside AWS Lambda's range (allowed {low}..{high} when aws is targeted)")
        for index, value in enumerate(ids):
            if isinstance(value, str) and not pattern.match(value):
                issues.append(f"{field}.aws.{key}[{index}]: {value!r} is not {wanted} (when aws is targeted)")
    azure = network.get("azure") if "azure" in spec.clouds else None
    if azure and isinstance(azure.get("subnet_id"), str) and not _AZURE_SUBNET.match(azure["subnet_id"]):
        issues.append(
            f"{field}.azure.subnet_id: {azure['subnet_id']!r} is not an Azure subnet resource id "
            f"(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>) (when azure is targeted)"
        )
    gcp = network.get("gcp") if "gcp" in spec.clouds else None
    if gcp:
        for key, pattern, wanted in (
            ("network", _GCP_NETWORK, "projects/<project>/global/networks/<name>"),
            ("subnetwork", _GCP_SUBNETWORK, "projects/<project>/regions/<region>/subnetworks/<name>"),
        ):
            if isinstance(gcp.get(key), str) and not pattern.match(gcp[key]):
                issues.append(f"{field}.gcp.{key}: {gcp[key]!r} is not a Google Cloud {key} name ({wanted}) (when gcp is targeted)")
        if gcp.get("egress", "private-ranges-only") not in GCP_EGRESS:
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
    _rule_environment,
    _rule_network,
    _rule_tags,
    _rule_runtime,
    _rule_consumer_code,
    _rule_generated_files,
    _rule_requirements,
)
