"""The AWS provider's answers: SQS queues and their policies, IAM, CloudWatch logs and alarms, SNS, Lambda."""

from __future__ import annotations

import re
import uuid
from typing import Callable

from pulumi.runtime.mocks import MockResourceArgs

from .accounts import ACCOUNT, DNS_SUFFIX, PARTITION, REGION, _autoname, _hex


def _sqs_queue(args: MockResourceArgs) -> tuple[str, dict]:
    fifo = bool(args.inputs.get("fifoQueue"))
    name = _autoname(args, 80, r"^[A-Za-z0-9_-]+(\.fifo)?$", ".fifo" if fifo else "")
    if fifo != name.endswith(".fifo"):
        raise ValueError(f"SQS: FIFO queue names must end in .fifo and only FIFO ones: {name!r}")
    url = f"https://sqs.{REGION}.{DNS_SUFFIX}/{ACCOUNT}/{name}"
    # The provider's defaults, which it sends for attributes the program left unset.
    defaults = {
        "visibilityTimeoutSeconds": 30,
        "messageRetentionSeconds": 345600,
        # SQS takes up to 1 MiB since 2025 and defaults new queues to it, but the provider sends
        # its own default of 262144 (terraform-provider-aws DefaultQueueMaximumMessageSize).
        "maxMessageSize": 262144,
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


# PutMetricAlarm's values (CloudWatch API reference): the comparisons of static thresholds, the
# standard statistics, how missing data is treated, and periods of 10, 20, 30 or a multiple of 60 s.
_COMPARISONS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold")
_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")


def _metric_alarm(args: MockResourceArgs) -> tuple[str, dict]:
    name = _autoname(args, 255, r"^[^\x00-\x1f]+$")
    inputs = args.inputs
    period = int(inputs.get("period", 0))
    if period not in (10, 20, 30) and (period <= 0 or period % 60):
        raise ValueError(f"CloudWatch: period {period} must be 10, 20, 30 or a multiple of 60")
    if inputs.get("comparisonOperator") not in _COMPARISONS or inputs.get("statistic") not in _STATISTICS:
        raise ValueError(f"CloudWatch: comparison {inputs.get('comparisonOperator')!r} or statistic {inputs.get('statistic')!r} is not a static-threshold one")
    if inputs.get("treatMissingData", "missing") not in _MISSING_DATA:
        raise ValueError(f"CloudWatch: treatMissingData {inputs['treatMissingData']!r} is not one of {_MISSING_DATA}")
    for key in ("alarmActions", "okActions", "insufficientDataActions"):
        if len(inputs.get(key) or []) > 5:
            raise ValueError(f"CloudWatch: {key} holds {len(inputs[key])} actions, above the maximum of 5")
    arn = f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
    return name, {"name": name, "arn": arn, "actionsEnabled": True, "datapointsToAlarm": 0, "region": REGION}


def _sns_topic(args: MockResourceArgs) -> tuple[str, dict]:
    fifo = bool(args.inputs.get("fifoTopic"))
    name = _autoname(args, 256, r"^[A-Za-z0-9_-]+(\.fifo)?$", ".fifo" if fifo else "")
    arn = f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{name}"
    return arn, {"name": name, "arn": arn, "owner": ACCOUNT, "signatureVersion": 1, "region": REGION}


def _sns_subscription(args: MockResourceArgs) -> tuple[str, dict]:
    protocol, endpoint, topic = args.inputs["protocol"], args.inputs["endpoint"], args.inputs["topic"]
    if protocol not in ("sqs", "sms", "lambda", "firehose", "application", "email", "email-json", "http", "https"):
        raise ValueError(f"SNS: protocol {protocol!r} is not one SNS subscribes")
    if protocol.startswith("email") and "@" not in endpoint:
        raise ValueError(f"SNS: an {protocol} subscription needs an e-mail address, got {endpoint!r}")
    # The provider subscribes with ReturnSubscriptionArn, so even a pending e-mail subscription has its ARN.
    arn = f"{topic}:{uuid.UUID(_hex(topic + endpoint, 32))}"
    pending = protocol in ("email", "email-json")
    return arn, {"arn": arn, "ownerId": ACCOUNT, "pendingConfirmation": pending, "confirmationWasAuthenticated": not pending, "region": REGION}


OUTPUTS: dict[str, Callable[[MockResourceArgs], tuple[str, dict]]] = {
    "aws:sqs/queue:Queue": _sqs_queue,
    "aws:sqs/queuePolicy:QueuePolicy": _queue_attribute,
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": _queue_attribute,
    "aws:sqs/redrivePolicy:RedrivePolicy": _queue_attribute,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/rolePolicy:RolePolicy": _iam_role_policy,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:sns/topicSubscription:TopicSubscription": _sns_subscription,
    "aws:lambda/function:Function": _lambda_function,
    "aws:lambda/eventSourceMapping:EventSourceMapping": _event_source_mapping,
    "aws:lambda/layerVersion:LayerVersion": _layer_version,
}

INVOKE_RESULTS: dict[str, dict] = {
    "aws:index/getRegion:getRegion": {"id": REGION, "name": REGION, "region": REGION, "endpoint": f"ec2.{REGION}.{DNS_SUFFIX}", "description": "US East (N. Virginia)"},
    "aws:index/getPartition:getPartition": {"id": PARTITION, "partition": PARTITION, "dnsSuffix": DNS_SUFFIX, "reverseDnsPrefix": "com.amazonaws"},
    "aws:index/getCallerIdentity:getCallerIdentity": {"id": ACCOUNT, "accountId": ACCOUNT, "arn": f"arn:{PARTITION}:iam::{ACCOUNT}:user/ci", "userId": "AIDA0123456789EXAMPLE"},
}
