"""Realistic Pulumi mocks: the engine `cloudqueue plan` and every test run programs on.

The mocks answer like the real providers: they autoname physical resources the way the
providers do (`<logical>-<7 hex>` for the bridged aws and gcp providers, `.fifo` for FIFO
queues; azure-native's `<logical><8 hex>` for top-level resources and the bare logical name for
child resources) and enforce the same name limits, and they return the computed outputs real
resources have (queue URLs as ids, ARNs, role unique ids, Lambda versions, ARM resource ids,
managed-identity principal ids, Function App SCM hosts, service-account emails, Cloud Run URLs,
the project number). The monitor also does what the engine does and the stock mock
monitor does not: it runs a parent's `transforms` on every descendant and it records each
registration's parent, `protect` flag and dependencies, so tests can check the wiring.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pulumi
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, _resolve_callbacks
from pulumi.runtime.sync_await import _sync_await
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
DNS_SUFFIX = "amazonaws.com"
SUBSCRIPTION = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AZURE_LOCATION = "westeurope"
GCP_PROJECT = "cloudqueue-dev"
GCP_PROJECT_NUMBER = "418243720156"
GCP_REGION = "europe-west1"


def _hex(seed: str, length: int = 7) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:length]


def _autoname(args: MockResourceArgs, max_len: int, pattern: str = r"^[\w+=,.@/-]+$", suffix: str = "") -> str:
    """Name a resource the way the provider's autonaming does, failing as it would when too long."""
    given = args.inputs.get("name")
    name = given if given else f"{args.name}-{_hex(args.typ + args.name)}{suffix}"
    if len(name) > max_len or not re.match(pattern, name):
        raise ValueError(f"{args.typ} name {name!r} is invalid: at most {max_len} characters matching {pattern}")
    return name


def _sqs_queue(args: MockResourceArgs) -> tuple[str, dict]:
    fifo = bool(args.inputs.get("fifoQueue"))
    name = _autoname(args, 80, r"^[A-Za-z0-9_-]+(\.fifo)?$", ".fifo" if fifo else "")
    if fifo != name.endswith(".fifo"):
        raise ValueError(f"SQS: FIFO queue names must end in .fifo and only FIFO ones: {name!r}")
    url = f"https://sqs.{REGION}.{DNS_SUFFIX}/{ACCOUNT}/{name}"
    # SQS's own defaults, for attributes the program left unset.
    defaults = {
        "visibilityTimeoutSeconds": 30,
        "messageRetentionSeconds": 345600,
        "maxMessageSize": 1048576,
        "delaySeconds": 0,
        "receiveWaitTimeSeconds": 0,
        "sqsManagedSseEnabled": "kmsMasterKeyId" not in args.inputs,
        "fifoQueue": fifo,
    }
    outputs = {
        **{key: value for key, value in defaults.items() if key not in args.inputs},
        "name": name,
        "url": url,
        "arn": f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}",
        "region": REGION,
    }
    return url, outputs


def _queue_attribute(args: MockResourceArgs) -> tuple[str, dict]:
    return args.inputs["queueUrl"], {"region": REGION}


def _iam_role(args: MockResourceArgs) -> tuple[str, dict]:
    name = _autoname(args, 64)
    return name, {
        "name": name,
        "arn": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
        "uniqueId": "AROA" + _hex(name, 17).upper(),
        "createDate": "2026-11-28T00:00:00Z",
        "maxSessionDuration": 3600,
        "path": "/",
    }


def _iam_role_policy(args: MockResourceArgs) -> tuple[str, dict]:
    name = _autoname(args, 128)
    return f"{args.inputs['role']}:{name}", {"name": name}


def _iam_policy(args: MockResourceArgs) -> tuple[str, dict]:
    name = _autoname(args, 128)
    arn = f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{name}"
    return arn, {"name": name, "arn": arn, "policyId": "ANPA" + _hex(name, 17).upper(), "path": "/", "attachmentCount": 0}


def _log_group(args: MockResourceArgs) -> tuple[str, dict]:
    name = _autoname(args, 512, r"^[\w.#/-]+$")
    # The provider strips the API's trailing ":*" from log group ARNs.
    return name, {"name": name, "arn": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}", "logGroupClass": "STANDARD"}


def _lambda_function(args: MockResourceArgs) -> tuple[str, dict]:
    name = _autoname(args, 64, r"^[A-Za-z0-9_-]+$")
    arn = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return name, {
        "name": name,
        "arn": arn,
        "qualifiedArn": f"{arn}:$LATEST",
        "invokeArn": f"arn:{PARTITION}:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations",
        "version": "$LATEST",
        "lastModified": "2026-11-28T00:00:00.000+0000",
        "sourceCodeSize": 4096,
        "region": REGION,
    }


def _layer_version(args: MockResourceArgs) -> tuple[str, dict]:
    name = args.inputs["layerName"]
    if len(name) > 140 or not re.match(r"^[A-Za-z0-9_-]+$", name):
        raise ValueError(f"Lambda: layer name {name!r} must be 1..140 of letters, digits, '-' and '_'")
    layer_arn = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:layer:{name}"
    return f"{layer_arn}:1", {"arn": f"{layer_arn}:1", "layerArn": layer_arn, "version": "1", "createdDate": "2026-11-28T00:00:00.000+0000", "codeSize": 250000}


def _event_source_mapping(args: MockResourceArgs) -> tuple[str, dict]:
    mapping_id = str(uuid.UUID(_hex(args.name, 32)))
    function = args.inputs.get("functionName", "")
    return mapping_id, {
        "uuid": mapping_id,
        "functionArn": function if function.startswith("arn:") else f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{function}",
        "state": "Enabled",
        "stateTransitionReason": "USER_INITIATED",
        "lastModified": "2026-11-28T00:00:00Z",
        "arn": f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{mapping_id}",
    }


# --- azure-native ---------------------------------------------------------------------------------


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


def _web_app(args: MockResourceArgs) -> tuple[str, dict]:
    name = _azure_name(args, "name", True, 60, r"^[A-Za-z0-9](-?[A-Za-z0-9])*$")
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


def _function_app_package(args: MockResourceArgs) -> tuple[str, dict]:
    return f"{args.inputs['scm_url']}#{args.inputs['package_sha256']}", {}


# --- gcp ------------------------------------------------------------------------------------------


def _gcp_name(args: MockResourceArgs, max_len: int, pattern: str) -> str:
    return _autoname(args, max_len, pattern)


def _topic(args: MockResourceArgs) -> tuple[str, dict]:
    name = _gcp_name(args, 255, r"^[A-Za-z][\w.~+%-]{2,254}$")
    labels = args.inputs.get("labels", {})
    return f"projects/{GCP_PROJECT}/topics/{name}", {"name": name, "project": GCP_PROJECT, "effectiveLabels": labels, "pulumiLabels": labels}


def _subscription(args: MockResourceArgs) -> tuple[str, dict]:
    name = _gcp_name(args, 255, r"^[A-Za-z][\w.~+%-]{2,254}$")
    deadline = args.inputs.get("ackDeadlineSeconds", 10)
    if not 10 <= deadline <= 600:
        raise ValueError(f"Pub/Sub: ackDeadlineSeconds {deadline} is outside 10..600")
    policy = args.inputs.get("deadLetterPolicy")
    if policy and not 5 <= policy.get("maxDeliveryAttempts", 5) <= 100:
        raise ValueError("Pub/Sub: maxDeliveryAttempts must be 5..100")
    labels = args.inputs.get("labels", {})
    return f"projects/{GCP_PROJECT}/subscriptions/{name}", {
        "ackDeadlineSeconds": deadline,
        "messageRetentionDuration": args.inputs.get("messageRetentionDuration", "604800s"),
        "name": name,
        "project": GCP_PROJECT,
        "effectiveLabels": labels,
        "pulumiLabels": labels,
    }


def _service_account(args: MockResourceArgs) -> tuple[str, dict]:
    account_id = args.inputs["accountId"]
    if not re.match(r"^[a-z]([-a-z0-9]{4,28}[a-z0-9])$", account_id):
        raise ValueError(f"IAM: service account id {account_id!r} must be 6..30 of [a-z0-9-], starting with a letter")
    email = f"{account_id}@{GCP_PROJECT}.iam.gserviceaccount.com"
    name = f"projects/{GCP_PROJECT}/serviceAccounts/{email}"
    return name, {"email": email, "name": name, "member": f"serviceAccount:{email}", "uniqueId": str(int(_hex(email, 12), 16)).rjust(21, "1")[:21], "project": GCP_PROJECT, "disabled": False}


def _iam_member(parent_key: str) -> Callable[[MockResourceArgs], tuple[str, dict]]:
    def produce(args: MockResourceArgs) -> tuple[str, dict]:
        # Recorded as given, public members included: the policy pack is what rejects those.
        return f"{args.inputs[parent_key]}/{args.inputs['role']}/{args.inputs['member']}", {"etag": "BwY" + _hex(args.name, 9)}

    return produce


def _cloud_run_iam_member(args: MockResourceArgs) -> tuple[str, dict]:
    service = f"projects/{args.inputs.get('project', GCP_PROJECT)}/locations/{args.inputs['location']}/services/{args.inputs['name']}"
    return f"{service}/{args.inputs['role']}/{args.inputs['member']}", {"etag": "BwY" + _hex(args.name, 9)}


def _bucket(args: MockResourceArgs) -> tuple[str, dict]:
    name = _gcp_name(args, 63, r"^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$")
    return name, {"name": name, "url": f"gs://{name}", "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}", "project": GCP_PROJECT, "storageClass": "STANDARD"}


def _bucket_object(args: MockResourceArgs) -> tuple[str, dict]:
    bucket, name = args.inputs["bucket"], args.inputs["name"]
    return f"{bucket}-{name}", {
        "outputName": name,
        "md5hash": _hex(name, 22) + "==",
        "crc32c": _hex(name, 6) + "==",
        "generation": 1764288000000000,
        "mediaLink": f"https://storage.googleapis.com/download/storage/v1/b/{bucket}/o/{name}?generation=1764288000000000&alt=media",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{bucket}/o/{name}",
        "contentType": "application/zip",
    }


def _repository(args: MockResourceArgs) -> tuple[str, dict]:
    repository_id = args.inputs["repositoryId"]
    if not re.match(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", repository_id):
        raise ValueError(f"Artifact Registry: repository id {repository_id!r} must be lowercase letters, digits and hyphens, starting with a letter")
    location = args.inputs["location"]
    return f"projects/{GCP_PROJECT}/locations/{location}/repositories/{repository_id}", {
        "name": repository_id,
        "project": GCP_PROJECT,
        "location": location,
        "createTime": "2026-11-28T00:00:00Z",
        "registryUri": f"{location}-docker.pkg.dev/{GCP_PROJECT}/{repository_id}",
    }


def _cloud_function(args: MockResourceArgs) -> tuple[str, dict]:
    name = _gcp_name(args, 49, r"^[a-z](-?[a-z0-9])*$")  # a Cloud Run service name
    location = args.inputs["location"]
    service_config = {
        **(args.inputs.get("serviceConfig") or {}),
        "uri": f"https://{name}-{_hex(name, 10)}-ew.a.run.app",
        "gcfUri": f"https://{location}-{GCP_PROJECT}.cloudfunctions.net/{name}",
        "service": f"projects/{GCP_PROJECT}/locations/{location}/services/{name}",
    }
    return f"projects/{GCP_PROJECT}/locations/{location}/functions/{name}", {
        "name": name,
        "project": GCP_PROJECT,
        "environment": "GEN_2",
        "state": "ACTIVE",
        "url": f"https://{location}-{GCP_PROJECT}.cloudfunctions.net/{name}",
        "serviceConfig": service_config,
        "updateTime": "2026-11-28T00:00:00Z",
    }


PROVIDER_OUTPUTS: dict[str, Callable[[MockResourceArgs], tuple[str, dict]]] = {
    "aws:sqs/queue:Queue": _sqs_queue,
    "aws:sqs/queuePolicy:QueuePolicy": _queue_attribute,
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": _queue_attribute,
    "aws:sqs/redrivePolicy:RedrivePolicy": _queue_attribute,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/rolePolicy:RolePolicy": _iam_role_policy,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:lambda/function:Function": _lambda_function,
    "aws:lambda/eventSourceMapping:EventSourceMapping": _event_source_mapping,
    "aws:lambda/layerVersion:LayerVersion": _layer_version,
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
    "pulumi-python:dynamic/cloudqueue:FunctionAppPackage": _function_app_package,
    "gcp:pubsub/topic:Topic": _topic,
    "gcp:pubsub/subscription:Subscription": _subscription,
    "gcp:serviceaccount/account:Account": _service_account,
    "gcp:serviceaccount/iAMMember:IAMMember": _iam_member("serviceAccountId"),
    "gcp:pubsub/topicIAMMember:TopicIAMMember": _iam_member("topic"),
    "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember": _iam_member("subscription"),
    "gcp:projects/iAMMember:IAMMember": _iam_member("project"),
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _iam_member("cryptoKeyId"),
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": _cloud_run_iam_member,
    "gcp:storage/bucket:Bucket": _bucket,
    "gcp:storage/bucketIAMMember:BucketIAMMember": _iam_member("bucket"),
    "gcp:artifactregistry/repository:Repository": _repository,
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": _iam_member("repository"),
    "gcp:compute/subnetworkIAMMember:SubnetworkIAMMember": _iam_member("subnetwork"),
    "gcp:storage/bucketObject:BucketObject": _bucket_object,
    "gcp:cloudfunctionsv2/function:Function": _cloud_function,
}

INVOKE_RESULTS: dict[str, dict] = {
    "aws:index/getRegion:getRegion": {"id": REGION, "name": REGION, "region": REGION, "endpoint": f"ec2.{REGION}.{DNS_SUFFIX}", "description": "US East (N. Virginia)"},
    "aws:index/getPartition:getPartition": {"id": PARTITION, "partition": PARTITION, "dnsSuffix": DNS_SUFFIX, "reverseDnsPrefix": "com.amazonaws"},
    "aws:index/getCallerIdentity:getCallerIdentity": {"id": ACCOUNT, "accountId": ACCOUNT, "arn": f"arn:{PARTITION}:iam::{ACCOUNT}:user/ci", "userId": "AIDA0123456789EXAMPLE"},
    "azure-native:authorization:getClientConfig": {"clientId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "objectId": "9d4c2f6e-1a3b-4c5d-8e7f-0a1b2c3d4e5f", "subscriptionId": SUBSCRIPTION, "tenantId": TENANT},
    "gcp:organizations/getClientConfig:getClientConfig": {"id": f"projects/{GCP_PROJECT}/regions/{GCP_REGION}/zones/", "project": GCP_PROJECT, "region": GCP_REGION, "zone": "", "accessToken": "ya29.mock", "defaultLabels": {}},
    "gcp:organizations/getProject:getProject": {
        "id": f"projects/{GCP_PROJECT}",
        "projectId": GCP_PROJECT,
        "number": GCP_PROJECT_NUMBER,
        "name": GCP_PROJECT,
        "orgId": "123456789",
        "autoCreateNetwork": True,
        "labels": {},
        "effectiveLabels": {},
        "pulumiLabels": {},
    },
}


@dataclass
class Registration:
    """One resource as the engine saw it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    protect: bool
    dependencies: list[str]
    inputs: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    id: str = ""


class CloudMocks(pulumi.runtime.Mocks):
    """Provider answers shaped like the real ones, and a log of every invoke."""

    def __init__(self) -> None:
        self.invokes: list[str] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[Optional[str], dict]:
        if not args.custom:
            return None, {}
        produce = PROVIDER_OUTPUTS.get(args.typ)
        if produce is None:
            raise NotImplementedError(f"no realistic mock for {args.typ}; add one to components/mocks.py")
        resource_id, computed = produce(args)
        return resource_id, {**args.inputs, **computed}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, Optional[list]]:
        self.invokes.append(args.token)
        if args.token not in INVOKE_RESULTS:
            raise NotImplementedError(f"no realistic mock for invoke {args.token}")
        return INVOKE_RESULTS[args.token], []


class EngineMonitor(MockMonitor):
    """The stock mock monitor plus two engine behaviours: inherited transforms and a full record."""

    def __init__(self, mocks: CloudMocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}
        self._transforms: dict[str, list] = {}

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        urn = self.make_urn(request.parent, request.type, request.name)
        # The engine runs a resource's own transforms, then each ancestor's, outermost last.
        chain = _resolve_callbacks(request.transforms) + self._transforms.get(request.parent, [])
        self._transforms[urn] = chain
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        inputs = rpc.deserialize_properties(request.object)
        for transform in chain:
            result = transform(
                pulumi.ResourceTransformArgs(request.custom, request.type, request.name, inputs, pulumi.ResourceOptions())
            )
            if result is not None and not isinstance(result, pulumi.ResourceTransformResult):
                result = _sync_await(result)
            if result is not None:
                inputs = result.props
        args = MockResourceArgs(request.type, request.name, inputs, request.provider, request.importId, request.custom)
        resource_id, state = self.mocks.new_resource(args)
        self.registrations[urn] = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=request.custom,
            protect=request.protect,
            dependencies=list(request.dependencies),
            inputs=inputs,
            outputs=state,
            id=resource_id or "",
        )
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, state)
        properties = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id or "", object=properties)


class Engine:
    """A mocked Pulumi program run: what was registered, and what was invoked."""

    def __init__(self, preview: bool, stack: str = "dev", project: str = "cloudqueue") -> None:
        self.mocks = CloudMocks()
        self.monitor = EngineMonitor(self.mocks)
        self.preview = preview
        pulumi.runtime.set_mocks(self.mocks, project=project, stack=stack, preview=preview, monitor=self.monitor)

    def run(self, program: Callable[[], Any]) -> Any:
        """Run `program` to completion, as `pulumi up`/`preview` would; return what it returned."""
        box: dict[str, Any] = {}

        @pulumi.runtime.test
        def _program():
            box["result"] = program()
            return None

        _program()
        return box.get("result")

    def resolve(self, output: Any) -> Any:
        """The value of an Output once every resource is registered."""
        return _sync_await(pulumi.Output.from_input(output).future())

    def all(self, type_: Optional[str] = None) -> list[Registration]:
        return [r for r in self.monitor.registrations.values() if type_ is None or r.type == type_]

    def one(self, type_: str, name_suffix: str = "") -> Registration:
        found = [r for r in self.all(type_) if r.name.endswith(name_suffix)]
        assert len(found) == 1, f"expected one {type_} named *{name_suffix}, found {[r.name for r in found]}"
        return found[0]

    def policy(self, registration: Registration, key: str = "policy") -> dict:
        value = registration.inputs[key]
        return json.loads(value) if isinstance(value, str) else value


def flatten_config(config: dict[str, Any]) -> dict[str, str]:
    """Config values as strings, the way the Pulumi CLI hands them to a program (objects as JSON)."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, (dict, list)):
            flat[key] = json.dumps(value)
        elif isinstance(value, bool):
            flat[key] = "true" if value else "false"
        else:
            flat[key] = str(value)
    return flat
