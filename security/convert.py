"""What the stacks register, rewritten as the files Checkov reads: a Terraform plan and an ARM template.

Checkov cannot read a Pulumi program, but it reads the two formats the providers come from:
- pulumi-aws and pulumi-gcp are bridged from the Terraform providers. A resource's inputs are its
  Terraform arguments in camelCase; a nested block of at most one item is an object and a block
  of many is a pluralised list. The plan (Terraform's JSON plan format, `planned_values` and
  `resource_changes`) gets snake_case names, every block as a list of objects, and the block
  names the bridge pluralised back in their Terraform spelling (`TERRAFORM_RENAMES`).
- pulumi-azure-native mirrors ARM: a resource's inputs are its ARM body with `properties`
  flattened, named by the REST spec's `x-ms-client-name` where it has one (a storage account's
  `networkRuleSet` is ARM's `networkAcls`). The template puts each input back where ARM has it,
  under ARM's name (`ArmType.renames`), and names each resource by its physical name (the one
  Azure gets, `parent/child` for child types), which Checkov's naming checks read.

A recorded resource is `{"type", "name", "inputs", "outputs"}`, as `security/scan.py` records it
from the mock engine (archives as `{"__archive__": path}`). Types without a conversion are
returned in `unknown`, so a new resource type cannot slip past the scan unseen.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

# Pulumi type token -> Terraform resource type, for every bridged type the components register.
TERRAFORM_TYPES = {
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:iam/policy:Policy": "aws_iam_policy",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:lambda/eventSourceMapping:EventSourceMapping": "aws_lambda_event_source_mapping",
    "aws:lambda/function:Function": "aws_lambda_function",
    "aws:lambda/layerVersion:LayerVersion": "aws_lambda_layer_version",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    "aws:sqs/queue:Queue": "aws_sqs_queue",
    "aws:sqs/queuePolicy:QueuePolicy": "aws_sqs_queue_policy",
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": "aws_sqs_queue_redrive_allow_policy",
    "aws:sqs/redrivePolicy:RedrivePolicy": "aws_sqs_queue_redrive_policy",
    "gcp:artifactregistry/repository:Repository": "google_artifact_registry_repository",
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": "google_artifact_registry_repository_iam_member",
    "gcp:cloudfunctionsv2/function:Function": "google_cloudfunctions2_function",
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": "google_cloud_run_v2_service_iam_member",
    "gcp:compute/subnetworkIAMMember:SubnetworkIAMMember": "google_compute_subnetwork_iam_member",
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": "google_kms_crypto_key_iam_member",
    "gcp:monitoring/alertPolicy:AlertPolicy": "google_monitoring_alert_policy",
    "gcp:monitoring/notificationChannel:NotificationChannel": "google_monitoring_notification_channel",
    "gcp:projects/iAMMember:IAMMember": "google_project_iam_member",
    "gcp:projects/serviceIdentity:ServiceIdentity": "google_project_service_identity",
    "gcp:pubsub/subscription:Subscription": "google_pubsub_subscription",
    "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember": "google_pubsub_subscription_iam_member",
    "gcp:pubsub/topic:Topic": "google_pubsub_topic",
    "gcp:pubsub/topicIAMMember:TopicIAMMember": "google_pubsub_topic_iam_member",
    "gcp:serviceaccount/account:Account": "google_service_account",
    "gcp:serviceaccount/iAMMember:IAMMember": "google_service_account_iam_member",
    "gcp:storage/bucket:Bucket": "google_storage_bucket",
    "gcp:storage/bucketIAMMember:BucketIAMMember": "google_storage_bucket_iam_member",
    "gcp:storage/bucketObject:BucketObject": "google_storage_bucket_object",
}

# Where the bridge renamed a Terraform argument beyond camelCase: blocks of many items get plural
# names (`lifecycle_rule` -> `lifecycleRules`), and a Lambda's `filename` is the `code` archive.
# Keyed by Terraform type, then by the dotted path of Pulumi names.
TERRAFORM_RENAMES = {
    "aws_cloudwatch_metric_alarm": {"metricQueries": "metric_query"},
    "aws_iam_role": {"inlinePolicies": "inline_policy"},
    "aws_lambda_event_source_mapping": {"filterCriteria.filters": "filter"},
    "aws_lambda_function": {"code": "filename"},
    "aws_lambda_layer_version": {"code": "filename"},
    "aws_sns_topic_subscription": {"topic": "topic_arn"},
    "google_cloudfunctions2_function": {"serviceConfig.directVpcNetworkInterfaces": "direct_vpc_network_interface"},
    "google_storage_bucket": {"lifecycleRules": "lifecycle_rule"},
}

# Arguments that are maps in the Terraform schemas (their keys are data, never renamed), not blocks.
TERRAFORM_MAPS = frozenset({
    "tags", "tagsAll", "labels", "effectiveLabels", "userLabels", "variables", "environmentVariables",
    "buildEnvironmentVariables", "attributes", "annotations", "dimensions",
})

# Not cloud resources: dynamic providers run in the program (the Azure publish step, IAM propagation waits).
NOT_SCANNED_PREFIXES = ("pulumi-python:dynamic/", "pulumi:providers:")

# ARM's top-level resource members; every other input goes under `properties`.
ARM_TOP_LEVEL = frozenset({"location", "tags", "sku", "kind", "identity", "zones", "extendedLocation", "plan"})


def _own_name(inputs: dict, outputs: dict) -> str:
    return outputs.get("name") or ""


@dataclass(frozen=True)
class ArmType:
    """How one azure-native type sits in an ARM template."""

    type: str
    """The ARM resource type."""
    path_inputs: tuple[str, ...]
    """Inputs that name the resource or its parents in the request URL: not part of the body."""
    name: Callable[[dict, dict], str] = _own_name
    """The physical name as a template writes it, from (inputs, outputs): `parent/child` for child types."""
    top_level: frozenset = ARM_TOP_LEVEL
    renames: dict = field(default_factory=dict)
    """Dotted azure-native input path -> ARM property name, where the REST spec's client name differs."""


# The storage account's renames are the x-ms-client-names of the Microsoft.Storage REST spec
# (`supportsHttpsTrafficOnly` is EnableHttpsTrafficOnly, `networkAcls` is NetworkRuleSet,
# `keyvaultproperties` and its members are KeyVaultProperties, KeyName, ...): ARM's own names are
# those of the template reference, learn.microsoft.com/azure/templates/microsoft.storage/storageaccounts.
# Application Insights components keep ARM's mixed-case names (`Application_Type`, `Flow_Type`,
# `WorkspaceResourceId`, ...; learn.microsoft.com/azure/templates/microsoft.insights/components).
ARM_TYPES = {
    "azure-native:resources:ResourceGroup": ArmType("Microsoft.Resources/resourceGroups", ("resourceGroupName",)),
    "azure-native:servicebus:Namespace": ArmType("Microsoft.ServiceBus/namespaces", ("resourceGroupName", "namespaceName")),
    "azure-native:servicebus:Queue": ArmType(
        "Microsoft.ServiceBus/namespaces/queues",
        ("resourceGroupName", "namespaceName", "queueName"),
        name=lambda inputs, outputs: f"{inputs['namespaceName']}/{outputs['name']}",
    ),
    "azure-native:storage:StorageAccount": ArmType(
        "Microsoft.Storage/storageAccounts",
        ("resourceGroupName", "accountName"),
        renames={
            "enableHttpsTrafficOnly": "supportsHttpsTrafficOnly",
            "networkRuleSet": "networkAcls",
            "encryption.keyVaultProperties": "keyvaultproperties",
            "encryption.keyVaultProperties.keyName": "keyname",
            "encryption.keyVaultProperties.keyVersion": "keyversion",
            "encryption.keyVaultProperties.keyVaultUri": "keyvaulturi",
        },
    ),
    "azure-native:storage:BlobContainer": ArmType(
        "Microsoft.Storage/storageAccounts/blobServices/containers",
        ("resourceGroupName", "accountName", "containerName"),
        name=lambda inputs, outputs: f"{inputs['accountName']}/default/{outputs['name']}",
    ),
    "azure-native:web:AppServicePlan": ArmType("Microsoft.Web/serverfarms", ("resourceGroupName", "name")),
    "azure-native:web:WebApp": ArmType("Microsoft.Web/sites", ("resourceGroupName", "name")),
    # The site's basic-auth switches are children named `ftp` and `scm`; `name` is the site's.
    "azure-native:web:WebAppFtpAllowed": ArmType(
        "Microsoft.Web/sites/basicPublishingCredentialsPolicies", ("resourceGroupName", "name"),
        name=lambda inputs, outputs: f"{inputs['name']}/ftp",
    ),
    "azure-native:web:WebAppScmAllowed": ArmType(
        "Microsoft.Web/sites/basicPublishingCredentialsPolicies", ("resourceGroupName", "name"),
        name=lambda inputs, outputs: f"{inputs['name']}/scm",
    ),
    # A workspace's `sku` is a property, not a top-level member (template reference, microsoft.operationalinsights/workspaces).
    "azure-native:operationalinsights:Workspace": ArmType(
        "Microsoft.OperationalInsights/workspaces", ("resourceGroupName", "workspaceName"), top_level=ARM_TOP_LEVEL - {"sku"}
    ),
    "azure-native:applicationinsights:Component": ArmType(
        "Microsoft.Insights/components",
        ("resourceGroupName", "resourceName"),
        renames={
            "applicationType": "Application_Type",
            "flowType": "Flow_Type",
            "requestSource": "Request_Source",
            "workspaceResourceId": "WorkspaceResourceId",
            "ingestionMode": "IngestionMode",
            "disableLocalAuth": "DisableLocalAuth",
            "disableIpMasking": "DisableIpMasking",
            "retentionInDays": "RetentionInDays",
            "samplingPercentage": "SamplingPercentage",
            "immediatePurgeDataOn30Days": "ImmediatePurgeDataOn30Days",
            "forceCustomerStorageForProfiler": "ForceCustomerStorageForProfiler",
            "hockeyAppId": "HockeyAppId",
        },
    ),
    # The criteria's discriminator is ARM's `odata.type` (template reference, microsoft.insights/metricalerts).
    "azure-native:monitor:MetricAlert": ArmType(
        "Microsoft.Insights/metricAlerts", ("resourceGroupName", "ruleName"), renames={"criteria.odataType": "odata.type"}
    ),
    "azure-native:monitor:ActionGroup": ArmType("Microsoft.Insights/actionGroups", ("resourceGroupName", "actionGroupName")),
    # An extension resource: its `scope` is a top-level member of the template's resource.
    "azure-native:authorization:RoleAssignment": ArmType(
        "Microsoft.Authorization/roleAssignments", ("roleAssignmentName",), top_level=ARM_TOP_LEVEL | {"scope"}
    ),
}


@dataclass
class Converted:
    plan: dict
    template: dict
    unknown: list[tuple[str, str]]
    """(type, name) of resources with no conversion: the scan cannot see them."""

    @property
    def terraform_count(self) -> int:
        return len(self.plan["planned_values"]["root_module"]["resources"])

    @property
    def arm_count(self) -> int:
        return len(self.template["resources"])


def snake(name: str) -> str:
    """Terraform's spelling of a bridged camelCase name: `kmsMasterKeyId` -> `kms_master_key_id`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _plain_value(value):
    """Archives become their path (Terraform's `filename`/`source` are paths); 300.0 becomes 300."""
    if isinstance(value, dict) and "__archive__" in value:
        return value["__archive__"]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def terraform_values(tf_type: str, inputs: dict) -> dict:
    renames = TERRAFORM_RENAMES.get(tf_type, {})

    def convert(value, path: str, is_map: bool):
        value = _plain_value(value)
        if isinstance(value, dict):
            if is_map:
                return {key: convert(item, f"{path}.{key}", False) for key, item in value.items()}
            return [block(value, path)]  # a block of at most one item: a list of one in the plan
        if isinstance(value, list):
            return [block(item, path) if isinstance(item, dict) else convert(item, path, False) for item in value]
        return value

    def block(mapping: dict, path: str) -> dict:
        if "__archive__" in mapping:
            return mapping["__archive__"]
        result = {}
        for key, item in mapping.items():
            child = f"{path}.{key}" if path else key
            result[renames.get(child, snake(key))] = convert(item, child, key in TERRAFORM_MAPS)
        return result

    return {renames.get(key, snake(key)): convert(item, key, key in TERRAFORM_MAPS) for key, item in inputs.items()}


def arm_api_version(token: str) -> str:
    """The REST API version the installed azure-native SDK deploys `token` with (its docs say which)."""
    _, module, kind = token.split(":")
    spec = importlib.util.find_spec("pulumi_azure_native")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pulumi_azure_native is not installed: install the azure extra")
    source = Path(list(spec.submodule_search_locations)[0]) / module / f"{snake(kind)}.py"
    found = re.search(r"Uses Azure REST API version (\d{4}-\d{2}-\d{2}(?:-preview)?)", source.read_text(encoding="utf-8"))
    if not found:
        raise RuntimeError(f"{source}: no 'Uses Azure REST API version' line for {token}")
    return found.group(1)


def arm_resource(token: str, inputs: dict, outputs: dict) -> dict:
    kind = ARM_TYPES[token]
    resource = {"type": kind.type, "apiVersion": arm_api_version(token), "name": kind.name(inputs, outputs)}

    def renamed(mapping: dict, path: str) -> dict:
        result = {}
        for key, value in mapping.items():
            child = f"{path}.{key}" if path else key
            value = _plain_value(value)
            if isinstance(value, dict) and key != "tags":
                value = renamed(value, child)
            elif isinstance(value, list):
                value = [renamed(item, child) if isinstance(item, dict) else _plain_value(item) for item in value]
            result[kind.renames.get(child, key)] = value
        return result

    properties = {}
    for key, value in renamed({k: v for k, v in inputs.items() if k not in kind.path_inputs}, "").items():
        if key in kind.top_level:
            resource[key] = value
        else:
            properties[key] = value
    resource["properties"] = properties
    return resource


def _label(name: str, taken: set[str]) -> str:
    """A Terraform resource name from the Pulumi name, unique in the plan."""
    label = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    label = label if re.match(r"[A-Za-z_]", label) else f"r_{label}"
    unique, count = label, 1
    while unique in taken:
        count += 1
        unique = f"{label}_{count}"
    taken.add(unique)
    return unique


def convert(resources: list[dict]) -> Converted:
    planned, changes, arm, unknown = [], [], [], []
    labels: dict[str, set[str]] = {}
    for resource in resources:
        token, inputs, outputs = resource["type"], resource.get("inputs") or {}, resource.get("outputs") or {}
        if token in TERRAFORM_TYPES:
            tf_type = TERRAFORM_TYPES[token]
            values = terraform_values(tf_type, inputs)
            if isinstance(outputs.get("name"), str):
                values.setdefault("name", outputs["name"])  # the physical name, as the plan would know it after apply
            label = _label(resource["name"], labels.setdefault(tf_type, set()))
            address = f"{tf_type}.{label}"
            provider = "registry.terraform.io/hashicorp/" + ("aws" if token.startswith("aws:") else "google")
            common = {"address": address, "mode": "managed", "type": tf_type, "name": label, "provider_name": provider}
            planned.append({**common, "schema_version": 0, "values": values, "sensitive_values": {}})
            changes.append({**common, "change": {"actions": ["create"], "before": None, "after": values, "after_unknown": {}}})
        elif token in ARM_TYPES:
            arm.append(arm_resource(token, inputs, outputs))
        elif not token.startswith(NOT_SCANNED_PREFIXES):
            unknown.append((token, resource["name"]))
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": []}},
    }
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": arm,
    }
    return Converted(plan, template, unknown)
