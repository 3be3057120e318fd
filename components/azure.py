"""AzureQueue: a Service Bus queue with its dead-letter sub-queue and a Flex Consumption consumer.

The resource group, the Service Bus namespace and the storage account for function packages
are shared by every queue of a stack (`AzureShared`): a Standard namespace carries a base
monthly charge, and experts run many queues in one. Each queue still gets its own Function
App and managed identity, so every role assignment is scoped to that one queue.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Optional, Required, TypedDict

import pulumi
import pulumi_azure_native as azure

from . import artifact, program
from .azure_publish import FunctionAppPackage
from .spec import (
    AZURE_FUNCTIONS_REQUIREMENT,
    CloudQueueArgs,
    QueueSpec,
    SpecError,
    azure_instance_memory_mb,
    azure_lock_seconds,
    azure_scale,
    clock_duration,
    iso8601_duration,
    validate,
)

# Built-in role definitions (Azure RBAC "built-in roles"), granted at the narrowest scope.
SERVICE_BUS_DATA_RECEIVER = "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"
SERVICE_BUS_DATA_SENDER = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"
# The Functions host keeps its locks and keys in blobs, and Flex reads the package from the
# deployment container: Blob Data Owner on the account is what the host's identity-based
# AzureWebJobsStorage needs with a Service Bus trigger (no queue or table trigger is used).
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
# Despite "Metrics" in its name, the role Application Insights requires for Entra ID
# (identity-based) ingestion of all telemetry.
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
# The Functions host sends telemetry signed in as the app's system identity; with local auth off
# on the component, the connection string's instrumentation key alone can ingest nothing.
INSIGHTS_AUTHENTICATION = "Authorization=AAD"
# Workspace retention: a month covers an incident review, like the other clouds' logs.
LOG_RETENTION_DAYS = 30

# The trigger's connection name; the host reads `<name>__fullyQualifiedNamespace` and signs in
# with the app's managed identity, so no connection string or SAS key exists anywhere.
CONNECTION = "ServiceBusConnection"
QUEUE_NAME_SETTING = "CLOUDQUEUE_QUEUE_NAME"
FUNCTIONS_EXTENSION_BUNDLE = "[4.*, 5.0.0)"
# Function Apps sharing a storage account must not share a host id; App Service derives it
# from the first 32 characters of the app name, so cloudqueue sets a unique one.
HOST_ID_SETTING = "AzureFunctionsWebHost__hostid"


class AzureSharedArgs(TypedDict, total=False):
    """Args of AzureShared: what every queue of a stack shares on Azure."""

    tags: dict[str, str]
    """Tags put on the resource group, namespace and storage account."""


class AzureQueueArgs(CloudQueueArgs, total=False):
    """Args of AzureQueue: the cloudqueue spec without `clouds`, plus optional existing shared resources."""

    resource_group_name: str
    """Existing resource group holding the namespace and storage account; give all three or none."""
    namespace_name: str
    """Existing Service Bus namespace (Standard or Premium, local auth disabled) to put the queue in."""
    storage_account_name: str
    """Existing storage account (identity access, no shared keys) for the Function App's host and package."""


EXISTING_FIELDS = ("resource_group_name", "namespace_name", "storage_account_name")


class _Lookups:
    """Subscription facts read once per program and provider, never once per queue."""

    def __init__(self, provider: Optional[pulumi.ProviderResource]):
        client = azure.authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(provider=provider))
        self.subscription_id = client.subscription_id


def _program_lookups(provider: Optional[pulumi.ProviderResource]) -> _Lookups:
    return program.once(("azure-lookups", program.provider_key(provider)), lambda: _Lookups(provider))


def _role_definition(lookups: _Lookups, role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("/subscriptions/", lookups.subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role)


@dataclass(frozen=True)
class Foundation:
    """Where a queue lives on Azure: created by AzureShared, or named by the caller."""

    resource_group_name: pulumi.Output[str]
    namespace_name: pulumi.Output[str]
    namespace_host: pulumi.Output[str]
    storage_account_name: pulumi.Output[str]
    storage_account_id: pulumi.Output[str]
    blob_endpoint: pulumi.Output[str]

    @staticmethod
    def existing(resource_group_name: Any, namespace_name: Any, storage_account_name: Any, lookups: _Lookups) -> "Foundation":
        # Public-cloud DNS suffixes; sovereign clouds use others.
        rg, namespace, account = (pulumi.Output.from_input(v) for v in (resource_group_name, namespace_name, storage_account_name))
        return Foundation(
            resource_group_name=rg,
            namespace_name=namespace,
            namespace_host=pulumi.Output.concat(namespace, ".servicebus.windows.net"),
            storage_account_name=account,
            storage_account_id=pulumi.Output.concat(
                "/subscriptions/", lookups.subscription_id, "/resourceGroups/", rg, "/providers/Microsoft.Storage/storageAccounts/", account
            ),
            blob_endpoint=pulumi.Output.concat("https://", account, ".blob.core.windows.net/"),
        )


class AzureShared(pulumi.ComponentResource):
    """The resource group, Service Bus namespace and package storage that a stack's queues share."""

    resource_group_name: pulumi.Output[str]
    """Name of the resource group."""
    namespace_name: pulumi.Output[str]
    """Name of the Service Bus namespace."""
    storage_account_name: pulumi.Output[str]
    """Name of the storage account for function packages and host state."""

    def __init__(self, name: str, args: Optional[AzureSharedArgs] = None, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("cloudqueue:index:AzureShared", name, {}, opts)
        tags = {**(args or {}).get("tags", {}), "cloudqueue:shared": "true"}
        # The group and namespace hold the queues (data): they inherit `protect`. Storage holds
        # only code packages and host locks, which a redeploy recreates.
        data = pulumi.ResourceOptions(parent=self)
        stateless = pulumi.ResourceOptions(parent=self, protect=False)
        lookups = _program_lookups(self.get_provider("azure-native::"))

        group = azure.resources.ResourceGroup(f"{name}-group", tags=tags, opts=data)
        namespace = azure.servicebus.Namespace(
            f"{name}-namespace",
            resource_group_name=group.name,
            # Standard: queues with sessions and dead-lettering; Basic lacks sessions.
            sku={"name": "Standard", "tier": "Standard"},
            disable_local_auth=True,  # Entra ID only: no SAS keys (CKV_AZURE_203)
            minimum_tls_version="1.2",  # CKV_AZURE_205
            tags=tags,
            opts=data,
        )
        # Storage account names are global, 3..24 lowercase letters and digits; derived from the
        # subscription, project and stack so each stack gets its own, stable across runs.
        account_name = lookups.subscription_id.apply(
            lambda subscription: "cq" + hashlib.sha256(f"{subscription}/{pulumi.get_project()}/{pulumi.get_stack()}".encode()).hexdigest()[:22]
        )
        storage = azure.storage.StorageAccount(
            f"{name}-storage",
            account_name=account_name,
            resource_group_name=group.name,
            kind="StorageV2",
            sku={"name": "Standard_LRS"},
            allow_blob_public_access=False,
            allow_shared_key_access=False,  # the host and deployment use the app's identity
            default_to_o_auth_authentication=True,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            # The Flex host reaches its storage over the public endpoint, signed in with its
            # identity (README, "Security scan": CKV_AZURE_35); Azure services may bypass.
            network_rule_set={"default_action": "Allow", "bypass": "AzureServices"},
            tags=tags,
            opts=stateless,
        )

        self.foundation = Foundation(
            resource_group_name=group.name,
            namespace_name=namespace.name,
            # serviceBusEndpoint is https://<namespace>.servicebus.windows.net:443/
            namespace_host=namespace.service_bus_endpoint.apply(lambda url: url.split("://", 1)[-1].split(":", 1)[0].rstrip("/")),
            storage_account_name=storage.name,
            storage_account_id=storage.id,
            blob_endpoint=storage.primary_endpoints.blob,
        )
        self.resource_group_name = group.name
        self.namespace_name = namespace.name
        self.storage_account_name = storage.name
        self.register_outputs(
            {"resource_group_name": self.resource_group_name, "namespace_name": self.namespace_name, "storage_account_name": self.storage_account_name}
        )

    @staticmethod
    def for_program(provider: Optional[pulumi.ProviderResource] = None, protect: bool = False) -> "AzureShared":
        """The stack's shared pieces, created on first use (top level, so its URN never depends on which queue came first)."""
        opts = pulumi.ResourceOptions(provider=provider, protect=protect)
        return program.once(("azure-shared", program.provider_key(provider)), lambda: AzureShared("cloudqueue-azure", {}, opts))


class AzureMonitoringArgs(TypedDict, total=False):
    """Args of AzureMonitoring."""

    resource_group_name: Required[pulumi.Input[str]]
    """Resource group to put the workspace and Application Insights in."""
    tags: dict[str, str]
    """Tags put on both."""


class AzureMonitoring(pulumi.ComponentResource):
    """A Log Analytics workspace and an Application Insights component that accept Entra ID ingestion only."""

    insights_id: pulumi.Output[str]
    """Resource id of the Application Insights component (the scope of the publisher role)."""
    connection_string: pulumi.Output[str]
    """Where the Functions host sends telemetry; not a credential once local auth is off."""

    def __init__(self, name: str, args: AzureMonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("cloudqueue:index:AzureMonitoring", name, {}, opts)
        # Telemetry is not queue data and is recreated with the stack: never protected.
        child = pulumi.ResourceOptions(parent=self, protect=False)
        tags = {**args.get("tags", {}), "cloudqueue:shared": "true"}
        workspace = azure.operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=args["resource_group_name"],
            sku={"name": "PerGB2018"},
            retention_in_days=LOG_RETENTION_DAYS,
            features={"disable_local_auth": True, "enable_log_access_using_only_resource_permissions": True},
            tags=tags,
            opts=child,
        )
        insights = azure.applicationinsights.Component(
            f"{name}-insights",
            resource_group_name=args["resource_group_name"],
            kind="web",
            application_type="web",
            workspace_resource_id=workspace.id,
            ingestion_mode="LogAnalytics",
            disable_local_auth=True,  # identity-based ingestion only: no key can write telemetry
            tags=tags,
            opts=child,
        )
        self.insights_id = insights.id
        self.connection_string = insights.connection_string
        self.register_outputs({"insights_id": self.insights_id, "connection_string": self.connection_string})

    @staticmethod
    def for_program(resource_group_name: pulumi.Input[str], provider: Optional[pulumi.ProviderResource] = None) -> "AzureMonitoring":
        """The stack's telemetry, created once, in the resource group of the first traced queue (the shared one by default)."""
        opts = pulumi.ResourceOptions(provider=provider)
        return program.once(
            ("azure-monitoring", program.provider_key(provider)),
            lambda: AzureMonitoring("cloudqueue-azure-monitoring", {"resource_group_name": resource_group_name}, opts),
        )


def host_json(spec: QueueSpec) -> str:
    """host.json: one message per call, concurrency from max_concurrency, lock renewal ≥ the timeout."""
    _, calls_per_instance = azure_scale(spec.consumer.max_concurrency)
    timeout = clock_duration(spec.consumer.timeout_seconds)
    service_bus: dict[str, Any] = {
        "autoCompleteMessages": True,
        # Renew the (≤ 5 minute) lock for as long as the function may run.
        "maxAutoLockRenewalDuration": timeout,
        # No prefetch: prefetched messages wait with their lock running and no renewal.
        "prefetchCount": 0,
    }
    # Sessions deliver one session (FIFO group) per call site; each session runs in order.
    service_bus["maxConcurrentSessions" if spec.fifo else "maxConcurrentCalls"] = calls_per_instance
    document = {
        "version": "2.0",
        "functionTimeout": timeout,
        "extensionBundle": {"id": "Microsoft.Azure.Functions.ExtensionBundle", "version": FUNCTIONS_EXTENSION_BUNDLE},
        "extensions": {"serviceBus": service_bus},
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def function_app_py(spec: QueueSpec) -> str:
    """The v2-programming-model entry point: a Service Bus queue trigger that calls the adapter."""
    return f'''"""Generated by cloudqueue for queue {spec.name!r}; regenerated on every deploy, do not edit."""

import azure.functions as func

from cloudqueue_runtime.azure import process

app = func.FunctionApp()


# One message per call: a failure abandons only its own message (see cloudqueue_runtime.azure).
@app.service_bus_queue_trigger(
    arg_name="message",
    queue_name="%{QUEUE_NAME_SETTING}%",
    connection="{CONNECTION}",
    is_sessions_enabled={spec.fifo!r},
    cardinality="one",
)
def consume(message: func.ServiceBusMessage) -> None:
    process(message)
'''


def generated_files(spec: QueueSpec) -> dict[str, str]:
    """The files cloudqueue adds to the Azure package next to the user's code."""
    # The remote build installs these (the v2 model imports azure.functions) on the plan itself.
    requirements = artifact.merged_requirements(spec.consumer.code_path, "azure-functions", AZURE_FUNCTIONS_REQUIREMENT)
    return {"function_app.py": function_app_py(spec), "host.json": host_json(spec), "requirements.txt": requirements}


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

    def __init__(self, name: str, args: AzureQueueArgs, opts: Optional[pulumi.ResourceOptions] = None):
        existing: dict[str, Any] = {}
        if isinstance(args, QueueSpec):
            spec = args  # from Queue, already validated against every targeted cloud
        else:
            existing = {key: args[key] for key in EXISTING_FIELDS if isinstance(args, dict) and key in args}
            _check_existing(name, existing)
            spec = validate(name, {k: v for k, v in args.items() if k not in EXISTING_FIELDS}, clouds=("azure",))
        super().__init__("cloudqueue:index:AzureQueue", name, {}, opts)

        provider = self.get_provider("azure-native::")
        lookups = _program_lookups(provider)
        foundation = (
            Foundation.existing(existing["resource_group_name"], existing["namespace_name"], existing["storage_account_name"], lookups)
            if existing
            else AzureShared.for_program(provider, protect=bool(self._protect)).foundation
        )
        # The queue holds data: it inherits `protect`. Everything else is recreated from code.
        data = pulumi.ResourceOptions(parent=self)
        stateless = pulumi.ResourceOptions(parent=self, protect=False)
        tags = {**spec.tags, "cloudqueue:queue": spec.name}
        rg = foundation.resource_group_name

        queue = azure.servicebus.Queue(
            f"{name}-queue",
            resource_group_name=rg,
            namespace_name=foundation.namespace_name,
            max_delivery_count=spec.max_delivery_attempts,
            lock_duration=iso8601_duration(azure_lock_seconds(spec)),
            default_message_time_to_live=iso8601_duration(spec.message_retention_seconds),
            # Without it an expired message is dropped, not dead-lettered.
            dead_lettering_on_message_expiration=True,
            requires_session=spec.fifo,
            opts=data,
        )

        package = artifact.build(spec.consumer.code_path, generated=generated_files(spec))
        container = azure.storage.BlobContainer(
            f"{name}-packages",
            account_name=foundation.storage_account_name,
            resource_group_name=rg,
            public_access="None",
            opts=stateless,
        )
        # Flex Consumption hosts one app per plan.
        plan = azure.web.AppServicePlan(
            f"{name}-plan",
            resource_group_name=rg,
            kind="functionapp",
            reserved=True,  # Linux
            sku={"name": "FC1", "tier": "FlexConsumption"},
            tags=tags,
            opts=stateless,
        )
        instances, _ = azure_scale(spec.consumer.max_concurrency)
        host_id = "cq-" + hashlib.sha256(f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}".encode()).hexdigest()[:29]
        settings = {
            **spec.function_environment(),
            QUEUE_NAME_SETTING: queue.name,
            f"{CONNECTION}__fullyQualifiedNamespace": foundation.namespace_host,
            "AzureWebJobsStorage__accountName": foundation.storage_account_name,
            HOST_ID_SETTING: host_id,
        }
        monitoring = AzureMonitoring.for_program(rg, provider) if spec.consumer.tracing else None
        if monitoring:
            settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] = monitoring.connection_string
            settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = INSIGHTS_AUTHENTICATION
        network = spec.consumer.network.get("azure")
        app = azure.web.WebApp(
            f"{name}-consumer",
            resource_group_name=rg,
            server_farm_id=plan.id,
            kind="functionapp,linux",
            https_only=True,  # CKV_AZURE_70
            identity={"type": "SystemAssigned"},
            # No inbound network access (CKV_AZURE_222): the app serves no HTTP trigger. The
            # publish step opens SCM for the upload only (components/azure_publish.py); even then
            # the main site requires a client certificate (CKV_AZURE_17) and denies every address.
            public_network_access="Disabled",
            client_cert_enabled=True,
            client_cert_mode="Required",
            virtual_network_subnet_id=network["subnet_id"] if network else None,
            site_config={
                "app_settings": [{"name": key, "value": value} for key, value in settings.items()],
                "min_tls_version": "1.2",
                "scm_min_tls_version": "1.2",
                "ftps_state": "Disabled",
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
            tags=tags,
            opts=stateless,
        )
        # Deployments sign in with Entra ID; basic-auth publishing credentials stay off.
        for method, resource in (("ftp", azure.web.WebAppFtpAllowed), ("scm", azure.web.WebAppScmAllowed)):
            resource(f"{name}-{method}-basic-auth", name=app.name, resource_group_name=rg, allow=False, opts=stateless)

        principal = app.identity.apply(lambda identity: identity.principal_id)
        receiver = self._grant(f"{name}-receiver", lookups, SERVICE_BUS_DATA_RECEIVER, queue.id, principal, "ServicePrincipal", stateless)
        storage_owner = self._grant(f"{name}-storage-owner", lookups, STORAGE_BLOB_DATA_OWNER, foundation.storage_account_id, principal, "ServicePrincipal", stateless)
        if monitoring:
            self._grant(f"{name}-telemetry", lookups, MONITORING_METRICS_PUBLISHER, monitoring.insights_id, principal, "ServicePrincipal", stateless)
        for index, producer in enumerate(spec.producers.get("azure", ())):
            principal_type, producer_id = _typed_principal(producer)
            self._grant(f"{name}-sender-{index}", lookups, SERVICE_BUS_DATA_SENDER, queue.id, producer_id, principal_type, stateless)

        # Publish once the app can read its deployment container and receive from the queue.
        FunctionAppPackage(
            f"{name}-package",
            scm_url=pulumi.Output.concat("https://", _scm_host(app)),
            package_path=str(package.path),
            package_sha256=package.sha256_hex,
            site_id=app.id,
            opts=pulumi.ResourceOptions.merge(stateless, pulumi.ResourceOptions(depends_on=[receiver, storage_owner])),
        )

        self.namespace_name = foundation.namespace_name
        self.queue_name = queue.name
        self.dead_letter_path = pulumi.Output.concat(queue.name, "/$DeadLetterQueue")
        self.function_app_name = app.name
        self.register_outputs(
            {
                "namespace_name": self.namespace_name,
                "queue_name": self.queue_name,
                "dead_letter_path": self.dead_letter_path,
                "function_app_name": self.function_app_name,
            }
        )

    @staticmethod
    def _grant(
        name: str,
        lookups: _Lookups,
        role: str,
        scope: pulumi.Input[str],
        principal: pulumi.Input[str],
        principal_type: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> azure.authorization.RoleAssignment:
        return azure.authorization.RoleAssignment(
            name,
            role_definition_id=_role_definition(lookups, role),
            scope=scope,
            principal_id=principal,
            # Always set: the SDK would default to User, and a just-created managed identity is
            # only accepted before replication when its type is given.
            principal_type=principal_type,
            opts=opts,
        )


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


def _check_existing(name: str, existing: dict[str, Any]) -> None:
    if existing and len(existing) != len(EXISTING_FIELDS):
        missing = [key for key in EXISTING_FIELDS if key not in existing]
        raise SpecError([f"queues.{name}.{missing[0]}: required with {', '.join(sorted(existing))} (an existing set is all of {', '.join(EXISTING_FIELDS)}, or none)"])
    for key, value in existing.items():
        if not isinstance(value, (str, pulumi.Output)) or value == "":
            raise SpecError([f"queues.{name}.{key}: {value!r} is not the name of an existing Azure resource (a string or an Output)"])
