"""AzureShared: the resource group, Service Bus namespace and storage account a stack's queues share.

A Standard namespace carries a base monthly charge, and experts run many queues in one; each queue
still gets its own Function App and managed identity, so every role assignment is scoped to that
one queue. Also here: `Foundation`, where a queue lives (shared, or existing resources the caller
names), and the subscription lookups made once per program.
"""

import hashlib
from dataclasses import dataclass
from typing import Any, Optional, TypedDict

import pulumi
import pulumi_azure_native as azure

from .. import program


class AzureSharedArgs(TypedDict, total=False):
    """Args of AzureShared: what every queue of a stack shares on Azure."""

    tags: dict[str, str]
    """Tags put on the resource group, namespace and storage account."""


class Lookups:
    """Subscription facts read once per program and provider, never once per queue."""

    def __init__(self, provider: Optional[pulumi.ProviderResource]):
        client = azure.authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(provider=provider))
        self.subscription_id = client.subscription_id

    def role_definition(self, role: str) -> pulumi.Output[str]:
        """The resource id of a built-in role definition in this subscription."""
        return pulumi.Output.concat("/subscriptions/", self.subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role)


def program_lookups(provider: Optional[pulumi.ProviderResource]) -> Lookups:
    return program.once(("azure-lookups", program.provider_key(provider)), lambda: Lookups(provider))


@dataclass(frozen=True)
class Foundation:
    """Where a queue lives on Azure: created by AzureShared, or named by the caller."""

    resource_group_name: pulumi.Output[str]
    namespace_name: pulumi.Output[str]
    namespace_host: pulumi.Output[str]
    namespace_id: pulumi.Output[str]
    """Resource id of the namespace: the scope of the queues' dead-letter alerts."""
    storage_account_name: pulumi.Output[str]
    storage_account_id: pulumi.Output[str]
    blob_endpoint: pulumi.Output[str]

    @staticmethod
    def existing(resource_group_name: Any, namespace_name: Any, storage_account_name: Any, lookups: Lookups) -> "Foundation":
        # Public-cloud DNS suffixes; sovereign clouds use others.
        rg, namespace, account = (pulumi.Output.from_input(v) for v in (resource_group_name, namespace_name, storage_account_name))
        return Foundation(
            resource_group_name=rg,
            namespace_name=namespace,
            namespace_host=pulumi.Output.concat(namespace, ".servicebus.windows.net"),
            namespace_id=pulumi.Output.concat(
                "/subscriptions/", lookups.subscription_id, "/resourceGroups/", rg, "/providers/Microsoft.ServiceBus/namespaces/", namespace
            ),
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
        lookups = program_lookups(self.get_provider("azure-native::"))

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
            namespace_id=namespace.id,
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
