"""`cloudqueue plan`: what `pulumi up` would create on each cloud, without the CLI or credentials.

The stack's real `__main__.py` runs in Pulumi's mock engine with the realistic mocks of
`mocks`; every registration is recorded, grouped by queue and cloud, set against the spec in
an equivalence table, and checked by the project's policy pack. It is an offline plan of a fresh
stack, not a diff against deployed state.
"""

import contextlib
import json
import os
import runpy
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pulumi

from .mocks import Engine, Registration, flatten_config
from ..spec import gcp_safe_burst

OFFLINE_NOTE = (
    "Offline plan from Pulumi's mock engine: what `pulumi up` would register on a new stack, with "
    "realistic stand-in outputs. It is not a diff against deployed state, and no cloud was contacted."
)
CLOUD_OF_COMPONENT = {"cloudqueue:index:AwsQueue": "aws", "cloudqueue:index:AzureQueue": "azure", "cloudqueue:index:GcpQueue": "gcp"}
SHARED_COMPONENTS = {"cloudqueue:index:AzureShared": "azure", "cloudqueue:index:AzureMonitoring": "azure", "cloudqueue:index:GcpShared": "gcp"}
CLOUDS = ("aws", "azure", "gcp")

# The inputs worth a glance per type in the human and markdown views; JSON carries them all.
KEY_INPUTS = {
    "aws:sqs/queue:Queue": ("fifoQueue", "visibilityTimeoutSeconds", "messageRetentionSeconds", "maxMessageSize", "redrivePolicy", "kmsMasterKeyId", "sqsManagedSseEnabled"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("metricName", "dimensions", "statistic", "period", "comparisonOperator", "threshold", "treatMissingData", "alarmActions"),
    "aws:sns/topic:Topic": ("kmsMasterKeyId",),
    "aws:sns/topicSubscription:TopicSubscription": ("protocol", "endpoint"),
    "aws:lambda/function:Function": ("runtime", "handler", "memorySize", "timeout", "architectures"),
    "aws:lambda/eventSourceMapping:EventSourceMapping": ("batchSize", "functionResponseTypes", "scalingConfig"),
    "aws:cloudwatch/logGroup:LogGroup": ("retentionInDays",),
    "azure-native:servicebus:Namespace": ("sku", "disableLocalAuth", "minimumTlsVersion"),
    "azure-native:servicebus:Queue": ("maxDeliveryCount", "lockDuration", "defaultMessageTimeToLive", "deadLetteringOnMessageExpiration", "requiresSession"),
    "azure-native:web:WebApp": ("kind", "httpsOnly", "identity"),
    "azure-native:web:AppServicePlan": ("sku",),
    "azure-native:authorization:RoleAssignment": ("roleDefinitionId", "principalType"),
    "azure-native:monitor:MetricAlert": ("severity", "windowSize", "criteria.allOf", "actions"),
    "azure-native:monitor:ActionGroup": ("groupShortName", "emailReceivers"),
    "gcp:pubsub/subscription:Subscription": ("ackDeadlineSeconds", "messageRetentionDuration", "deadLetterPolicy", "enableMessageOrdering"),
    "gcp:pubsub/topic:Topic": ("kmsKeyName",),
    "gcp:cloudfunctionsv2/function:Function": ("serviceConfig.ingressSettings", "serviceConfig.availableMemory", "serviceConfig.timeoutSeconds", "serviceConfig.maxInstanceCount"),
    "gcp:pubsub/topicIAMMember:TopicIAMMember": ("role", "member"),
    "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember": ("role", "member"),
    "gcp:serviceaccount/iAMMember:IAMMember": ("role", "member"),
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": ("role", "member"),
    "gcp:monitoring/alertPolicy:AlertPolicy": ("combiner", "conditions", "notificationChannels"),
    "gcp:monitoring/notificationChannel:NotificationChannel": ("type", "labels"),
}


@dataclass
class PlannedResource:
    """One registration, as the plan shows it."""

    type: str
    name: str
    parent: str
    protect: bool
    inputs: dict
    urn: str = ""
    depends_on: list[str] = field(default_factory=list)

    def key_inputs(self) -> dict[str, Any]:
        shown = {}
        for path in KEY_INPUTS.get(self.type, ()):
            value: Any = self.inputs
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value is not None:
                shown[path] = value
        return shown


@dataclass
class Plan:
    """Everything `cloudqueue plan` reports about one stack."""

    project: str
    stack: str
    queues: dict[str, dict[str, list[PlannedResource]]]
    shared: dict[str, list[PlannedResource]]
    equivalence: dict[str, list[dict[str, str]]]
    violations: list[Any]
    policy_pack: Optional[str]
    registrations: list[Registration]

    @property
    def resource_count(self) -> int:
        return sum(len(rs) for clouds in self.queues.values() for rs in clouds.values()) + sum(len(rs) for rs in self.shared.values())

    @property
    def mandatory(self) -> list[Any]:
        return [v for v in self.violations if v.level == "mandatory"]

    def to_json(self) -> dict:
        def resources(items: list[PlannedResource]) -> list[dict]:
            return [{"type": r.type, "name": r.name, "parent": r.parent, "protect": r.protect, "inputs": _jsonable(r.inputs), "dependsOn": r.depends_on} for r in items]

        return {
            "project": self.project,
            "stack": self.stack,
            "note": OFFLINE_NOTE,
            "resourceCount": self.resource_count,
            "queues": {
                name: {"clouds": {cloud: resources(items) for cloud, items in clouds.items()}, "equivalence": self.equivalence.get(name, [])}
                for name, clouds in self.queues.items()
            },
            "shared": {cloud: resources(items) for cloud, items in self.shared.items()},
            "policy": {
                "pack": self.policy_pack,
                "mandatory": len(self.mandatory),
                "advisory": len(self.violations) - len(self.mandatory),
                "violations": [{"policy": v.policy, "level": v.level, "message": v.message, "urn": v.urn} for v in self.violations],
            },
        }


def _whole_numbers(value: Any) -> Any:
    """The engine's wire format carries every number as a double; show 30, not 30.0."""
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k != "__provider"}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (pulumi.Asset, pulumi.Archive)):
        return {"asset": getattr(value, "path", None) or type(value).__name__}
    return value


@contextlib.contextmanager
def _in_project(project_dir: Path):
    """Run as `pulumi up` does: in the project folder, with it first on the import path."""
    previous_cwd, previous_path = Path.cwd(), list(sys.path)
    os.chdir(project_dir)
    sys.path.insert(0, str(project_dir))
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        sys.path[:] = previous_path


def run_stack_program(engine: Engine, project_dir: Path, config: dict[str, Any]) -> dict:
    """Run the project's __main__.py on `engine` with `config`, as `pulumi up` does; return its stack outputs."""

    def program() -> dict:
        pulumi.runtime.set_all_config(flatten_config(config))
        runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")
        return pulumi.runtime.get_root_resource().outputs

    with _in_project(project_dir):
        return engine.run(program)


def run_program(project_dir: Path, project: str, stack: str, config: dict[str, Any]) -> Engine:
    """The stack's __main__.py under the mock engine, in preview mode like `pulumi preview`."""
    engine = Engine(preview=True, stack=stack, project=project)
    run_stack_program(engine, project_dir, config)
    return engine


def _group(registrations: list[Registration]) -> tuple[dict[str, dict[str, list[PlannedResource]]], dict[str, list[PlannedResource]]]:
    by_urn = {r.urn: r for r in registrations}
    queues: dict[str, dict[str, list[PlannedResource]]] = {}
    shared: dict[str, list[PlannedResource]] = {}
    for registration in registrations:
        if not registration.custom:
            continue
        queue, cloud, ancestor = None, None, by_urn.get(registration.parent)
        while ancestor is not None:
            if ancestor.type in SHARED_COMPONENTS:
                cloud, queue = SHARED_COMPONENTS[ancestor.type], "<shared>"
            elif ancestor.type in CLOUD_OF_COMPONENT:
                cloud, queue = CLOUD_OF_COMPONENT[ancestor.type], queue or ancestor.name
            elif ancestor.type == "cloudqueue:index:Queue":
                queue = ancestor.name
            ancestor = by_urn.get(ancestor.parent)
        parent = by_urn[registration.parent].name if registration.parent in by_urn else ""
        planned = PlannedResource(
            registration.type,
            registration.name,
            parent,
            registration.protect,
            _whole_numbers(registration.inputs),
            registration.urn,
            [by_urn[d].name for d in registration.dependencies if d in by_urn],
        )
        cloud = cloud or registration.type.split(":")[0]
        if queue == "<shared>":
            shared.setdefault(cloud, []).append(planned)
        else:
            queues.setdefault(queue or "<other>", {}).setdefault(cloud, []).append(planned)
    return queues, shared


def _find(resources: list[PlannedResource], type_: str, role: str) -> Optional[PlannedResource]:
    """The child of `type_` named `<component>-<role>` (children are named after their role)."""
    return next((r for r in resources if r.type == type_ and r.name == f"{r.parent}-{role}"), None)


def _host_json(resources: list[PlannedResource]) -> dict:
    package = _find(resources, "pulumi-python:dynamic/cloudqueue:FunctionAppPackage", "package")
    if package is None:
        return {}
    with zipfile.ZipFile(package.inputs["package_path"]) as archive:
        return json.loads(archive.read("host.json"))


def equivalence(clouds: dict[str, list[PlannedResource]]) -> list[dict[str, str]]:
    """Each spec field as the concrete value every cloud got, read back from what was registered."""
    aws, azure, gcp = (clouds.get(c, []) for c in CLOUDS)
    sqs, dlq = _find(aws, "aws:sqs/queue:Queue", "queue"), _find(aws, "aws:sqs/queue:Queue", "dead-letter")
    function, mapping = _find(aws, "aws:lambda/function:Function", "consumer"), _find(aws, "aws:lambda/eventSourceMapping:EventSourceMapping", "consumer-trigger")
    bus, app = _find(azure, "azure-native:servicebus:Queue", "queue"), _find(azure, "azure-native:web:WebApp", "consumer")
    host_json = _host_json(azure) if azure else {}  # read once from the package zip
    host = host_json.get("extensions", {}).get("serviceBus", {})
    subscription = _find(gcp, "gcp:pubsub/subscription:Subscription", "subscription")
    dead_letter_subscription = _find(gcp, "gcp:pubsub/subscription:Subscription", "dead-letter-subscription")
    cloud_function = _find(gcp, "gcp:cloudfunctionsv2/function:Function", "consumer")

    def get(resource: Optional[PlannedResource], *path: str, default: Any = "") -> str:
        if resource is None:
            return ""
        value: Any = resource.inputs
        for part in path:
            value = json.loads(value) if isinstance(value, str) and value.startswith("{") else value
            value = value.get(part) if isinstance(value, dict) else None
        return str(default if value is None else value)

    scale = (app.inputs.get("functionAppConfig", {}).get("scaleAndConcurrency", {}) if app else {})
    calls = host.get("maxConcurrentSessions", host.get("maxConcurrentCalls", ""))
    service = (cloud_function.inputs.get("serviceConfig", {}) if cloud_function else {})
    # Pub/Sub counts a push Cloud Run refuses (429) as a delivery attempt; this is the burst that
    # cannot dead-letter a message the function never ran, at the longest handler time.
    gcp_burst = (
        gcp_safe_burst(int(service["maxInstanceCount"]) * int(service.get("maxInstanceRequestConcurrency", 1)), int(get(subscription, "deadLetterPolicy", "maxDeliveryAttempts")), service["timeoutSeconds"])
        if cloud_function and subscription
        else None
    )
    alarm_rows = _alarm_rows(aws, azure, gcp)
    rows = [
        ("max_delivery_attempts", get(sqs, "redrivePolicy", "maxReceiveCount"), get(bus, "maxDeliveryCount"), get(subscription, "deadLetterPolicy", "maxDeliveryAttempts"), ""),
        ("message_retention_seconds", get(sqs, "messageRetentionSeconds"), get(bus, "defaultMessageTimeToLive"), get(subscription, "messageRetentionDuration"), "expired Service Bus messages are dead-lettered"),
        ("dead_letter_retention_seconds", get(dlq, "messageRetentionSeconds"), "until read" if bus else "", get(dead_letter_subscription, "messageRetentionDuration"), "$DeadLetterQueue does not expire messages"),
        ("visibility_timeout_seconds", get(sqs, "visibilityTimeoutSeconds"), get(bus, "lockDuration"), get(subscription, "ackDeadlineSeconds"), "Service Bus lock capped at PT5M, renewed by the Functions host"),
        ("fifo", get(sqs, "fifoQueue", default="False"), get(bus, "requiresSession"), get(subscription, "enableMessageOrdering"), "sessions / ordering keys"),
        ("consumer.timeout_seconds", get(function, "timeout"), str(host_json.get("functionTimeout", "")), str(service.get("timeoutSeconds", "")), ""),
        ("consumer.memory_mb", get(function, "memorySize"), str(scale.get("instanceMemoryMB", "")), str(service.get("availableMemory", "")), "Azure rounds up to a Flex instance size"),
        ("consumer.max_concurrency", get(mapping, "scalingConfig", "maximumConcurrency"), f"{scale.get('maximumInstanceCount')} x {calls}" if app else "", str(service.get("maxInstanceCount", "")), "Azure: instances x calls per instance"),
        ("consumer.batch_size", get(mapping, "batchSize"), "1" if app else "", "1" if cloud_function else "", "Service Bus and Pub/Sub push deliver one message per call"),
        (
            "under overload",
            "waits in the queue" if mapping else "",
            f"waits unlocked in the queue (prefetch {host.get('prefetchCount', '')})" if app else "",
            f"a burst of at most {gcp_burst} never dead-letters a message unrun" if gcp_burst is not None else "",
            "Google Cloud: pushes refused with 429 count as delivery attempts; raise max_delivery_attempts or consumer.max_concurrency",
        ),
        (
            "max_message_bytes",
            get(sqs, "maxMessageSize"),
            "262144 (Standard tier, fixed)" if bus else "",
            "10000000 (fixed)" if subscription else "",
            "set on both SQS queues; Service Bus and Pub/Sub have no per-queue setting",
        ),
        *alarm_rows,
    ]
    return [{"field": f, "aws": a, "azure": z, "gcp": g, "note": n} for f, a, z, g, n in rows]


def _alarm_rows(aws: list[PlannedResource], azure: list[PlannedResource], gcp: list[PlannedResource]) -> list[tuple[str, str, str, str, str]]:
    """The dead-letter alarms per cloud, what they watch and whom they notify, and the operators' grants."""
    count, age = _find(aws, "aws:cloudwatch/metricAlarm:MetricAlarm", "dead-letter-alarm"), _find(aws, "aws:cloudwatch/metricAlarm:MetricAlarm", "dead-letter-age-alarm")
    alert = _find(azure, "azure-native:monitor:MetricAlert", "dead-letter-alarm")
    policy = _find(gcp, "gcp:monitoring/alertPolicy:AlertPolicy", "dead-letter-alarm")

    def cloudwatch(alarm: Optional[PlannedResource]) -> str:
        if alarm is None:
            return "none" if aws else ""
        i = alarm.inputs
        return f"{i['metricName']} {i['statistic']} > {i['threshold']} over {i['period']} s, {len(i.get('alarmActions') or [])} action(s)"

    def stackdriver(index: int) -> str:
        if policy is None:
            return "none" if gcp else ""
        condition = policy.inputs["conditions"][index]["conditionThreshold"]
        metric = str(condition["filter"]).rsplit("/", 1)[-1].rstrip('"')
        return f"{metric} > {condition['thresholdValue']}, {len(policy.inputs.get('notificationChannels') or [])} channel(s)"

    azure_alert = ""
    if alert is not None:
        criterion = alert.inputs["criteria"]["allOf"][0]
        azure_alert = f"{criterion['metricName']} {criterion['timeAggregation']} > {criterion['threshold']} for EntityName over {alert.inputs['windowSize']}, {len(alert.inputs.get('actions') or [])} action group(s)"
    elif azure:
        azure_alert = "none"

    def granted(resources: list[PlannedResource], *types: str) -> int:
        return len([r for r in resources if r.type in types and r.name.startswith(f"{r.parent}-operator-")])

    # Two grants per operator on Azure and Google Cloud.
    operators = (
        f"operator policy (exported); queue-policy grants for {len(_operator_principals(aws))} operator(s)" if aws else "",
        f"{granted(azure, 'azure-native:authorization:RoleAssignment') // 2} operator(s): Data Sender + Data Receiver on the queue" if azure else "",
        f"{granted(gcp, 'gcp:pubsub/topicIAMMember:TopicIAMMember', 'gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember') // 2} operator(s): publisher on the topic + subscriber on the dead-letter subscription" if gcp else "",
    )
    return [
        ("dead-letter alarm", cloudwatch(count), azure_alert, stackdriver(0), "alarms.notify: an SNS topic, action group or notification channel per cloud"),
        (
            "dead-letter age alarm",
            cloudwatch(age),
            "not needed: $DeadLetterQueue does not expire messages" if azure else "",
            stackdriver(1),
            "half of dead_letter_retention_seconds, before the cloud deletes the message",
        ),
        ("operators", *operators, "the rights of `cloudqueue send` and `cloudqueue dlq` on this queue and its dead-letter queue"),
    ]


def _operator_principals(aws: list[PlannedResource]) -> list[str]:
    """The principals the dead-letter queue's policy grants the operators' actions."""
    policy = _find(aws, "aws:sqs/queuePolicy:QueuePolicy", "dead-letter-policy")
    document = json.loads(policy.inputs["policy"]) if policy is not None and isinstance(policy.inputs.get("policy"), str) else {}
    return [p for s in document.get("Statement", []) if s.get("Sid") == "AllowListedOperators" for p in s["Principal"]["AWS"]]


def build(project_dir: Path, stack: str, config: dict[str, Any], project: str) -> Plan:
    """Run the stack offline and assemble its plan (the spec must already be valid)."""
    from . import policy_check

    engine = run_program(project_dir, project, stack, config)
    registrations = engine.all()
    queues, shared = _group(registrations)
    policies = policy_check.load_pack(project_dir)
    violations = policy_check.Analyzer(policies, policy_check.stack_policy_config(project_dir, stack)).program(registrations) if policies else []
    return Plan(
        project=project,
        stack=stack,
        queues=queues,
        shared=shared,
        equivalence={name: equivalence(clouds) for name, clouds in queues.items()},
        violations=violations,
        policy_pack="policy/cloudqueue_policy.py" if policies else None,
        registrations=registrations,
    )


# --- views ----------------------------------------------------------------------------------------


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(_jsonable(value), separators=(",", ":"))
    return text if len(text) <= width else text[: width - 1] + "…"


def _sections(plan: Plan) -> list[tuple[str, str, list[PlannedResource]]]:
    sections = [(f"queue {name}", cloud, clouds[cloud]) for name, clouds in plan.queues.items() for cloud in sorted(clouds)]
    return sections + [("shared by every queue", cloud, items) for cloud, items in sorted(plan.shared.items())]


def render_text(plan: Plan) -> str:
    lines = [f"cloudqueue plan: stack {plan.stack} of project {plan.project}, {plan.resource_count} resources", OFFLINE_NOTE, ""]
    for title, cloud, items in _sections(plan):
        lines.append(f"{title} / {cloud} ({len(items)} resources)")
        for r in items:
            shown = " ".join(f"{k}={_short(v)}" for k, v in r.key_inputs().items())
            lines.append(f"  + {r.type}  {r.name}  (parent {r.parent}{', protected' if r.protect else ''})  {shown}".rstrip())
        lines.append("")
    for name, rows in plan.equivalence.items():
        lines.append(f"equivalence for queue {name}: field | aws | azure | gcp | note")
        lines += [f"  {row['field']} | {row['aws']} | {row['azure']} | {row['gcp']} | {row['note']}" for row in rows]
        lines.append("")
    lines.append(_policy_summary(plan))
    lines += [f"  {v.level} {v.policy}: {v.message.splitlines()[-1]} [{v.urn.rsplit('::', 1)[-1]}]" for v in plan.violations]
    return "\n".join(lines) + "\n"


def _policy_summary(plan: Plan) -> str:
    if plan.policy_pack is None:
        return "policy pack: none found (policy/cloudqueue_policy.py)"
    return f"policy pack {plan.policy_pack}: {len(plan.mandatory)} mandatory, {len(plan.violations) - len(plan.mandatory)} advisory violation(s)"


def render_markdown(plan: Plan) -> str:
    lines = [f"## cloudqueue plan: `{plan.stack}` ({plan.resource_count} resources)", "", f"> {OFFLINE_NOTE}", ""]
    for title, cloud, items in _sections(plan):
        lines += [f"### {title} / {cloud}", "", "| type | name | parent | key inputs |", "| --- | --- | --- | --- |"]
        for r in items:
            shown = ", ".join(f"`{k}={_short(v, 48)}`" for k, v in r.key_inputs().items()).replace("|", "\\|")
            lines.append(f"| `{r.type}` | `{r.name}` | `{r.parent}`{' (protected)' if r.protect else ''} | {shown} |")
        lines.append("")
    for name, rows in plan.equivalence.items():
        lines += [f"### equivalence: {name}", "", "| field | AWS | Azure | GCP | note |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| `{r['field']}` | {r['aws']} | {r['azure']} | {r['gcp']} | {r['note']} |" for r in rows]
        lines.append("")
    lines += [f"### {_policy_summary(plan)}", ""]
    lines += [f"- **{v.level}** `{v.policy}`: {v.message.splitlines()[-1]}" for v in plan.violations]
    return "\n".join(lines) + "\n"


def render_rich(plan: Plan, console: Any) -> None:
    from rich.panel import Panel
    from rich.table import Table

    console.print(Panel(OFFLINE_NOTE, title=f"cloudqueue plan: {plan.stack} ({plan.resource_count} resources)", border_style="yellow"))
    for title, cloud, items in _sections(plan):
        table = Table(title=f"{title} / {cloud}", title_justify="left", show_lines=False)
        for column in ("type", "name", "parent", "key inputs"):
            table.add_column(column, overflow="fold")
        for r in items:
            table.add_row(r.type, r.name, r.parent + (" (protected)" if r.protect else ""), " ".join(f"{k}={_short(v, 40)}" for k, v in r.key_inputs().items()))
        console.print(table)
    for name, rows in plan.equivalence.items():
        table = Table(title=f"equivalence: {name}", title_justify="left")
        for column in ("field", "AWS", "Azure", "GCP", "note"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(row["field"], row["aws"], row["azure"], row["gcp"], row["note"])
        console.print(table)
    console.print(_policy_summary(plan), style="red" if plan.mandatory else "green")
    for v in plan.violations:
        console.print(f"  {v.level} {v.policy}: {v.message.splitlines()[-1]}", style="red" if v.level == "mandatory" else "yellow")


def graph(plan: Plan, mermaid: bool) -> str:
    """The resource graph: one cluster per cloud, parent edges dotted, dependency edges solid."""
    ids = {r.urn: f"n{i}" for i, r in enumerate(plan.registrations)}
    by_urn = {r.urn: r for r in plan.registrations}
    clusters: dict[str, list[Registration]] = {}
    for r in plan.registrations:
        clusters.setdefault(r.type.split(":")[0] if r.custom else "cloudqueue", []).append(r)
    edges = []
    for r in plan.registrations:
        if r.parent in by_urn:
            edges.append((ids[r.parent], ids[r.urn], "parent"))
        edges += [(ids[r.urn], ids[d], "depends") for d in dict.fromkeys(r.dependencies) if d in by_urn]
    if mermaid:
        lines = ["flowchart LR"]
        for cluster, members in clusters.items():
            lines.append(f"  subgraph {cluster.replace('-', '_')}[{cluster}]")
            lines += [f'    {ids[m.urn]}["{m.name}<br/><small>{m.type}</small>"]' for m in members]
            lines.append("  end")
        lines += [f"  {a} {'-.->' if kind == 'parent' else '-->'} {b}" for a, b, kind in edges]
        return "\n".join(lines) + "\n"
    lines = ["digraph cloudqueue {", "  rankdir=LR;", '  node [shape=box, fontsize=10];']
    for index, (cluster, members) in enumerate(clusters.items()):
        lines.append(f'  subgraph cluster_{index} {{ label="{cluster}";')
        lines += [f'    {ids[m.urn]} [label="{m.name}\\n{m.type}"];' for m in members]
        lines.append("  }")
    lines += [f"  {a} -> {b}{' [style=dotted]' if kind == 'parent' else ''};" for a, b, kind in edges]
    return "\n".join(lines + ["}"]) + "\n"
