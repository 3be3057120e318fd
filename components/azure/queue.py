"""AzureQueue: a Service Bus queue with its dead-letter sub-queue and a Flex Consumption consumer.

The constructor validates, then runs its steps: `_queues` (the Service Bus queue; its dead-letter
queue is the built-in `$DeadLetterQueue` sub-queue), `_consumer` (package, plan and Function App),
`_access` (the app's roles, the producers' sender roles and the operators' roles, each scoped to
this queue), `_publish` (the OneDeploy step, once the app may read its package), `_alarms` (the
metric alert on the dead-letter count and the action group that e-mails it) and `_outputs`.
"""

import hashlib
from dataclasses import dataclass
from typing import Any, NamedTuple, Optional, Required, TypedDict

import pulumi
import pulumi_azure_native as azure

from .. import artifact
from ..azure_publish import FunctionAppPackage
from ..spec import (
    AlarmArgs,
    ConsumerArgs,
    QueueSpec,
    SpecError,
    azure_instance_memory_mb,
    azure_lock_seconds,
    azure_scale,
    iso8601_duration,
    validate,
)
from .function_app import CONNECTION, QUEUE_NAME_SETTING, generated_files
from .monitoring import INSIGHTS_AUTHENTICATION, MONITORING_METRICS_PUBLISHER, AzureMonitoring
from .shared import AzureShared, Foundation, Lookups, program_lookups

# Built-in role definitions (Azure RBAC "built-in roles"), granted at the narrowest scope.
SERVICE_BUS_DATA_RECEIVER = "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"
SERVICE_BUS_DATA_SENDER = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"
# The Functions host keeps its locks and keys in blobs, and Flex reads the package from the
# deployment container: Blob Data Owner on the account is what the host's identity-based
# AzureWebJobsStorage needs with a Service Bus trigger (no queue or table trigger is used).
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
# Function Apps sharing a storage account must not share a host id; App Service derives it
# from the first 32 characters of the app name, so cloudqueue sets a unique one.
HOST_ID_SETTING = "AzureFunctionsWebHost__hostid"
# Metric alerts are global resources, and so are action groups (Azure Monitor's ARM templates).
ALERT_LOCATION = "global"
ACTION_GROUP_LOCATION = "Global"
# Warning: a dead letter asks for a look, not a page at night (Azure Monitor severities 0 critical .. 4 verbose).
ALERT_SEVERITY = 2
# Service Bus metrics have a one-minute grain (supported metrics, Microsoft.ServiceBus/Namespaces).
ALERT_WINDOW = "PT1M"
ACTION_GROUP_SHORT_NAME_MAX = 12


class AzureQueueArgs(TypedDict, total=False):
    """Args of AzureQueue: the cloudqueue spec without `clouds`, plus optional existing shared resources."""

    # The fields of CloudQueueArgs, declared again for the schema analyzer, which reads a field's
    # description from this class statement only (tests/components/spec/test_args.py keeps them equal).
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
    resource_group_name: pulumi.Input[str]
    """Existing resource group holding the namespace and storage account; give all three or none."""
    namespace_name: pulumi.Input[str]
    """Existing Service Bus namespace (Standard or Premium, local auth disabled) to put the queue in."""
    storage_account_name: pulumi.Input[str]
    """Existing storage account (identity access, no shared keys) for the Function App's host and package."""


EXISTING_FIELDS = ("resource_group_name", "namespace_name", "storage_account_name")


@dataclass(frozen=True)
class _Context:
    """What every step of one AzureQueue reads."""

    name: str
    spec: QueueSpec
    tags: dict[str, Any]
    provider: Optional[pulumi.ProviderResource]
    lookups: Lookups
    foundation: Foundation
    """The resource group, namespace and storage account the queue and its app go in."""
    data: pulumi.ResourceOptions
    """Options of the queue: it holds data, so it inherits the component's `protect`."""
    stateless: pulumi.ResourceOptions
    """Options of everything else, recreated from code."""


class _Consumer(NamedTuple):
    """What `_consumer` built that the later steps use."""

    app: azure.web.WebApp
    package: artifact.Artifact
    monitoring: Optional[AzureMonitoring]


# Annotations naming servicebus are quoted: evaluating them would load that SDK module for every
# program that only imports cloudqueue.


class AzureQueue(pulumi.ComponentResource):
    """A Service Bus queue with dead-lettering, a Flex Consumption consumer and queue-scoped roles."""

    namespace_name: pulumi.Output[str]
    """Name of the Service Bus namespace holding the queue."""
    queue_name: pulumi.Output[str]
    """Name of the Service Bus queue."""
    dead_letter_path: pulumi.Output[str]
    """Path of the queue's dead-letter sub-queue, `<queue>/$DeadLetterQueue`."""
    function_app_name: pulumi.Output[str]
    """Name of the consuming Function App."""
    namespace_host: pulumi.Output[str]
    """Host name of the Service Bus namespace (`<namespace>.servicebus.windows.net`), where clients connect."""

    def __init__(self, name: str, args: AzureQueueArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # Validate before registering anything: a bad spec creates nothing.
        spec, existing = _validated(name, args)
        super().__init__("cloudqueue:index:AzureQueue", name, {}, opts)
        ctx = self._context(name, spec, existing)
        queue = self._queues(ctx)
        consumer = self._consumer(ctx, queue)
        ready = self._access(ctx, queue, consumer)
        self._publish(ctx, consumer, ready)
        self._alarms(ctx, queue)
        self._outputs(ctx, queue, consumer.app)

    def _context(self, name: str, spec: QueueSpec, existing: dict[str, Any]) -> _Context:
        """What every step reads: the spec, tags, where the queue lives (shared or existing) and the children's options."""
        provider = self.get_provider("azure-native::")
        lookups = program_lookups(provider)
        foundation = (
            Foundation.existing(existing["resource_group_name"], existing["namespace_name"], existing["storage_account_name"], lookups)
            if existing
            else AzureShared.for_program(provider, protect=bool(self._protect)).foundation
        )
        return _Context(
            name=name,
            spec=spec,
            tags={**spec.tags, "cloudqueue:queue": spec.name},
            provider=provider,
            lookups=lookups,
            foundation=foundation,
            data=pulumi.ResourceOptions(parent=self),
            stateless=pulumi.ResourceOptions(parent=self, protect=False),
        )

    def _queues(self, ctx: _Context) -> "azure.servicebus.Queue":
        """The Service Bus queue; its dead-letter queue is the sub-queue Service Bus gives every queue."""
        spec = ctx.spec
        return azure.servicebus.Queue(
            f"{ctx.name}-queue",
            resource_group_name=ctx.foundation.resource_group_name,
            namespace_name=ctx.foundation.namespace_name,
            max_delivery_count=spec.max_delivery_attempts,
            lock_duration=iso8601_duration(azure_lock_seconds(spec)),
            default_message_time_to_live=iso8601_duration(spec.message_retention_seconds),
            # Without it an expired message is dropped, not dead-lettered.
            dead_lettering_on_message_expiration=True,
            requires_session=spec.fifo,
            opts=ctx.data,
        )

    def _consumer(self, ctx: _Context, queue: "azure.servicebus.Queue") -> _Consumer:
        """The package, its deployment container, the Flex Consumption plan and the Function App."""
        spec, name, foundation, rg = ctx.spec, ctx.name, ctx.foundation, ctx.foundation.resource_group_name
        package = artifact.build(spec.consumer.code_path, generated=generated_files(spec))
        container = azure.storage.BlobContainer(
            f"{name}-packages",
            account_name=foundation.storage_account_name,
            resource_group_name=rg,
            public_access="None",
            opts=ctx.stateless,
        )
        # Flex Consumption hosts one app per plan.
        plan = azure.web.AppServicePlan(
            f"{name}-plan",
            resource_group_name=rg,
            kind="functionapp",
            reserved=True,  # Linux
            sku={"name": "FC1", "tier": "FlexConsumption"},
            tags=ctx.tags,
            opts=ctx.stateless,
        )
        instances, _ = azure_scale(spec.consumer.max_concurrency)
        monitoring = AzureMonitoring.for_program(rg, ctx.provider) if spec.consumer.tracing else None
        network = spec.consumer.network.get("azure")
        app = azure.web.WebApp(
            f"{name}-consumer",
            resource_group_name=rg,
            server_farm_id=plan.id,
            kind="functionapp,linux",
            https_only=True,  # CKV_AZURE_70
            identity={"type": "SystemAssigned"},
            # No inbound access (CKV_AZURE_222): no HTTP trigger; the publish step opens SCM for the
            # upload only, and the main site denies every address. No client certificates: Flex
            # supports no platform certificate features (README, CKV_AZURE_17).
            public_network_access="Disabled",
            virtual_network_subnet_id=network["subnet_id"] if network else None,
            # Only what Flex accepts (the azurerm FC1 set): ARM rejects ftpsState and six more on Flex
            # (error 51021, mocks.FLEX_REJECTED_SITE_CONFIG). A plain dict: SiteConfigArgs would add
            # netFrameworkVersion "v4.6" (pulumi/pulumi-azure-native#4168), one of them.
            site_config={
                "app_settings": [{"name": key, "value": value} for key, value in self._settings(ctx, queue, monitoring).items()],
                "min_tls_version": "1.2",
                "scm_min_tls_version": "1.2",
                "http20_enabled": True,
                "ip_security_restrictions_default_action": "Deny",
                "scm_ip_security_restrictions_use_main": False,
                "scm_ip_security_restrictions_default_action": "Allow",
            },
            function_app_config={
                "deployment": {
                    "storage": {
                        "type": "blobContainer",
                        "value": pulumi.Output.concat(foundation.blob_endpoint, container.name),
                        "authentication": {"type": "SystemAssignedIdentity"},
                    }
                },
                "runtime": {"name": "python", "version": spec.consumer.runtime.removeprefix("python")},
                "scale_and_concurrency": {
                    "maximum_instance_count": instances,
                    "instance_memory_mb": azure_instance_memory_mb(spec.consumer.memory_mb),
                },
            },
            tags=ctx.tags,
            opts=ctx.stateless,
        )
        # Deployments sign in with Entra ID; basic-auth publishing credentials stay off.
        for method, resource in (("ftp", azure.web.WebAppFtpAllowed), ("scm", azure.web.WebAppScmAllowed)):
            resource(f"{name}-{method}-basic-auth", name=app.name, resource_group_name=rg, allow=False, opts=ctx.stateless)
        return _Consumer(app, package, monitoring)

    @staticmethod
    def _settings(ctx: _Context, queue: "azure.servicebus.Queue", monitoring: Optional[AzureMonitoring]) -> dict[str, Any]:
        """The app settings: the consumer's environment, then what the host and the trigger read."""
        host_id = "cq-" + hashlib.sha256(f"{pulumi.get_project()}/{pulumi.get_stack()}/{ctx.name}".encode()).hexdigest()[:29]
        settings = {
            **ctx.spec.function_environment(),
            QUEUE_NAME_SETTING: queue.name,
            f"{CONNECTION}__fullyQualifiedNamespace": ctx.foundation.namespace_host,
            "AzureWebJobsStorage__accountName": ctx.foundation.storage_account_name,
            HOST_ID_SETTING: host_id,
        }
        if monitoring:
            settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] = monitoring.connection_string
            settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = INSIGHTS_AUTHENTICATION
        return settings

    def _access(self, ctx: _Context, queue: "azure.servicebus.Queue", consumer: _Consumer) -> list[azure.authorization.RoleAssignment]:
        """The app's roles (receive, its storage, telemetry) and each producer's send role, on this queue only.

        Returns the roles the publish step waits for.
        """
        name, stateless = ctx.name, ctx.stateless
        principal = consumer.app.identity.apply(lambda identity: identity.principal_id)
        receiver = self._grant(f"{name}-receiver", ctx.lookups, SERVICE_BUS_DATA_RECEIVER, queue.id, principal, "ServicePrincipal", stateless)
        storage_owner = self._grant(f"{name}-storage-owner", ctx.lookups, STORAGE_BLOB_DATA_OWNER, ctx.foundation.storage_account_id, principal, "ServicePrincipal", stateless)
        if consumer.monitoring:
            self._grant(f"{name}-telemetry", ctx.lookups, MONITORING_METRICS_PUBLISHER, consumer.monitoring.insights_id, principal, "ServicePrincipal", stateless)
        for index, producer in enumerate(ctx.spec.producers.get("azure", ())):
            principal_type, producer_id = _typed_principal(producer)
            self._grant(f"{name}-sender-{index}", ctx.lookups, SERVICE_BUS_DATA_SENDER, queue.id, producer_id, principal_type, stateless)
        # `cloudqueue send` and `redrive` send to the queue; `peek`, `redrive` and `purge` receive from its
        # $DeadLetterQueue, which has no access control of its own: a role on the queue covers it.
        for index, operator in enumerate(ctx.spec.operators.get("azure", ())):
            principal_type, operator_id = _typed_principal(operator)
            for role, definition in (("sender", SERVICE_BUS_DATA_SENDER), ("receiver", SERVICE_BUS_DATA_RECEIVER)):
                self._grant(f"{name}-operator-{index}-{role}", ctx.lookups, definition, queue.id, operator_id, principal_type, stateless)
        return [receiver, storage_owner]

    @staticmethod
    def _grant(
        name: str,
        lookups: Lookups,
        role: str,
        scope: pulumi.Input[str],
        principal: pulumi.Input[str],
        principal_type: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> azure.authorization.RoleAssignment:
        return azure.authorization.RoleAssignment(
            name,
            role_definition_id=lookups.role_definition(role),
            scope=scope,
            principal_id=principal,
            # Always set: the SDK would default to User, and a just-created managed identity is
            # only accepted before replication when its type is given.
            principal_type=principal_type,
            opts=opts,
        )

    def _publish(self, ctx: _Context, consumer: _Consumer, ready: list[azure.authorization.RoleAssignment]) -> None:
        """Publish the package once the app can read its deployment container and receive from the queue."""
        FunctionAppPackage(
            f"{ctx.name}-package",
            scm_url=pulumi.Output.concat("https://", _scm_host(consumer.app)),
            package_path=str(consumer.package.path),
            package_sha256=consumer.package.sha256_hex,
            site_id=consumer.app.id,
            opts=pulumi.ResourceOptions.merge(ctx.stateless, pulumi.ResourceOptions(depends_on=ready)),
        )

    def _alarms(self, ctx: _Context, queue: "azure.servicebus.Queue") -> None:
        """A metric alert on the queue's dead-lettered messages, e-mailed through an action group.

        Service Bus keeps dead-lettered messages until they are read, so there is no age condition here.
        """
        spec, name, alarms = ctx.spec, ctx.name, ctx.spec.alarms
        if not alarms.dead_letter:
            return
        action_groups: list[Any] = list(alarms.targets("azure"))
        emails = alarms.emails("azure")
        if emails:
            group = azure.monitor.ActionGroup(
                f"{name}-alarm-actions",
                resource_group_name=ctx.foundation.resource_group_name,
                location=ACTION_GROUP_LOCATION,
                group_short_name=spec.name[:ACTION_GROUP_SHORT_NAME_MAX],
                enabled=True,
                # Receiver names must be unique in the group: named after the address, not its place.
                email_receivers=[
                    {"name": f"email-{hashlib.sha256(email.encode()).hexdigest()[:8]}", "email_address": email, "use_common_alert_schema": True}
                    for email in emails
                ],
                tags=ctx.tags,
                opts=ctx.stateless,
            )
            action_groups.insert(0, group.id)
        azure.monitor.MetricAlert(
            f"{name}-dead-letter-alarm",
            resource_group_name=ctx.foundation.resource_group_name,
            location=ALERT_LOCATION,
            description=f"A message reached the dead-letter queue of the cloudqueue queue {spec.name}: cloudqueue dlq peek --stack {pulumi.get_stack()} {spec.name}",
            severity=ALERT_SEVERITY,
            enabled=True,
            # The metric is the namespace's; the EntityName dimension picks this queue out of the shared namespace.
            scopes=[ctx.foundation.namespace_id],
            evaluation_frequency=ALERT_WINDOW,
            window_size=ALERT_WINDOW,
            # Args classes, not a plain dict: `criteria` is a union of three types, and the SDK leaves a dict
            # given for a union in Python's snake_case names (`all_of`), which ARM does not read.
            criteria=azure.monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                all_of=[
                    azure.monitor.MetricCriteriaArgs(
                        criterion_type="StaticThresholdCriterion",
                        name="dead-lettered-messages",
                        metric_namespace="Microsoft.ServiceBus/namespaces",
                        metric_name="DeadletteredMessages",
                        dimensions=[azure.monitor.MetricDimensionArgs(name="EntityName", operator="Include", values=[queue.name])],
                        operator="GreaterThan",
                        threshold=0,
                        time_aggregation="Maximum",
                    )
                ],
            ),
            auto_mitigate=True,  # resolves, and says so, once the dead-letter queue is empty again
            actions=[{"action_group_id": group_id} for group_id in action_groups],
            tags=ctx.tags,
            opts=ctx.stateless,
        )

    def _outputs(self, ctx: _Context, queue: "azure.servicebus.Queue", app: azure.web.WebApp) -> None:
        """Set the output attributes, then register them: the last thing the component does."""
        self.namespace_name = ctx.foundation.namespace_name
        self.queue_name = queue.name
        self.dead_letter_path = pulumi.Output.concat(queue.name, "/$DeadLetterQueue")
        self.function_app_name = app.name
        self.namespace_host = ctx.foundation.namespace_host
        self.register_outputs(
            {
                "namespace_name": self.namespace_name,
                "queue_name": self.queue_name,
                "dead_letter_path": self.dead_letter_path,
                "function_app_name": self.function_app_name,
                "namespace_host": self.namespace_host,
            }
        )


def _validated(name: str, args: Any) -> tuple[QueueSpec, dict[str, Any]]:
    """The queue's spec and the existing resources it names (none, or all of EXISTING_FIELDS).

    A QueueSpec comes from Queue, which has already validated it against every targeted cloud.
    """
    if isinstance(args, QueueSpec):
        return args, {}
    existing = {key: args[key] for key in EXISTING_FIELDS if isinstance(args, dict) and key in args}
    _check_existing(name, existing)
    return validate(name, {k: v for k, v in args.items() if k not in EXISTING_FIELDS}, clouds=("azure",)), existing


def _check_existing(name: str, existing: dict[str, Any]) -> None:
    if existing and len(existing) != len(EXISTING_FIELDS):
        missing = [key for key in EXISTING_FIELDS if key not in existing]
        raise SpecError([f"queues.{name}.{missing[0]}: required with {', '.join(sorted(existing))} (an existing set is all of {', '.join(EXISTING_FIELDS)}, or none)"])
    for key, value in existing.items():
        # An Output is taken as given: its value may be known only at deploy time.
        if not isinstance(value, (str, pulumi.Output)) or value == "":
            raise SpecError([f"queues.{name}.{key}: {value!r} is not the name of an existing Azure resource (a string or an Output)"])


def _split_principal(text: str) -> tuple[str, str]:
    kind, _, object_id = text.rpartition(":")
    return kind or "ServicePrincipal", object_id


def _typed_principal(producer: pulumi.Input[str]) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
    """(principal type, object id) of a producer: `User:<id>`, `Group:<id>`, or a bare id for a service principal."""
    if isinstance(producer, str):
        return _split_principal(producer)
    parts = pulumi.Output.from_input(producer).apply(_split_principal)
    return parts[0], parts[1]


def _scm_host(app: azure.web.WebApp) -> pulumi.Output[str]:
    """The app's SCM (Kudu) host, where OneDeploy listens: the `Repository` host name."""

    def pick(states: Optional[list]) -> str:
        for state in states or []:
            if state.host_type == "Repository":
                return state.name
        raise ValueError("the Function App reports no SCM (Repository) host name")

    return app.host_name_ssl_states.apply(pick)
