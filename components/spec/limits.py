"""Every per-cloud number and format the spec is checked against, in one place.

The `LIMITS` table (one row per field and cloud, with the service that imposes it), the longest
physical names each cloud derives from a queue name, the environment names each function host
reserves, the accepted shapes of identities, keys, tags and network ids, the defaults and the
supported runtimes. Rules (rules.py) and mappings (mappings.py) read these; nothing here imports
the rest of the spec.
"""

import re
from dataclasses import dataclass
from typing import Any, Optional

CLOUDS = ("aws", "azure", "gcp")
"""Every cloud a spec may name, in fan-out order."""

CLOUD_NAMES = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud"}

# The provider SDK each cloud's component needs; installed by the extra of the same name
# (`pip install 'cloudqueue[gcp]'`), so a program pays only for the clouds it targets.
PROVIDER_PACKAGES = {"aws": "pulumi_aws", "azure": "pulumi_azure_native", "gcp": "pulumi_gcp"}


# --- Defaults -------------------------------------------------------------------------------

# Plain defaults. Derived ones (visibility timeout, dead-letter retention) are computed in
# `_resolve`, where their rule is stated.
DEFAULTS: dict[str, Any] = {
    "fifo": False,
    "message_retention_seconds": 4 * 24 * 3600,  # SQS's own default: 4 days
    "max_delivery_attempts": 5,  # the lowest value every cloud accepts (Pub/Sub minimum)
    "encryption_keys": {},
    "producers": {},
    "operators": {},
    "tags": {},
    # 256 KiB: Service Bus Standard's limit, the lowest of the three clouds (LIMITS below).
    "max_message_bytes": 262_144,
    # An alarm on every dead-letter queue unless the spec turns it off; nobody is notified unless named.
    "alarms.dead_letter": True,
    "alarms.notify": {},
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
    # maxDeliveryCount is an int32 with a floor of 1 only (the SDKs' QueueProperties); NServiceBus
    # creates its queues with int.MaxValue (Particular/NServiceBus.Transport.AzureServiceBus#1400).
    Limit("max_delivery_attempts", "azure", "Azure Service Bus", 1, 2**31 - 1),
    Limit("max_delivery_attempts", "gcp", "Google Cloud Pub/Sub", 5, 100),  # deadLetterPolicy
    Limit("visibility_timeout_seconds", "aws", "AWS SQS", 0, 43200),  # 12 hours
    Limit("visibility_timeout_seconds", "gcp", "Google Cloud Pub/Sub", 10, 600),  # ackDeadlineSeconds
    Limit("message_retention_seconds", "aws", "AWS SQS", 60, 1209600),  # 14 days
    Limit("message_retention_seconds", "azure", "Azure Service Bus", 1, None),  # defaultMessageTimeToLive: the SDKs' MinimumAllowedTimeToLive
    # Subscription messageRetentionDuration: 10 minutes..31 days (Pub/Sub Subscription reference;
    # pulumi-gcp's `message_retention_duration`: "Cannot be more than 31 days ... or less than 10 minutes").
    Limit("message_retention_seconds", "gcp", "Google Cloud Pub/Sub", 600, 2678400),
    Limit("dead_letter_retention_seconds", "aws", "AWS SQS", 60, 1209600),
    Limit("dead_letter_retention_seconds", "azure", "Azure Service Bus", 1, None),
    Limit("dead_letter_retention_seconds", "gcp", "Google Cloud Pub/Sub", 600, 2678400),  # a subscription too
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
    # SQS MaximumMessageSize: 1,024..1,048,576 bytes since 2025 (the SQS API reference, SetQueueAttributes);
    # the component sets it on both queues, since the provider would create them with 262,144.
    Limit("max_message_bytes", "aws", "AWS SQS", 1024, 1_048_576),
    # Standard tier: 256 KB per message, headers and properties included (Service Bus quotas); no queue setting.
    Limit("max_message_bytes", "azure", "Azure Service Bus Standard", 1, 262_144),
    # 10 MB per message (Pub/Sub quotas and limits); no topic setting.
    Limit("max_message_bytes", "gcp", "Google Cloud Pub/Sub", 1, 10_000_000),
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

# The queue name itself: it prefixes every physical name.
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

# Where a dead-letter alarm may notify: an e-mail address (cloudqueue creates the SNS topic and
# subscription, the action group, or the notification channel for it) or an existing target of the
# cloud's own kind. A pragmatic address shape (RFC 5321 caps an address at 254 characters).
_EMAIL = re.compile(r"^(?=.{3,254}$)[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_SNS_TOPIC = re.compile(r"^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
# The start of every Azure resource id: the subscription (a GUID) and the resource group.
_AZURE_GROUP_ID = r"/subscriptions/[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}/resourceGroups/[-\w.()]{1,90}"
_ACTION_GROUP = re.compile(rf"^{_AZURE_GROUP_ID}/providers/microsoft\.insights/actionGroups/[^/]{{1,260}}$", re.IGNORECASE)
_NOTIFICATION_CHANNEL = re.compile(r"^projects/[^/]+/notificationChannels/\d+$")
NOTIFY_TARGET_FORMATS = {
    "aws": (_SNS_TOPIC, "an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)"),
    "azure": (_ACTION_GROUP, "an action group resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Insights/actionGroups/<name>)"),
    "gcp": (_NOTIFICATION_CHANNEL, "a notification channel name (projects/<project>/notificationChannels/<id>)"),
}
"""An existing alarm target per cloud: (pattern, what it is, as errors name it)."""
# CloudWatch runs at most five actions per alarm state (PutMetricAlarm AlarmActions, OKActions).
AWS_MAX_ALARM_ACTIONS = 5

# Azure tag names may hold none of these (learn.microsoft.com, azure-resource-manager/management/tag-resources, "Limitations").
_AZURE_TAG_FORBIDDEN = re.compile(r"[<>%&\\?/]")


# Network ids, shaped as each cloud writes them. Lambda takes at most 16 subnets and 5 security
# groups per function (Lambda VpcConfig).
_AWS_SUBNET = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
_AWS_SECURITY_GROUP = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
_AZURE_SUBNET = re.compile(
    rf"^{_AZURE_GROUP_ID}/providers/Microsoft\.Network/virtualNetworks/[-\w.]{{2,64}}/subnets/[-\w.]{{1,80}}$",
    re.IGNORECASE,
)
_GCP_RESOURCE = r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?"
_GCP_PROJECT = r"[a-z][-a-z0-9]{4,28}[a-z0-9]"
_GCP_NETWORK = re.compile(rf"^projects/{_GCP_PROJECT}/global/networks/{_GCP_RESOURCE}$")
_GCP_SUBNETWORK = re.compile(rf"^projects/{_GCP_PROJECT}/regions/[a-z]+-[a-z]+[0-9]+/subnetworks/{_GCP_RESOURCE}$")
NETWORK_ID_FORMATS = {
    ("aws", "subnet_ids"): (_AWS_SUBNET, "an AWS subnet id (subnet- and 8 or 17 hex digits)"),
    ("aws", "security_group_ids"): (_AWS_SECURITY_GROUP, "an AWS security group id (sg- and 8 or 17 hex digits)"),
    ("azure", "subnet_id"): (
        _AZURE_SUBNET,
        "an Azure subnet resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>)",
    ),
    ("gcp", "network"): (_GCP_NETWORK, "a Google Cloud network name (projects/<project>/global/networks/<name>)"),
    ("gcp", "subnetwork"): (_GCP_SUBNETWORK, "a Google Cloud subnetwork name (projects/<project>/regions/<region>/subnetworks/<name>)"),
}
"""The shape of each network id, per (cloud, field of `consumer.network.<cloud>`): (pattern, what it is, as errors name it)."""
AWS_NETWORK_COUNTS = {"subnet_ids": (1, 16), "security_group_ids": (1, 5)}
"""How many ids of each kind one Lambda function takes: (fewest, most)."""
GCP_EGRESS = {"private-ranges-only": "VPC_EGRESS_PRIVATE_RANGES_ONLY", "all-traffic": "VPC_EGRESS_ALL_TRAFFIC"}
"""Direct VPC egress settings, spec value -> Cloud Functions value."""


# Cloud Run holds a push up to this long while every instance is busy, then answers 429, which
# Pub/Sub counts as a delivery attempt ("queued for up to 10 seconds",
# cloud.google.com/run/docs/about-instance-autoscaling; other versions of Google's pages say 30 or
# 60 s, so the shortest is the safe figure; DeadLetterPolicy in googleapis pubsub.proto).
CLOUD_RUN_PENDING_SECONDS = 10


def _limit(field: str, cloud: str) -> Optional[Limit]:
    """The row of LIMITS for `field` on `cloud`, or None when that cloud puts no range on it."""
    return next((lim for lim in LIMITS if lim.field == field and lim.cloud == cloud), None)


def _range_text(low: Optional[int], high: Optional[int]) -> str:
    """An allowed range as errors state it: `1..16`, or `5 or more` without a maximum."""
    if high is None:
        return f"{low} or more"
    return f"{low}..{high}"

