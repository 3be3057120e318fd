"""Realistic Pulumi mocks shared by every test (the fixtures live in conftest.py).

The mocks answer like the real providers: they autoname physical resources the way the
providers do (`<logical>-<7 hex>`, `.fifo` for FIFO queues) and enforce the same name limits,
and they return the computed outputs real resources have (queue URLs as ids, ARNs, role
unique ids, Lambda versions). The monitor also does what the engine does and the stock mock
monitor does not: it runs a parent's `transforms` on every descendant and it records each
registration's parent, `protect` flag and dependencies, so tests can check the wiring.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import pulumi
import yaml
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, _resolve_callbacks
from pulumi.runtime.sync_await import _sync_await
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
DNS_SUFFIX = "amazonaws.com"


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
}

INVOKE_RESULTS: dict[str, dict] = {
    "aws:index/getRegion:getRegion": {"id": REGION, "name": REGION, "region": REGION, "endpoint": f"ec2.{REGION}.{DNS_SUFFIX}", "description": "US East (N. Virginia)"},
    "aws:index/getPartition:getPartition": {"id": PARTITION, "partition": PARTITION, "dnsSuffix": DNS_SUFFIX, "reverseDnsPrefix": "com.amazonaws"},
    "aws:index/getCallerIdentity:getCallerIdentity": {"id": ACCOUNT, "accountId": ACCOUNT, "arn": f"arn:{PARTITION}:iam::{ACCOUNT}:user/ci", "userId": "AIDA0123456789EXAMPLE"},
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
            raise NotImplementedError(f"no realistic mock for {args.typ}; add one to tests/pulumi_mocks.py")
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

    def __init__(self, preview: bool, stack: str = "dev") -> None:
        self.mocks = CloudMocks()
        self.monitor = EngineMonitor(self.mocks)
        self.preview = preview
        pulumi.runtime.set_mocks(self.mocks, project="cloudqueue", stack=stack, preview=preview, monitor=self.monitor)

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


def load_stack_config(stack: str) -> dict[str, str]:
    """Read Pulumi.<stack>.yaml and flatten it the way the Pulumi CLI hands config to a program."""
    document = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    config = {}
    for key, value in document["config"].items():
        full_key = key if ":" in key else f"cloudqueue:{key}"
        if isinstance(value, (dict, list)):
            config[full_key] = json.dumps(value)
        elif isinstance(value, bool):
            config[full_key] = "true" if value else "false"
        else:
            config[full_key] = str(value)
    return config
