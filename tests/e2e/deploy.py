"""Apply what a program registered under the mock engine to ministack, through boto3.

Every value comes from a registration's recorded `inputs` (the program's own), and the physical
names from what the mocks answered (the providers' autonaming), so the ARNs the program wired
into policies, the redrive policy, the function's layers and the mapping name resources that
exist here. Each resource type has a table from the provider's input names to the API's; an input
the table does not know fails the apply instead of being dropped, so a property the component
starts to register is either applied or noticed.

The one value changed is the queues' visibility timeout (`visibility_timeout`): the component
derives minutes, and a test waits it out at every retry.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from botocore import xform_name

from components.tools.mocks import Registration

QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
REDRIVE_ALLOW = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LAYER = "aws:lambda/layerVersion:LayerVersion"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPONENT = "cloudqueue:index:AwsQueue"
# Dependencies first: what a later resource names must exist (the redrive policy's DLQ, the
# function's role, layer and log group, the mapping's queue and function, the alarms' queue and topic).
ORDER = [LOG_GROUP, ROLE, ROLE_POLICY, POLICY, QUEUE, REDRIVE_ALLOW, QUEUE_POLICY, LAYER, FUNCTION, MAPPING, TOPIC, SUBSCRIPTION, ALARM]

ACTIVE_TIMEOUT_SECONDS = 60


def _text(value: Any) -> str:
    """An SQS attribute value: booleans as `true`/`false`, numbers (floats on the wire) as integers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _int(value: Any) -> int:
    return int(value)


def _same(value: Any) -> Any:
    return value


QUEUE_ATTRIBUTES = {
    "messageRetentionSeconds": "MessageRetentionPeriod",
    "maxMessageSize": "MaximumMessageSize",
    "visibilityTimeoutSeconds": "VisibilityTimeout",
    "redrivePolicy": "RedrivePolicy",
    "fifoQueue": "FifoQueue",
    "contentBasedDeduplication": "ContentBasedDeduplication",
    "kmsMasterKeyId": "KmsMasterKeyId",
    "kmsDataKeyReusePeriodSeconds": "KmsDataKeyReusePeriodSeconds",
    "sqsManagedSseEnabled": "SqsManagedSseEnabled",
}


def _archive_bytes(archive: Any, recorded_hash: str | None) -> bytes:
    """The bytes of a recorded FileArchive: the zip the program built, checked against its recorded hash."""
    data = Path(archive.path).read_bytes()
    if recorded_hash is not None:
        actual = base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert actual == recorded_hash, f"{archive.path} is not the archive the program hashed ({actual} != {recorded_hash})"
    return data


def _unmapped(registration: Registration, known: set[str]) -> None:
    extra = set(registration.inputs) - known
    if extra:
        raise KeyError(f"{registration.type} {registration.name}: no ministack mapping for input(s) {sorted(extra)}; add them to tests/e2e/deploy.py")


@dataclass
class Deployment:
    """What was applied: resource names and ministack's answers, by the program's logical name."""

    endpoint: str
    queue_urls: dict[str, str] = field(default_factory=dict)
    """Logical name -> ministack queue URL."""
    mock_queue_urls: dict[str, str] = field(default_factory=dict)
    """The URL the mocks answered (what QueuePolicy and RedriveAllowPolicy record) -> ministack's."""
    responses: dict[str, dict] = field(default_factory=dict)
    """Logical name -> ministack's answer to the create call."""
    calls: list[str] = field(default_factory=list)
    """Every API call made, in order: `Service.Operation logical-name`."""
    visibility: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Queue logical name -> (recorded, applied) visibility timeout."""


class Applier:
    def __init__(self, client: Callable[[str], Any], visibility_timeout: int | None):
        self.sqs, self.iam, self.logs, self.lambda_ = client("sqs"), client("iam"), client("logs"), client("lambda")
        self.sns, self.cloudwatch = client("sns"), client("cloudwatch")
        self.visibility_timeout = visibility_timeout
        self.deployment = Deployment(endpoint=self.sqs.meta.endpoint_url)

    def _call(self, client, operation: str, name: str, **params) -> dict:
        self.deployment.calls.append(f"{client.meta.service_model.service_id.replace(' ', '')}.{operation} {name}")
        return getattr(client, xform_name(operation))(**params)

    def apply(self, registrations: list[Registration]) -> Deployment:
        types = {r.type for r in registrations} - {COMPONENT}
        unknown = types - set(ORDER)
        if unknown:
            raise KeyError(f"no ministack mapping for resource type(s) {sorted(unknown)}; add them to tests/e2e/deploy.py")
        for type_ in ORDER:
            batch = [r for r in registrations if r.type == type_]
            if type_ == QUEUE:
                batch.sort(key=lambda r: "redrivePolicy" in r.inputs)  # dead-letter queues first
            for registration in batch:
                getattr(self, "_" + type_.rsplit(":", 1)[-1])(registration)
        return self.deployment

    # --- SQS ---------------------------------------------------------------------------------

    def _Queue(self, r: Registration) -> None:
        _unmapped(r, set(QUEUE_ATTRIBUTES) | {"tags", "name"})
        attributes = {QUEUE_ATTRIBUTES[k]: _text(v) for k, v in r.inputs.items() if k in QUEUE_ATTRIBUTES}
        if "VisibilityTimeout" in attributes and self.visibility_timeout is not None:
            recorded = int(attributes["VisibilityTimeout"])
            attributes["VisibilityTimeout"] = str(self.visibility_timeout)
            self.deployment.visibility[r.name] = (recorded, self.visibility_timeout)
        name = r.outputs["name"]  # the provider's autoname, as the mocks answered it
        response = self._call(self.sqs, "CreateQueue", r.name, QueueName=name, Attributes=attributes, tags=r.inputs.get("tags") or {})
        self.deployment.queue_urls[r.name] = response["QueueUrl"]
        self.deployment.mock_queue_urls[r.outputs["url"]] = response["QueueUrl"]
        self.deployment.responses[r.name] = {**response, "attributes": attributes}

    def _queue_url(self, r: Registration) -> str:
        recorded = r.inputs["queueUrl"]
        assert recorded in self.deployment.mock_queue_urls, f"{r.name} names a queue the program did not register: {recorded}"
        return self.deployment.mock_queue_urls[recorded]

    def _RedriveAllowPolicy(self, r: Registration) -> None:
        _unmapped(r, {"queueUrl", "redriveAllowPolicy"})
        self._call(self.sqs, "SetQueueAttributes", r.name, QueueUrl=self._queue_url(r), Attributes={"RedriveAllowPolicy": r.inputs["redriveAllowPolicy"]})

    def _QueuePolicy(self, r: Registration) -> None:
        _unmapped(r, {"queueUrl", "policy"})
        self._call(self.sqs, "SetQueueAttributes", r.name, QueueUrl=self._queue_url(r), Attributes={"Policy": r.inputs["policy"]})

    # --- IAM and logs ------------------------------------------------------------------------

    def _Role(self, r: Registration) -> None:
        _unmapped(r, {"assumeRolePolicy", "tags", "name"})
        tags = [{"Key": k, "Value": v} for k, v in (r.inputs.get("tags") or {}).items()]
        self.deployment.responses[r.name] = self._call(
            self.iam, "CreateRole", r.name, RoleName=r.outputs["name"], AssumeRolePolicyDocument=r.inputs["assumeRolePolicy"], Tags=tags
        )["Role"]

    def _RolePolicy(self, r: Registration) -> None:
        _unmapped(r, {"role", "policy", "name"})
        self._call(self.iam, "PutRolePolicy", r.name, RoleName=r.inputs["role"], PolicyName=r.outputs["name"], PolicyDocument=r.inputs["policy"])

    def _Policy(self, r: Registration) -> None:
        _unmapped(r, {"policy", "description", "tags", "name"})
        tags = [{"Key": k, "Value": v} for k, v in (r.inputs.get("tags") or {}).items()]
        self.deployment.responses[r.name] = self._call(
            self.iam, "CreatePolicy", r.name, PolicyName=r.outputs["name"], PolicyDocument=r.inputs["policy"], Description=r.inputs.get("description", ""), Tags=tags
        )["Policy"]

    def _LogGroup(self, r: Registration) -> None:
        _unmapped(r, {"retentionInDays", "kmsKeyId", "tags", "name"})
        params: dict[str, Any] = {"logGroupName": r.outputs["name"], "tags": r.inputs.get("tags") or {}}
        if r.inputs.get("kmsKeyId"):
            params["kmsKeyId"] = r.inputs["kmsKeyId"]
        self._call(self.logs, "CreateLogGroup", r.name, **params)
        if r.inputs.get("retentionInDays") is not None:
            self._call(self.logs, "PutRetentionPolicy", r.name, logGroupName=r.outputs["name"], retentionInDays=_int(r.inputs["retentionInDays"]))

    # --- Lambda ------------------------------------------------------------------------------

    def _LayerVersion(self, r: Registration) -> None:
        _unmapped(r, {"layerName", "code", "sourceCodeHash", "compatibleRuntimes", "compatibleArchitectures", "description"})
        self.deployment.responses[r.name] = self._call(
            self.lambda_, "PublishLayerVersion", r.name,
            LayerName=r.inputs["layerName"],
            Content={"ZipFile": _archive_bytes(r.inputs["code"], r.inputs.get("sourceCodeHash"))},
            CompatibleRuntimes=r.inputs.get("compatibleRuntimes", []),
            CompatibleArchitectures=r.inputs.get("compatibleArchitectures", []),
            Description=r.inputs.get("description", ""),
        )

    FUNCTION_INPUTS = {
        "role": ("Role", _same),
        "runtime": ("Runtime", _same),
        "handler": ("Handler", _same),
        "architectures": ("Architectures", _same),
        "memorySize": ("MemorySize", _int),
        "timeout": ("Timeout", _int),
        "environment": ("Environment", lambda v: {"Variables": dict(v.get("variables") or {})}),
        "kmsKeyArn": ("KMSKeyArn", _same),
        "tracingConfig": ("TracingConfig", lambda v: {"Mode": v["mode"]}),
        "vpcConfig": ("VpcConfig", lambda v: {"SubnetIds": list(v["subnetIds"]), "SecurityGroupIds": list(v["securityGroupIds"])}),
        "layers": ("Layers", list),
        "loggingConfig": ("LoggingConfig", lambda v: {"LogFormat": v["logFormat"], **({"LogGroup": v["logGroup"]} if v.get("logGroup") else {})}),
        "tags": ("Tags", dict),
    }

    def _Function(self, r: Registration) -> None:
        _unmapped(r, set(self.FUNCTION_INPUTS) | {"code", "sourceCodeHash", "name"})
        params = {api: convert(r.inputs[key]) for key, (api, convert) in self.FUNCTION_INPUTS.items() if r.inputs.get(key) is not None}
        name = r.outputs["name"]
        params["Code"] = {"ZipFile": _archive_bytes(r.inputs["code"], r.inputs.get("sourceCodeHash"))}
        self.deployment.responses[r.name] = self._call(self.lambda_, "CreateFunction", r.name, FunctionName=name, **params)
        # Lambda creates functions Pending; the provider waits for Active before anything uses it.
        deadline = time.monotonic() + ACTIVE_TIMEOUT_SECONDS
        while (state := self.lambda_.get_function_configuration(FunctionName=name)["State"]) != "Active":
            assert state == "Pending" and time.monotonic() < deadline, f"function {name} is {state}, not Active"
            time.sleep(0.2)

    MAPPING_INPUTS = {
        "eventSourceArn": ("EventSourceArn", _same),
        "functionName": ("FunctionName", _same),
        "batchSize": ("BatchSize", _int),
        "maximumBatchingWindowInSeconds": ("MaximumBatchingWindowInSeconds", _int),
        "functionResponseTypes": ("FunctionResponseTypes", list),
        "scalingConfig": ("ScalingConfig", lambda v: {"MaximumConcurrency": _int(v["maximumConcurrency"])}),
        "tags": ("Tags", dict),
    }

    def _EventSourceMapping(self, r: Registration) -> None:
        _unmapped(r, set(self.MAPPING_INPUTS))
        params = {api: convert(r.inputs[key]) for key, (api, convert) in self.MAPPING_INPUTS.items() if r.inputs.get(key) is not None}
        self.deployment.responses[r.name] = self._call(self.lambda_, "CreateEventSourceMapping", r.name, **params)


    # --- SNS and CloudWatch alarms --------------------------------------------------------------

    def _Topic(self, r: Registration) -> None:
        _unmapped(r, {"kmsMasterKeyId", "tags", "name"})
        attributes = {"KmsMasterKeyId": r.inputs["kmsMasterKeyId"]} if r.inputs.get("kmsMasterKeyId") else {}
        tags = [{"Key": k, "Value": v} for k, v in (r.inputs.get("tags") or {}).items()]
        response = self._call(self.sns, "CreateTopic", r.name, Name=r.outputs["name"], Attributes=attributes, Tags=tags)
        assert response["TopicArn"] == r.outputs["arn"], f"{r.name}: ministack made {response['TopicArn']}, the program wired {r.outputs['arn']}"
        self.deployment.responses[r.name] = response

    def _TopicSubscription(self, r: Registration) -> None:
        _unmapped(r, {"topic", "protocol", "endpoint"})
        self.deployment.responses[r.name] = self._call(
            self.sns, "Subscribe", r.name, TopicArn=r.inputs["topic"], Protocol=r.inputs["protocol"], Endpoint=r.inputs["endpoint"], ReturnSubscriptionArn=True
        )

    ALARM_INPUTS = {
        "namespace": ("Namespace", _same),
        "metricName": ("MetricName", _same),
        "dimensions": ("Dimensions", lambda v: [{"Name": k, "Value": value} for k, value in v.items()]),
        "statistic": ("Statistic", _same),
        "period": ("Period", _int),
        "evaluationPeriods": ("EvaluationPeriods", _int),
        "comparisonOperator": ("ComparisonOperator", _same),
        "threshold": ("Threshold", float),
        "treatMissingData": ("TreatMissingData", _same),
        "alarmDescription": ("AlarmDescription", _same),
        "alarmActions": ("AlarmActions", list),
        "okActions": ("OKActions", list),
        "tags": ("Tags", lambda v: [{"Key": k, "Value": value} for k, value in v.items()]),
    }

    def _MetricAlarm(self, r: Registration) -> None:
        _unmapped(r, set(self.ALARM_INPUTS) | {"name"})
        params = {api: convert(r.inputs[key]) for key, (api, convert) in self.ALARM_INPUTS.items() if r.inputs.get(key) is not None}
        self.deployment.responses[r.name] = self._call(self.cloudwatch, "PutMetricAlarm", r.name, AlarmName=r.outputs["name"], **params)


def apply(registrations: list[Registration], client: Callable[[str], Any], visibility_timeout: int | None = None) -> Deployment:
    """Create every registered resource in ministack; `client(service)` makes its boto3 clients."""
    return Applier(client, visibility_timeout).apply(registrations)
