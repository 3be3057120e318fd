"""AzureMonitoring: the Log Analytics workspace and Application Insights a stack's traced consumers send to.

Both accept Entra ID (identity-based) ingestion only; the role that allows it is granted per
queue, to each Function App's identity (`queue.py`).
"""

from typing import Optional, Required, TypedDict

import pulumi
import pulumi_azure_native as azure

from .. import program

# Despite "Metrics" in its name, the role Application Insights requires for Entra ID
# (identity-based) ingestion of all telemetry.
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
# The Functions host sends telemetry signed in as the app's system identity; with local auth off
# on the component, the connection string's instrumentation key alone can ingest nothing.
INSIGHTS_AUTHENTICATION = "Authorization=AAD"
# Workspace retention: a month covers an incident review, like the other clouds' logs.
LOG_RETENTION_DAYS = 30


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
