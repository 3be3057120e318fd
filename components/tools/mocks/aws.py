"""The AWS provider's answers: SQS queues and their policies, IAM, CloudWatch logs, Lambda."""

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


OUTPUTS: dict[str, Callable[[MockResourceArgs], tuple[str, dict]]] = {
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
}

INVOKE_RESULTS: dict[str, dict] = {
    "aws:index/getRegion:getRegion": {"id": REGION, "name": REGION, "region": REGION, "endpoint": f"ec2.{REGION}.{DNS_SUFFIX}", "description": "US East (N. Virginia)"},
    "aws:index/getPartition:getPartition": {"id": PARTITION, "partition": PARTITION, "dnsSuffix": DNS_SUFFIX, "reverseDnsPrefix": "com.amazonaws"},
    "aws:index/getCallerIdentity:getCallerIdentity": {"id": ACCOUNT, "accountId": ACCOUNT, "arn": f"arn:{PARTITION}:iam::{ACCOUNT}:user/ci", "userId": "AIDA0123456789EXAMPLE"},
}
