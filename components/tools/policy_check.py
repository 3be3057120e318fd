"""Runs a policy pack over recorded resources the way the Pulumi engine does, without the CLI.

Used by `cloudqueue plan` and by the policy tests.

Each recorded resource becomes a real analyzer request (camelCase properties in a protobuf Struct,
`protect` and the parent in its options) and goes through pulumi_policy's own analyzer servicer:
the same deserialisation, unknown-value proxy, ResourceValidationArgs and StackValidationArgs, and
policy config that `pulumi preview --policy-pack policy` uses. Nothing starts a gRPC server, and
the pack's __main__.py is never imported.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs, ResourceValidationPolicy
from pulumi_policy.deserialize import deserialize_properties, serialize_properties
from pulumi_policy.policy import _NotApplicableError, _PolicyAnalyzerServicer
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from .mocks import Registration

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The engine's sentinel for a value not known during preview."""


@dataclass(frozen=True)
class Violation:
    """One diagnostic the pack reported."""

    policy: str
    level: str
    message: str
    urn: str


def _struct(props: dict) -> struct_pb2.Struct:
    return json_format.ParseDict(serialize_properties(props), struct_pb2.Struct())


class Analyzer:
    """The policy pack behind pulumi_policy's analyzer servicer, configured like `--policy-pack-config`."""

    def __init__(self, policies: list, config: Optional[dict[str, Any]] = None):
        self.policies = policies
        # A policy's config is its properties, optionally with an `enforcementLevel`, or just a level
        # ("advisory"), as the CLI's --policy-pack-config file takes it.
        self.levels = {p.name: p.enforcement_level or EnforcementLevel.MANDATORY for p in self.policies}
        self.config: dict[str, dict] = {}
        for name, values in (config or {}).items():
            values = {"enforcementLevel": values} if isinstance(values, str) else dict(values)
            if "enforcementLevel" in values:
                self.levels[name] = EnforcementLevel(values.pop("enforcementLevel"))
            self.config[name] = values
        self.servicer = _PolicyAnalyzerServicer("cloudqueue", "0.1.0", self.policies, EnforcementLevel.MANDATORY)
        if config:
            request = analyzer_pb2.ConfigureAnalyzerRequest(
                policyConfig={
                    name: analyzer_pb2.PolicyConfig(enforcementLevel=self.servicer._map_enforcement_level(self.levels[name]), properties=_struct(values))
                    for name, values in self.config.items()
                }
            )
            self.servicer.Configure(request, None)

    @staticmethod
    def _violations(response, urn: str = "") -> list[Violation]:
        """The response's violations; a resource's own violations carry its URN, as the engine shows them."""
        return [
            Violation(d.policyName, analyzer_pb2.EnforcementLevel.Name(d.enforcementLevel).lower(), d.message, d.urn or urn)
            for d in response.diagnostics
            if "can't run policy" not in d.message
        ]

    def resource(self, type_: str, props: dict, name: str = "subject", protect: bool = False, urn: str = "") -> list[Violation]:
        """Analyze one resource's inputs, as the engine does before it registers it."""
        urn = urn or f"urn:pulumi:dev::cloudqueue::{type_}::{name}"
        request = analyzer_pb2.AnalyzeRequest(type=type_, properties=_struct(props), urn=urn, name=name, options=analyzer_pb2.AnalyzerResourceOptions(protect=protect))
        return self._violations(self.servicer.Analyze(request, None), urn)

    def unknown_skips(self, type_: str, props: dict) -> list[str]:
        """The diagnostics saying a policy could not run because a value is unknown during preview."""
        request = analyzer_pb2.AnalyzeRequest(type=type_, properties=_struct(props), urn=f"urn:pulumi:dev::cloudqueue::{type_}::subject", name="subject")
        return [d.policyName for d in self.servicer.Analyze(request, None).diagnostics if "can't run policy" in d.message]

    def stack(self, resources: Iterable[tuple[str, str, dict, bool]]) -> list[Violation]:
        """Analyze a whole stack: (type, name, outputs, protect) per resource."""
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=type_, properties=_struct(props), urn=f"urn:pulumi:dev::cloudqueue::{type_}::{name}", name=name, options=analyzer_pb2.AnalyzerResourceOptions(protect=protect)
                )
                for type_, name, props, protect in resources
            ]
        )
        return self._violations(self.servicer.AnalyzeStack(request, None))

    def program(self, registrations: Iterable[Registration]) -> list[Violation]:
        """Every custom resource a mocked program registered: inputs per resource, outputs for the stack.

        Each resource's inputs become one ResourceValidationArgs, read once through pulumi_policy's
        own deserialiser and unknown-value proxy and shared by every resource policy (the servicer
        would decode them again for each policy, which a stack of thousands of resources feels).
        """
        custom = [r for r in registrations if r.custom]
        found: list[Violation] = []
        resource_policies = [p for p in self.policies if isinstance(p, ResourceValidationPolicy) and self.levels[p.name] != EnforcementLevel.DISABLED]
        for registration in custom:
            props = unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(_struct(_plain(registration.inputs)))))
            options = PolicyResourceOptions(registration.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], registration.parent or None)
            for policy in resource_policies:
                config = self.config.get(policy.name, {})
                args = ResourceValidationArgs(registration.type, props, registration.urn, registration.name, options, None, config)
                level = self.levels[policy.name].value

                def report(message: str, urn: Optional[str] = None, policy=policy, level=level, registration=registration) -> None:
                    found.append(Violation(policy.name, level, f"{policy.description}\n{message}", urn or registration.urn))

                try:
                    policy.validate(args, report)
                except (UnknownValueError, _NotApplicableError):
                    pass  # not checkable during preview, or not applicable: no violation, as under the CLI
        stack_request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    properties=_struct(_plain(r.outputs)),
                    urn=r.urn,
                    name=r.name,
                    parent=r.parent,
                    dependencies=r.dependencies,
                    options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect, parent=r.parent),
                )
                for r in custom
            ]
        )
        return found + self._violations(self.servicer.AnalyzeStack(stack_request, None))


def _plain(props: Any) -> Any:
    """Recorded properties without the dynamic provider's pickled code (a secret, which the engine never shows a pack)."""
    if isinstance(props, dict):
        return {k: _plain(v) for k, v in props.items() if k != "__provider"}
    if isinstance(props, list):
        return [_plain(v) for v in props]
    return props


def mandatory(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.level == "mandatory"]


def load_pack(project_dir: Path) -> Optional[list]:
    """The rules of the project's pack (policy/cloudqueue_policy.py), or None when it has none."""
    rules = project_dir / "policy" / "cloudqueue_policy.py"
    if not rules.is_file():
        return None
    # The pack imports its rule modules from its own folder, as the Pulumi CLI runs it there.
    sys.path.insert(0, str(rules.parent))
    try:
        spec = importlib.util.spec_from_file_location("cloudqueue_policy", rules)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(rules.parent))
    return module.POLICIES


def stack_policy_config(project_dir: Path, stack: str) -> dict[str, dict]:
    """What `--policy-pack-config policy/<stack>.json` gives the pack; {} when there is no such file."""
    path = project_dir / "policy" / f"{stack}.json"
    return json.loads(path.read_text()) if path.is_file() else {}
