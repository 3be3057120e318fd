"""The cloudqueue spec: one declarative queue, validated against every targeted cloud.

`QueueArgs` is both the stack config entry under `cloudqueue:queues.<name>` and the component
args. `validate()` checks it against one table of rules and returns a fully-resolved `QueueSpec`;
it runs before any resource is registered and reports every problem at once. Values are never
clamped: a value a cloud cannot honour is an error that names the field, the value, the cloud and
the allowed range.

The modules, each importing only those above it:
- `limits`: every per-cloud number and format (LIMITS, NAME_LIMITS, RESERVED_ENV, id and key formats, DEFAULTS);
- `args`: the TypedDicts users write;
- `model`: the resolved `QueueSpec` and `ConsumerSpec`;
- `mappings`: how a field maps to each cloud (durations, Azure scale, Google Cloud labels);
- `inputs`: the fields that may hold another resource's Output, and the check of one value of each;
- `rules`: the rules and `RULES`;
- `validate`: `validate`, `validate_all`, `SpecError`, the shape check and the warnings.
"""

from .args import AlarmArgs, AwsNetworkArgs, AzureNetworkArgs, CloudQueueArgs, ConsumerArgs, GcpNetworkArgs, NetworkArgs, QueueArgs
from .limits import (
    AWS_MAX_ALARM_ACTIONS,
    AWS_MAX_ENV_BYTES,
    AWS_MAX_QUEUE_NAME,
    AWS_NETWORK_COUNTS,
    AWS_RESERVED_ENV,
    AZURE_CALLS_PER_INSTANCE,
    AZURE_FUNCTIONS_REQUIREMENT,
    AZURE_INSTANCE_MEMORY_MB,
    AZURE_MAX_INSTANCES,
    AZURE_MAX_LOCK_SECONDS,
    CLOUD_NAMES,
    CLOUD_RUN_PENDING_SECONDS,
    CLOUDS,
    DEFAULTS,
    DNS_NAME_CLOUDS,
    FUNCTIONS_FRAMEWORK,
    GCP_EGRESS,
    GCP_MAX_LABELS,
    GENERATED_FILES,
    IDENTITY_FORMATS,
    KEY_FORMATS,
    LAMBDA_ARCHITECTURE,
    LIMITS,
    MAX_RETENTION,
    NAME_LIMITS,
    NETWORK_ID_FORMATS,
    NOTIFY_TARGET_FORMATS,
    PROVIDER_PACKAGES,
    RESERVED_ENV,
    RESERVED_ENV_PREFIX,
    RUNTIMES,
    Limit,
    NameLimit,
)
from .mappings import (
    azure_instance_memory_mb,
    azure_lock_seconds,
    azure_scale,
    clock_duration,
    gcp_attempts_for_burst,
    gcp_label,
    gcp_labels,
    gcp_safe_burst,
    iso8601_duration,
)
from .model import AlarmSpec, ConsumerSpec, QueueSpec
from .rules import RULES, Rule
from .validate import CrossAccountProducerWarning, SpecError, UnpinnedRequirementsWarning, validate, validate_all

__all__ = [
    "AWS_MAX_ALARM_ACTIONS", "AWS_MAX_ENV_BYTES", "AWS_MAX_QUEUE_NAME", "AWS_NETWORK_COUNTS", "AWS_RESERVED_ENV", "AZURE_CALLS_PER_INSTANCE",
    "AZURE_FUNCTIONS_REQUIREMENT", "AZURE_INSTANCE_MEMORY_MB", "AZURE_MAX_INSTANCES", "AZURE_MAX_LOCK_SECONDS",
    "CLOUD_NAMES", "CLOUD_RUN_PENDING_SECONDS", "CLOUDS", "DEFAULTS", "DNS_NAME_CLOUDS", "FUNCTIONS_FRAMEWORK",
    "GCP_EGRESS", "GCP_MAX_LABELS", "GENERATED_FILES", "IDENTITY_FORMATS", "KEY_FORMATS", "LAMBDA_ARCHITECTURE",
    "LIMITS", "MAX_RETENTION", "NAME_LIMITS", "NETWORK_ID_FORMATS", "NOTIFY_TARGET_FORMATS", "PROVIDER_PACKAGES", "RESERVED_ENV",
    "RESERVED_ENV_PREFIX", "RULES", "RUNTIMES",
    "AlarmArgs", "AlarmSpec", "AwsNetworkArgs", "AzureNetworkArgs", "CloudQueueArgs", "ConsumerArgs", "ConsumerSpec", "CrossAccountProducerWarning",
    "GcpNetworkArgs", "Limit", "NameLimit", "NetworkArgs", "QueueArgs", "QueueSpec", "Rule", "SpecError",
    "UnpinnedRequirementsWarning",
    "azure_instance_memory_mb", "azure_lock_seconds", "azure_scale", "clock_duration", "gcp_attempts_for_burst",
    "gcp_label", "gcp_labels", "gcp_safe_burst", "iso8601_duration", "validate", "validate_all",
]
