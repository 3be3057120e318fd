"""cloudqueue's rules about the messages: dead-lettering, dead-letter alarms, encryption at rest,
customer keys, the Lambda visibility rule and protection; and the resource types and helpers
every rule module shares. cloudqueue_policy.py lists them in the pack.

Each rule reads the engine's camelCase property names. During preview a value that is not known
yet raises pulumi_policy's UnknownValueError when read; the analyzer then reports the rule as not
checkable rather than as a violation, so rules read values directly and never guess them.
Resource rules see a resource's inputs; stack rules see every resource's outputs.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

SQS_QUEUE = "aws:sqs/queue:Queue"
SQS_QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
SQS_REDRIVE_POLICY = "aws:sqs/redrivePolicy:RedrivePolicy"
SQS_REDRIVE_ALLOW_POLICY = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
IAM_POLICY_TYPES = ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy")
LAMBDA_FUNCTION = "aws:lambda/function:Function"
EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SERVICE_BUS_NAMESPACE = "azure-native:servicebus:Namespace"
SERVICE_BUS_QUEUE = "azure-native:servicebus:Queue"
WEB_APP = "azure-native:web:WebApp"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
INSIGHTS = "azure-native:applicationinsights:Component"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
PROJECT_IAM_TYPES = ("gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding")
PUBSUB_TOPIC = "gcp:pubsub/topic:Topic"
PUBSUB_SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
CLOUD_FUNCTION_TYPES = ("gcp:cloudfunctionsv2/function:Function", "gcp:cloudfunctions/function:Function")
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
METRIC_ALERT = "azure-native:monitor:MetricAlert"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
# Everything that holds messages: protected in a stack that asks for it.
DATA_TYPES = (SQS_QUEUE, SERVICE_BUS_QUEUE, SERVICE_BUS_NAMESPACE, PUBSUB_TOPIC, PUBSUB_SUBSCRIPTION)
# Policy config `{"required": true}` turns a stack-dependent rule on (`--policy-pack-config`).
REQUIRED_SCHEMA = PolicyConfigSchema(properties={"required": {"type": "boolean", "default": False}})


def _on(types: Iterable[str] | str, check: Callable[[Any], Optional[str]]) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """A resource validation that runs `check(props)` on the given types and reports its message."""
    wanted = (types,) if isinstance(types, str) else tuple(types)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type in wanted:
            message = check(args.props)
            if message:
                report_violation(message, None)

    return validate


def _document(value: Any) -> dict:
    """An IAM or SQS policy document, given as JSON text or as a mapping."""
    if isinstance(value, str):
        try:
            return json.loads(value) if value else {}
        except ValueError:
            return {}
    return dict(value or {})


def _statements(document: dict) -> list[dict]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


# --- Dead-lettering -----------------------------------------------------------------------------


def check_sqs_dead_letter_queues(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every SQS queue that is not itself a dead-letter queue redrives to one."""
    resources = args.resources
    queues = [r for r in resources if r.resource_type == SQS_QUEUE]
    dead_letter_arns, redriven_urls, dead_letter_urls = set(), set(), set()
    for resource in resources:
        if resource.resource_type in (SQS_QUEUE, SQS_REDRIVE_POLICY):
            target = _document(resource.props.get("redrivePolicy")).get("deadLetterTargetArn")
            if target:
                dead_letter_arns.add(target)
        if resource.resource_type == SQS_REDRIVE_POLICY:
            redriven_urls.add(resource.props.get("queueUrl"))
        if resource.resource_type == SQS_REDRIVE_ALLOW_POLICY:
            dead_letter_urls.add(resource.props.get("queueUrl"))
    for queue in queues:
        props = queue.props
        if props.get("arn") in dead_letter_arns or props.get("url") in dead_letter_urls or props.get("redriveAllowPolicy"):
            continue
        redrive = _document(props.get("redrivePolicy"))
        if props.get("url") in redriven_urls:
            continue
        if not redrive.get("deadLetterTargetArn") or not redrive.get("maxReceiveCount"):
            report_violation(
                f"SQS queue {queue.name!r} has no redrive policy to a dead-letter queue: a message that always fails is "
                "retried until it expires and is lost. Set redrivePolicy {deadLetterTargetArn, maxReceiveCount}.",
                queue.urn,
            )


def check_push_subscription_dead_letter_policy(props: Any) -> Optional[str]:
    push = props.get("pushConfig") or {}
    if not push.get("pushEndpoint"):
        return None
    policy = props.get("deadLetterPolicy") or {}
    if not policy.get("deadLetterTopic") or not policy.get("maxDeliveryAttempts"):
        return (
            "Pub/Sub push subscription has no dead-letter policy: a message its consumer always rejects is redelivered "
            "until retention ends. Set deadLetterPolicy {deadLetterTopic, maxDeliveryAttempts}."
        )
    return None


def check_service_bus_dead_letter_on_expiration(props: Any) -> Optional[str]:
    if props.get("deadLetteringOnMessageExpiration") is not True:
        return "Service Bus queue drops expired messages: set deadLetteringOnMessageExpiration: true so they reach $DeadLetterQueue."
    return None


# --- Every dead-letter queue is watched ------------------------------------------------------------


def check_sqs_dead_letter_queues_have_alarms(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every SQS queue some queue redrives to has a CloudWatch alarm on its visible messages."""
    targets = {_document(r.props.get("redrivePolicy")).get("deadLetterTargetArn") for r in args.resources if r.resource_type in (SQS_QUEUE, SQS_REDRIVE_POLICY)}
    watched = {
        (alarm.props.get("dimensions") or {}).get("QueueName")
        for alarm in args.resources
        if alarm.resource_type == METRIC_ALARM and alarm.props.get("namespace") == "AWS/SQS" and alarm.props.get("metricName") == "ApproximateNumberOfMessagesVisible"
    }
    for queue in (r for r in args.resources if r.resource_type == SQS_QUEUE and r.props.get("arn") in targets):
        if queue.props.get("name") not in watched:
            report_violation(
                f"SQS dead-letter queue {queue.name!r} has no CloudWatch alarm on ApproximateNumberOfMessagesVisible: a failed message "
                "waits there unseen until it expires. Keep alarms.dead_letter on (cloudqueue's default) or add a MetricAlarm with dimensions QueueName.",
                queue.urn,
            )


def check_service_bus_dead_letters_have_alerts(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every Service Bus queue's $DeadLetterQueue has a metric alert on DeadletteredMessages for that queue."""
    watched = []  # (namespace scope, queue names) per alert criterion
    for alert in (r for r in args.resources if r.resource_type == METRIC_ALERT):
        for criterion in (alert.props.get("criteria") or {}).get("allOf") or []:
            if criterion.get("metricName") != "DeadletteredMessages":
                continue
            names = {v for d in criterion.get("dimensions") or [] if d.get("name") == "EntityName" and d.get("operator", "Include") == "Include" for v in d.get("values") or []}
            watched += [(str(scope).lower(), names) for scope in alert.props.get("scopes") or []]
    for queue in (r for r in args.resources if r.resource_type == SERVICE_BUS_QUEUE):
        name, namespace = queue.props.get("name"), queue.props.get("namespaceName")
        covered = any(
            (name in names or "*" in names) and (namespace is None or scope.endswith(f"/namespaces/{str(namespace).lower()}"))
            for scope, names in watched
        )
        if not covered:
            report_violation(
                f"Service Bus queue {queue.name!r} has no metric alert on DeadletteredMessages for its EntityName: a failed message waits "
                "in $DeadLetterQueue unseen. Keep alarms.dead_letter on (cloudqueue's default) or add a MetricAlert on the namespace.",
                queue.urn,
            )


_SUBSCRIPTION_ID = re.compile(r'resource\.labels?\.(?:"subscription_id"|subscription_id)\s*=\s*"([^"]+)"')


def check_pubsub_dead_letter_subscriptions_have_alerts(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every dead-letter topic has a subscription, and an alert policy watches its undelivered messages."""
    subscriptions = [r for r in args.resources if r.resource_type == PUBSUB_SUBSCRIPTION]
    watched = {
        match
        for policy in args.resources
        if policy.resource_type == ALERT_POLICY
        for condition in policy.props.get("conditions") or []
        for text in [str((condition.get("conditionThreshold") or {}).get("filter") or "")]
        if "pubsub.googleapis.com/subscription/num_undelivered_messages" in text
        for match in _SUBSCRIPTION_ID.findall(text)
    }
    for source in subscriptions:
        dead_letter_topic = (source.props.get("deadLetterPolicy") or {}).get("deadLetterTopic")
        if not dead_letter_topic:
            continue
        held = [s for s in subscriptions if s.props.get("topic") == dead_letter_topic]
        if not held:
            report_violation(
                f"Pub/Sub dead-letter topic {dead_letter_topic!r} of {source.name!r} has no subscription: a topic keeps nothing, so "
                "dead-lettered messages are dropped and no alert can see them. Add a pull subscription on it.",
                source.urn,
            )
        for subscription in held:
            if subscription.props.get("name") not in watched:
                report_violation(
                    f"Pub/Sub dead-letter subscription {subscription.name!r} has no alert policy on num_undelivered_messages: a failed "
                    "message waits there unseen until it expires. Keep alarms.dead_letter on (cloudqueue's default) or add an AlertPolicy "
                    "whose filter names resource.label.subscription_id.",
                    subscription.urn,
                )


# --- Encryption at rest -------------------------------------------------------------------------


def check_sqs_encrypted(props: Any) -> Optional[str]:
    if props.get("sqsManagedSseEnabled") is True or props.get("kmsMasterKeyId"):
        return None
    return "SQS queue is not encrypted at rest: set sqsManagedSseEnabled: true or kmsMasterKeyId (CKV_AWS_27)."


def check_pubsub_cmek(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Keyed topics keep their dead letters under the same key; with `required`, every topic is keyed."""
    required = bool(args.get_config().get("required"))
    topics = {r.props.get("id"): r for r in args.resources if r.resource_type == PUBSUB_TOPIC}
    for topic in topics.values():
        if required and not topic.props.get("kmsKeyName"):
            report_violation(f"Pub/Sub topic {topic.name!r} is not encrypted with a customer-managed key (kmsKeyName), which this stack requires.", topic.urn)
    for subscription in (r for r in args.resources if r.resource_type == PUBSUB_SUBSCRIPTION):
        source = topics.get(subscription.props.get("topic"))
        dead_letter = topics.get((subscription.props.get("deadLetterPolicy") or {}).get("deadLetterTopic"))
        if source is None or dead_letter is None:
            continue
        key = source.props.get("kmsKeyName")
        if key and dead_letter.props.get("kmsKeyName") != key:
            report_violation(
                f"Pub/Sub dead-letter topic {dead_letter.name!r} is not encrypted with {key!r}, the key of its source topic "
                f"{source.name!r}: dead-lettered messages would leave the key's protection.",
                dead_letter.urn,
            )


# --- Customer-managed keys, where the stack requires them ------------------------------------------


def _required_key(types: tuple[str, ...] | str, key: str, message: str) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """With policy config `required: true`, every resource of `types` names a customer key in `key`."""
    check = _on(types, lambda props: None if props.get(key) else message)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.get_config().get("required"):
            check(args, report_violation)

    return validate


# (name, types, property, what is encrypted, Checkov id, message) of the rules `required` turns on.
CUSTOMER_KEY_RULES = (
    ("lambda-environment-customer-key", LAMBDA_FUNCTION, "kmsKeyArn", "Lambda environments are encrypted", "Checkov CKV_AWS_173",
     "Lambda environment is encrypted with an AWS-managed key: set kmsKeyArn (encryption_keys.aws), which this stack requires (CKV_AWS_173)."),
    ("log-group-customer-key", LOG_GROUP, "kmsKeyId", "CloudWatch log groups are encrypted", "Checkov CKV_AWS_158",
     "CloudWatch log group is not encrypted with a customer-managed key: set kmsKeyId (encryption_keys.aws), which this stack requires (CKV_AWS_158)."),
    ("gcp-function-customer-key", CLOUD_FUNCTION_TYPES, "kmsKeyName", "Cloud Functions encrypt their source, image and instances", "no Checkov check",
     "Cloud Function is not encrypted with a customer-managed key: set kmsKeyName (encryption_keys.gcp), which this stack requires."),
)


# --- Lambda and the queue it consumes -------------------------------------------------------------


def check_lambda_visibility_covers_timeout(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """An SQS event source's queue keeps messages hidden at least as long as the function may run."""
    queues = {r.props.get("arn"): r for r in args.resources if r.resource_type == SQS_QUEUE}
    functions: dict[Any, PolicyResource] = {}
    for function in (r for r in args.resources if r.resource_type == LAMBDA_FUNCTION):
        functions[function.props.get("arn")] = functions[function.props.get("name")] = function
    for mapping in (r for r in args.resources if r.resource_type == EVENT_SOURCE_MAPPING):
        queue = queues.get(mapping.props.get("eventSourceArn"))
        function = functions.get(mapping.props.get("functionName")) or functions.get(mapping.props.get("functionArn"))
        if queue is None or function is None:
            continue
        visibility = queue.props.get("visibilityTimeoutSeconds")
        visibility = 30 if visibility is None else visibility  # SQS's default
        timeout = function.props.get("timeout") or 3  # Lambda's default
        if visibility < timeout:
            report_violation(
                f"SQS queue {queue.name!r} hides a message for {visibility:g} s but Lambda {function.name!r} may run {timeout:g} s: the "
                "message reappears mid-run and is processed twice (Lambda also rejects such an event source). Make the "
                "visibility timeout at least the function timeout (AWS advises 6x).",
                mapping.urn,
            )


# --- Protection -----------------------------------------------------------------------------------


def check_queues_protected(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """With `required` (cloudqueue:protect in the stack), every queue, topic and subscription is protected."""
    if not args.get_config().get("required"):
        return
    for resource in args.resources:
        if resource.resource_type in DATA_TYPES and not resource.opts.protect:
            report_violation(f"{resource.resource_type} {resource.name!r} holds messages but is not protected, as this stack requires.", resource.urn)
