"""The azure-native provider's answers: resource groups, Service Bus, storage, Flex Consumption apps, roles, monitoring, alerts.

`_check_flex_site` refuses a Function App configuration that Azure refuses for Flex Consumption.
"""

from __future__ import annotations

import re
import uuid
from typing import Callable

from pulumi.runtime.mocks import MockResourceArgs

from .accounts import AZURE_LOCATION, SUBSCRIPTION, TENANT, _hex


def _guid(seed: str) -> str:
    return str(uuid.UUID(_hex(seed, 32)))


def _azure_name(args: MockResourceArgs, key: str, top_level: bool, max_len: int, pattern: str) -> str:
    """azure-native autonaming: top-level resources get 8 random hex characters, children none."""
    given = args.inputs.get(key)
    name = given if given else args.name + (_hex(args.typ + args.name, 8) if top_level else "")
    if len(name) > max_len or not re.match(pattern, name):
        raise ValueError(f"{args.typ} name {name!r} is invalid: at most {max_len} characters matching {pattern}")
    return name


def _group_id(resource_group: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{resource_group}"


def _resource_group(args: MockResourceArgs) -> tuple[str, dict]:
    name = _azure_name(args, "resourceGroupName", True, 90, r"^[-\w._()]+$")
    location = args.inputs.get("location", AZURE_LOCATION)
    return _group_id(name), {"name": name, "location": location, "type": "Microsoft.Resources/resourceGroups", "provisioningState": "Succeeded", "azureApiVersion": "2024-03-01"}


def _service_bus_namespace(args: MockResourceArgs) -> tuple[str, dict]:
    name = _azure_name(args, "namespaceName", True, 50, r"^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$")
    resource_id = f"{_group_id(args.inputs['resourceGroupName'])}/providers/Microsoft.ServiceBus/namespaces/{name}"
    return resource_id, {
        "name": name,
        "location": args.inputs.get("location", AZURE_LOCATION),
        "serviceBusEndpoint": f"https://{name}.servicebus.windows.net:443/",
        "metricId": f"{SUBSCRIPTION}:{name}",
        "status": "Active",
        "provisioningState": "Succeeded",
        "type": "Microsoft.ServiceBus/Namespaces",
        "createdAt": "2026-11-28T00:00:00Z",
    }


def _service_bus_queue(args: MockResourceArgs) -> tuple[str, dict]:
    name = _azure_name(args, "queueName", False, 260, r"^[A-Za-z0-9][\w.-]*$")
    namespace_id = f"{_group_id(args.inputs['resourceGroupName'])}/providers/Microsoft.ServiceBus/namespaces/{args.inputs['namespaceName']}"
    # Service Bus's own defaults for what the program leaves unset.
    defaults = {"lockDuration": "PT1M", "maxDeliveryCount": 10, "defaultMessageTimeToLive": "P10675199DT2H48M5.4775807S", "requiresSession": False, "deadLetteringOnMessageExpiration": False, "maxSizeInMegabytes": 1024}
    lock = args.inputs.get("lockDuration", "PT1M")
    if not re.match(r"^PT([1-4]M)?([0-9]+S)?$|^PT5M$", lock) or lock in ("PT", "PT0S", "PT1S", "PT2S", "PT3S", "PT4S"):
        raise ValueError(f"Service Bus: lockDuration {lock!r} is outside 5 seconds..5 minutes")
    return f"{namespace_id}/queues/{name}", {
        **{k: v for k, v in defaults.items() if k not in args.inputs},
        "name": name,
        "status": "Active",
        "sizeInBytes": 0,
        "messageCount": 0,
        "type": "Microsoft.ServiceBus/Namespaces/Queues",
    }


def _storage_account(args: MockResourceArgs) -> tuple[str, dict]:
    name = _azure_name(args, "accountName", True, 24, r"^[a-z0-9]{3,24}$")
    endpoints = {kind: f"https://{name}.{kind}.core.windows.net/" for kind in ("blob", "queue", "table", "file", "dfs", "web")}
    return f"{_group_id(args.inputs['resourceGroupName'])}/providers/Microsoft.Storage/storageAccounts/{name}", {
        "name": name,
        "primaryEndpoints": endpoints,
        "primaryLocation": AZURE_LOCATION,
        "provisioningState": "Succeeded",
        "statusOfPrimary": "available",
        "type": "Microsoft.Storage/storageAccounts",
    }


def _blob_container(args: MockResourceArgs) -> tuple[str, dict]:
    name = _azure_name(args, "containerName", False, 63, r"^[a-z0-9](-?[a-z0-9])+$")
    account_id = f"{_group_id(args.inputs['resourceGroupName'])}/providers/Microsoft.Storage/storageAccounts/{args.inputs['accountName']}"
    return f"{account_id}/blobServices/default/containers/{name}", {"name": name, "publicAccess": args.inputs.get("publicAccess", "None"), "hasImmutabilityPolicy": False, "hasLegalHold": False, "type": "Microsoft.Storage/storageAccounts/blobServices/containers"}


def _app_service_plan(args: MockResourceArgs) -> tuple[str, dict]:
    name = _azure_name(args, "name", True, 60, r"^[A-Za-z0-9-]+$")
    return f"{_group_id(args.inputs['resourceGroupName'])}/providers/Microsoft.Web/serverfarms/{name}", {
        "name": name,
        "location": AZURE_LOCATION,
        "status": "Ready",
        "numberOfSites": 0,
        "provisioningState": "Succeeded",
        "type": "Microsoft.Web/serverfarms",
    }


# siteConfig properties ARM names in error 51021 for Flex Consumption sites (functionAppConfig
# set): microsoft/azure-pipelines-tasks#21032, Azure/terraform-azurerm-avm-res-web-site#283 and
# #360, Azure/azure-functions-host#10643.
FLEX_REJECTED_SITE_CONFIG = (
    "ftpsState", "use32BitWorkerProcess", "preWarmedInstanceCount", "netFrameworkVersion",
    "functionsRuntimeScaleMonitoringEnabled", "linuxFxVersion", "functionAppScaleLimit",
)


def _check_flex_site(inputs: dict) -> None:
    """What ARM refuses in a Flex Consumption site body, with its own wording."""
    rejected = [key for key in FLEX_REJECTED_SITE_CONFIG if key in (inputs.get("siteConfig") or {})]
    if rejected:
        names = ", ".join(f"Site.SiteConfig.{key[0].upper()}{key[1:]}" for key in rejected)
        raise ValueError(f"BadRequest (51021): The following site configuration properties ({names}) for Flex Consumption sites is invalid.")
    scale = inputs["functionAppConfig"].get("scaleAndConcurrency") or {}
    count = scale.get("maximumInstanceCount")
    if count is not None and not 1 <= count <= 1000:  # polymind-inc/acmebot#946 quotes ARM's range
        raise ValueError(f"BadRequest: InvalidMaximumInstanceCount - maximumInstanceCount ({count}) is not allowed, the allowed value range is [1, 1000].")
    if scale.get("instanceMemoryMB") not in (None, 512, 2048, 4096):
        raise ValueError(f"BadRequest: instanceMemoryMB {scale['instanceMemoryMB']} is not a Flex Consumption instance size (512, 2048, 4096)")


def _web_app(args: MockResourceArgs) -> tuple[str, dict]:
    name = _azure_name(args, "name", True, 60, r"^[A-Za-z0-9](-?[A-Za-z0-9])*$")
    if args.inputs.get("functionAppConfig") is not None:
        _check_flex_site(args.inputs)
    host = f"{name}.azurewebsites.net"
    identity = dict(args.inputs.get("identity") or {})
    if "SystemAssigned" in identity.get("type", ""):
        identity.update(principalId=_guid("principal" + name), tenantId=TENANT)
    return f"{_group_id(args.inputs['resourceGroupName'])}/providers/Microsoft.Web/sites/{name}", {
        "name": name,
        "defaultHostName": host,
        "enabledHostNames": [host, f"{name}.scm.azurewebsites.net"],
        "hostNameSslStates": [
            {"name": host, "hostType": "Standard", "sslState": "Disabled"},
            {"name": f"{name}.scm.azurewebsites.net", "hostType": "Repository", "sslState": "Disabled"},
        ],
        "identity": identity,
        "state": "Running",
        "usageState": "Normal",
        "outboundIpAddresses": "20.50.2.1,20.50.2.2",
        "type": "Microsoft.Web/sites",
    }


def _publishing_policy(args: MockResourceArgs) -> tuple[str, dict]:
    method = "ftp" if args.typ.endswith("FtpAllowed") else "scm"
    return f"{_group_id(args.inputs['resourceGroupName'])}/providers/Microsoft.Web/sites/{args.inputs['name']}/basicPublishingCredentialsPolicies/{method}", {"type": "Microsoft.Web/sites/basicPublishingCredentialsPolicies"}


def _role_assignment(args: MockResourceArgs) -> tuple[str, dict]:
    name = args.inputs.get("roleAssignmentName") or _guid(args.name)
    return f"{args.inputs['scope']}/providers/Microsoft.Authorization/roleAssignments/{name}", {
        "name": name,
        "createdOn": "2026-11-28T00:00:00Z",
        "type": "Microsoft.Authorization/roleAssignments",
    }


def _log_analytics_workspace(args: MockResourceArgs) -> tuple[str, dict]:
    name = _azure_name(args, "workspaceName", True, 63, r"^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$")
    return f"{_group_id(args.inputs['resourceGroupName'])}/providers/Microsoft.OperationalInsights/workspaces/{name}", {
        "name": name,
        "customerId": _guid("workspace" + name),
        "provisioningState": "Succeeded",
        "type": "Microsoft.OperationalInsights/workspaces",
    }


def _insights_component(args: MockResourceArgs) -> tuple[str, dict]:
    name = _azure_name(args, "resourceName", True, 255, r"^[^%&\\?/]+$")
    key = _guid("ikey" + name)
    return f"{_group_id(args.inputs['resourceGroupName'])}/providers/Microsoft.Insights/components/{name}", {
        "name": name,
        "appId": _guid("app" + name),
        "applicationId": name,
        "instrumentationKey": key,
        "connectionString": (
            f"InstrumentationKey={key};IngestionEndpoint=https://{AZURE_LOCATION}-5.in.applicationinsights.azure.com/;"
            f"LiveEndpoint=https://{AZURE_LOCATION}.livediagnostics.monitor.azure.com/;ApplicationId={_guid('app' + name)}"
        ),
        "provisioningState": "Succeeded",
        "type": "microsoft.insights/components",
    }


# ARM returns alerting resource ids under the lowercase `microsoft.insights` provider namespace
# (the Action Groups and Metric Alerts REST reference examples).
def _insights_id(args: MockResourceArgs, kind: str, name: str) -> str:
    return f"{_group_id(args.inputs['resourceGroupName'])}/providers/microsoft.insights/{kind}/{name}"


def _action_group(args: MockResourceArgs) -> tuple[str, dict]:
    name = _azure_name(args, "actionGroupName", True, 260, r"^[^%&\\?/#<>*]+$")
    short = args.inputs.get("groupShortName", "")
    if not 1 <= len(short) <= 12:
        raise ValueError(f"ActionGroup: groupShortName {short!r} must be 1..12 characters")
    receivers = args.inputs.get("emailReceivers") or []
    if len({r["name"] for r in receivers}) != len(receivers):
        raise ValueError("ActionGroup: receiver names must be unique within the action group")
    return _insights_id(args, "actionGroups", name), {
        "name": name,
        "location": args.inputs.get("location", "Global"),
        "emailReceivers": [{**r, "status": "Enabled"} for r in receivers],
        "type": "Microsoft.Insights/ActionGroups",
    }


# Metric alert windows and frequencies ARM accepts (Metric Alerts - Create Or Update).
_ALERT_FREQUENCIES = ("PT1M", "PT5M", "PT15M", "PT30M", "PT1H")
_ALERT_WINDOWS = ("PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT6H", "PT12H", "P1D")


def _metric_alert(args: MockResourceArgs) -> tuple[str, dict]:
    name = _azure_name(args, "ruleName", True, 260, r"^[^%&\\?/#<>*]+$")
    inputs = args.inputs
    if inputs.get("severity") not in (0, 1, 2, 3, 4):
        raise ValueError(f"MetricAlert: severity {inputs.get('severity')!r} is not 0..4")
    frequency, window = inputs.get("evaluationFrequency"), inputs.get("windowSize")
    if frequency not in _ALERT_FREQUENCIES or window not in _ALERT_WINDOWS or _ALERT_WINDOWS.index(window) < _ALERT_FREQUENCIES.index(frequency):
        raise ValueError(f"MetricAlert: evaluationFrequency {frequency!r} and windowSize {window!r} are not a valid pair")
    criteria = inputs.get("criteria") or {}
    if criteria.get("odataType") not in ("Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria", "Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria"):
        # What the provider would send for criteria given in Python's names (`odata_type`, `all_of`).
        raise ValueError(f"BadRequest: criteria has no known odata.type (its keys: {sorted(criteria)})")
    if criteria["odataType"] == "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria" and len(inputs.get("scopes") or []) != 1:
        # ARM's own wording (hashicorp/terraform-provider-azurerm#4337).
        raise ValueError("BadRequest: Scopes property is invalid. Only single resource is allowed for criteria type SingleResourceMultipleMetricCriteria.")
    for criterion in criteria.get("allOf") or []:
        if criterion.get("criterionType") != "StaticThresholdCriterion" or criterion.get("timeAggregation") not in ("Average", "Count", "Minimum", "Maximum", "Total"):
            raise ValueError(f"MetricAlert: criterion {criterion.get('name')!r} is not a static threshold with a known aggregation")
    return _insights_id(args, "metricAlerts", name), {
        "name": name,
        "location": inputs.get("location", "global"),
        "isMigrated": False,
        "lastUpdatedTime": "2026-11-28T00:00:00Z",
        "type": "Microsoft.Insights/metricAlerts",
    }


def _function_app_package(args: MockResourceArgs) -> tuple[str, dict]:
    return f"{args.inputs['scm_url']}#{args.inputs['package_sha256']}", {}


OUTPUTS: dict[str, Callable[[MockResourceArgs], tuple[str, dict]]] = {
    "azure-native:resources:ResourceGroup": _resource_group,
    "azure-native:servicebus:Namespace": _service_bus_namespace,
    "azure-native:servicebus:Queue": _service_bus_queue,
    "azure-native:storage:StorageAccount": _storage_account,
    "azure-native:storage:BlobContainer": _blob_container,
    "azure-native:web:AppServicePlan": _app_service_plan,
    "azure-native:web:WebApp": _web_app,
    "azure-native:web:WebAppFtpAllowed": _publishing_policy,
    "azure-native:web:WebAppScmAllowed": _publishing_policy,
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "azure-native:operationalinsights:Workspace": _log_analytics_workspace,
    "azure-native:applicationinsights:Component": _insights_component,
    "azure-native:monitor:ActionGroup": _action_group,
    "azure-native:monitor:MetricAlert": _metric_alert,
    "pulumi-python:dynamic/cloudqueue:FunctionAppPackage": _function_app_package,
}

INVOKE_RESULTS: dict[str, dict] = {
    "azure-native:authorization:getClientConfig": {"clientId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "objectId": "9d4c2f6e-1a3b-4c5d-8e7f-0a1b2c3d4e5f", "subscriptionId": SUBSCRIPTION, "tenantId": TENANT},
}
