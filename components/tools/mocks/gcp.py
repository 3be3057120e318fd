"""The Google Cloud provider's answers: Pub/Sub, service accounts and IAM members, storage, Artifact Registry, Cloud Functions, Monitoring."""

from __future__ import annotations

import hashlib
import re
from typing import Callable

from pulumi.runtime.mocks import MockResourceArgs

from .accounts import GCP_PROJECT, GCP_PROJECT_NUMBER, GCP_REGION, _autoname, _hex


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
    retention = args.inputs.get("messageRetentionDuration", "604800s")
    if not 600 <= float(retention.rstrip("s")) <= 2678400:
        raise ValueError(f"Pub/Sub: messageRetentionDuration {retention!r} is outside 10 minutes..31 days")
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
        resource_id = f"{args.inputs[parent_key]}/{args.inputs['role']}/{args.inputs['member']}"
        condition = args.inputs.get("condition")
        if condition:
            # IAM requires a title and an expression; the provider appends the title to the id.
            if not condition.get("title") or not condition.get("expression"):
                raise ValueError(f"IAM: a condition needs a title and an expression, got {condition!r}")
            resource_id += f"/{condition['title']}"
        return resource_id, {"etag": "BwY" + _hex(args.name, 9)}

    return produce


# generateServiceIdentity's answer per service: the agents Google documents.
SERVICE_AGENT_DOMAINS = {
    "pubsub.googleapis.com": "gcp-sa-pubsub.iam.gserviceaccount.com",
    "cloudfunctions.googleapis.com": "gcf-admin-robot.iam.gserviceaccount.com",
    "artifactregistry.googleapis.com": "gcp-sa-artifactregistry.iam.gserviceaccount.com",
    "run.googleapis.com": "serverless-robot-prod.iam.gserviceaccount.com",
}


def _service_identity(args: MockResourceArgs) -> tuple[str, dict]:
    service = args.inputs["service"]
    project = args.inputs.get("project", GCP_PROJECT)
    if service not in SERVICE_AGENT_DOMAINS:
        raise ValueError(f"Service Usage: no service identity mocked for {service!r}")
    email = f"service-{GCP_PROJECT_NUMBER}@{SERVICE_AGENT_DOMAINS[service]}"
    return f"projects/{project}/services/{service}", {"project": project, "email": email, "member": f"serviceAccount:{email}"}


def _grant_propagation(args: MockResourceArgs) -> tuple[str, dict]:
    # The dynamic provider's id: a digest of the grants it waited for.
    return "grants-" + hashlib.sha256("\n".join(sorted(args.inputs.get("grants") or [])).encode()).hexdigest()[:16], {}


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


def _numeric_id(seed: str) -> str:
    """The numeric ids Cloud Monitoring gives channels and policies."""
    return str(int(_hex(seed, 15), 16))


def _notification_channel(args: MockResourceArgs) -> tuple[str, dict]:
    if args.inputs.get("type") == "email" and "@" not in (args.inputs.get("labels") or {}).get("email_address", ""):
        raise ValueError("Monitoring: an email channel needs the label email_address")
    project = args.inputs.get("project", GCP_PROJECT)
    # `name` is the channel's full resource name, which alert policies list (the provider's id too).
    name = f"projects/{project}/notificationChannels/{_numeric_id(args.name)}"
    return name, {"name": name, "project": project, "enabled": True, "verificationStatus": "", "userLabels": args.inputs.get("userLabels", {})}


def _alert_policy(args: MockResourceArgs) -> tuple[str, dict]:
    conditions = args.inputs.get("conditions") or []
    if args.inputs.get("combiner") not in ("AND", "OR", "AND_WITH_MATCHING_RESOURCE") or not 1 <= len(conditions) <= 6:
        raise ValueError("Monitoring: an alert policy needs a combiner and 1..6 conditions")
    for condition in conditions:
        threshold = condition.get("conditionThreshold") or {}
        duration = threshold.get("duration", "")
        # The API accepts only COMPARISON_GT and COMPARISON_LT for metric thresholds, and whole minutes.
        if threshold.get("comparison") not in ("COMPARISON_GT", "COMPARISON_LT") or not re.match(r"^\d+s$", duration) or int(duration[:-1]) % 60:
            raise ValueError(f"Monitoring: condition {condition.get('displayName')!r} has comparison {threshold.get('comparison')!r} or duration {duration!r} the API refuses")
        if len(threshold.get("filter", "")) > 2048 or "metric.type" not in threshold.get("filter", ""):
            raise ValueError(f"Monitoring: condition {condition.get('displayName')!r} needs a filter naming metric.type, at most 2048 characters")
    project = args.inputs.get("project", GCP_PROJECT)
    name = f"projects/{project}/alertPolicies/{_numeric_id(args.name)}"
    conditions = [{**c, "name": f"{name}/conditions/{_numeric_id(args.name + str(i))}"} for i, c in enumerate(conditions)]
    return name, {"name": name, "project": project, "enabled": True, "conditions": conditions, "creationRecords": [{"mutateTime": "2026-11-28T00:00:00Z", "mutatedBy": "ci@cloudqueue-dev.iam.gserviceaccount.com"}]}


OUTPUTS: dict[str, Callable[[MockResourceArgs], tuple[str, dict]]] = {
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
    "gcp:projects/serviceIdentity:ServiceIdentity": _service_identity,
    "gcp:monitoring/notificationChannel:NotificationChannel": _notification_channel,
    "gcp:monitoring/alertPolicy:AlertPolicy": _alert_policy,
    "pulumi-python:dynamic/cloudqueue:GrantPropagation": _grant_propagation,
}

INVOKE_RESULTS: dict[str, dict] = {
    "gcp:organizations/getClientConfig:getClientConfig": {"id": f"projects/{GCP_PROJECT}/regions/{GCP_REGION}/zones/", "project": GCP_PROJECT, "region": GCP_REGION, "zone": "", "accessToken": "ya29.mock", "defaultLabels": {}},
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": {
        "id": f"service-{GCP_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com",
        "emailAddress": f"service-{GCP_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com",
        "member": f"serviceAccount:service-{GCP_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com",
        "project": GCP_PROJECT,
    },
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
