"""The args users write: the stack config entry `cloudqueue:queues.<name>` and the components' args.

Fields that name another program's resources (producer ids, encryption keys, network ids, tag and
environment values) are `pulumi.Input`: a TypeScript, YAML or Python program may wire them from its
own resources, and validation checks them once their values are known. Everything else (clouds,
fifo, the numbers, the consumer's code, handler, runtime, egress and tracing) decides which
resources exist and how they are built, so it must be a plain value.

The SDK's schema analyzer reads a field's description from the class statement that declares it,
never from a base class (`Analyzer.get_docstring` in pulumi/provider/experimental/analyzer.py).
So every args class a component takes declares all of its own fields: `QueueArgs` repeats the
fields of `CloudQueueArgs` (as AzureQueueArgs does), and tests/components/spec/test_args.py fails
when a repeated declaration (its type or its description) drifts from the one here.
"""

from typing import Required, TypedDict

import pulumi


class AwsNetworkArgs(TypedDict, total=False):
    """Where the Lambda consumer's network interfaces go: subnets and security groups of a VPC."""

    subnet_ids: Required[list[pulumi.Input[str]]]
    """Subnet ids (subnet-...), 1..16; two or more Availability Zones keep the consumer up when one fails."""
    security_group_ids: Required[list[pulumi.Input[str]]]
    """Security group ids (sg-...), 1..5, for the function's network interfaces."""


class AzureNetworkArgs(TypedDict, total=False):
    """Flex Consumption VNet integration: the Function App's outbound traffic goes through this subnet."""

    subnet_id: Required[pulumi.Input[str]]
    """Resource id of a subnet delegated to Microsoft.App/environments."""


class GcpNetworkArgs(TypedDict, total=False):
    """Direct VPC egress for the Cloud Run function: no connector, the instances get addresses in the subnet."""

    network: Required[pulumi.Input[str]]
    """VPC network, projects/<project>/global/networks/<name>."""
    subnetwork: Required[pulumi.Input[str]]
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
    environment: dict[str, pulumi.Input[str]]
    """Extra environment variables for the function."""
    tracing: bool
    """Trace every invocation (X-Ray, Application Insights, Cloud Trace correlation); true by default."""
    network: NetworkArgs
    """Opt-in private networking per cloud; absent means no VPC/VNet."""


class AlarmArgs(TypedDict, total=False):
    """Alarms on the dead-letter queue: on by default, and whom they notify per cloud."""

    dead_letter: bool
    """Alarm when a message is dead-lettered, and where the cloud expires dead letters when the oldest is half way there; true by default."""
    notify: dict[str, list[pulumi.Input[str]]]
    """Per cloud, e-mail addresses (cloudqueue creates the SNS topic, action group or notification channel) or existing targets (an SNS topic ARN, an action group id, a notification channel name)."""


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
    encryption_keys: dict[str, pulumi.Input[str]]
    """Customer-managed key per cloud (AWS KMS key ARN, Key Vault key id, Cloud KMS key name)."""
    consumer: Required[ConsumerArgs]
    """The consuming function."""
    producers: dict[str, list[pulumi.Input[str]]]
    """Identities per cloud granted send rights on this queue only."""
    operators: dict[str, list[pulumi.Input[str]]]
    """Identities per cloud granted what `cloudqueue send` and `cloudqueue dlq` need on this queue and its dead-letter queue only."""
    max_message_bytes: int
    """Largest message accepted, body and attributes, in bytes; 262144 (256 KiB) by default."""
    alarms: AlarmArgs
    """Alarms on the dead-letter queue and whom they notify."""
    tags: dict[str, pulumi.Input[str]]
    """Tags (AWS, Azure) or labels (Google Cloud) put on every resource."""


class QueueArgs(TypedDict, total=False):
    """One queue, its dead-letter queue, its producers and its consumer, on several clouds."""

    # The fields of CloudQueueArgs, declared again for the schema analyzer (see the module docstring).
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
    encryption_keys: dict[str, pulumi.Input[str]]
    """Customer-managed key per cloud (AWS KMS key ARN, Key Vault key id, Cloud KMS key name)."""
    consumer: Required[ConsumerArgs]
    """The consuming function."""
    producers: dict[str, list[pulumi.Input[str]]]
    """Identities per cloud granted send rights on this queue only."""
    operators: dict[str, list[pulumi.Input[str]]]
    """Identities per cloud granted what `cloudqueue send` and `cloudqueue dlq` need on this queue and its dead-letter queue only."""
    max_message_bytes: int
    """Largest message accepted, body and attributes, in bytes; 262144 (256 KiB) by default."""
    alarms: AlarmArgs
    """Alarms on the dead-letter queue and whom they notify."""
    tags: dict[str, pulumi.Input[str]]
    """Tags (AWS, Azure) or labels (Google Cloud) put on every resource."""
    clouds: Required[list[str]]
    """Clouds to provision on: a non-empty subset of aws, azure, gcp."""
