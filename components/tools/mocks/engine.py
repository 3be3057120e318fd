"""The mock engine: a program run on the realistic mocks, and the monitor that records every registration."""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, _resolve_callbacks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from . import aws, azure, gcp

PROVIDER_OUTPUTS: dict[str, Callable[[MockResourceArgs], tuple[str, dict]]] = {**aws.OUTPUTS, **azure.OUTPUTS, **gcp.OUTPUTS}
"""Per resource type: (id, computed outputs) from the inputs, as that provider answers."""

INVOKE_RESULTS: dict[str, dict] = {**aws.INVOKE_RESULTS, **azure.INVOKE_RESULTS, **gcp.INVOKE_RESULTS}
"""Per invoke token: the result the provider returns for this mocked account."""


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
            raise NotImplementedError(f"no realistic mock for {args.typ}; add one to components/tools/mocks/")
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

        # The program runs near the bottom of a stack of its own, as under the language host: the SDK
        # walks the whole call stack for every resource it registers (source positions), and a test
        # runner's is 50-60 frames deep (18% of a mocked run's instructions from 50 frames down, by callgrind).
        # The caller's loop and context go with it, so Outputs made before or after the run are the
        # same engine's, and an error is raised here as if the program had run in this thread.
        loop, context, failure = _ensure_event_loop(), contextvars.copy_context(), []

        def on_its_own_stack() -> None:
            asyncio.set_event_loop(loop)
            try:
                context.run(_program)
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
                failure.append(error)
            finally:
                asyncio.set_event_loop(None)

        thread = threading.Thread(target=on_its_own_stack, name="pulumi-program", daemon=True)
        thread.start()
        thread.join()
        if failure:
            raise failure[0]
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
