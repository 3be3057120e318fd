"""cloudqueue's CrossGuard rules, importable without starting the policy pack's server.

Each rule reads the engine's camelCase property names. During preview a value that is not known
yet raises pulumi_policy's UnknownValueError when read; the analyzer then reports the rule as not
checkable rather than as a violation, so rules read values directly and never guess them.
Resource rules see a resource's inputs; stack rules see every resource's outputs.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
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


# --- No public access ---------------------------------------------------------------------------


def _public_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(value == "*" or "*" in _as_list(value) for value in principal.values())
    return False


def check_sqs_policy_no_public_principal(props: Any) -> Optional[str]:
    for statement in _statements(_document(props.get("policy"))):
        if statement.get("Effect") == "Allow" and (_public_principal(statement.get("Principal")) or statement.get("NotPrincipal")):
            return f"SQS queue policy allows a public principal ({statement.get('Principal')!r}): name the principals (CKV_AWS_168, CKV_AWS_387)."
    return None


def check_no_wildcard_sqs_actions(props: Any) -> Optional[str]:
    for statement in _statements(_document(props.get("policy"))):
        if statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action", [])) + _as_list(statement.get("NotAction", []))
        wildcards = [action for action in actions if action in ("*", "sqs:*") or statement.get("NotAction")]
        if wildcards:
            return f"policy allows {wildcards!r}: grant the SQS actions needed, never '*' or 'sqs:*' (CKV_AWS_72)."
    return None


def check_gcp_no_public_members(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    kind = args.resource_type.lower()
    if not args.resource_type.startswith("gcp:") or not any(word in kind for word in ("iammember", "iambinding", "iampolicy")):
        return
    members = _as_list(args.props.get("member")) if "member" in args.props else []
    members += list(args.props.get("members") or [])
    policy_data = args.props.get("policyData") if "iampolicy" in kind else None
    if policy_data:
        members += [m for binding in _document(policy_data).get("bindings", []) for m in binding.get("members", [])]
    public = [member for member in members if member in PUBLIC_MEMBERS]
    if public:
        report_violation(f"{args.resource_type} grants {public!r}: no topic, subscription or function may be public (CKV_GCP_99, CKV_GCP_107).", None)


def check_function_ingress_internal_only(props: Any) -> Optional[str]:
    ingress = (props.get("serviceConfig") or {}).get("ingressSettings") if "serviceConfig" in props else props.get("ingressSettings")
    if ingress != "ALLOW_INTERNAL_ONLY":
        return f"Cloud Function ingress is {ingress or 'ALLOW_ALL (the default)'}: set ALLOW_INTERNAL_ONLY; Pub/Sub push is internal traffic (CKV_GCP_124)."
    return None


# --- Azure transport and identity ---------------------------------------------------------------


def check_service_bus_local_auth_disabled(props: Any) -> Optional[str]:
    if props.get("disableLocalAuth") is not True:
        return "Service Bus namespace accepts SAS keys: set disableLocalAuth: true and use Entra ID roles (CKV_AZURE_203)."
    return None


def check_service_bus_tls(props: Any) -> Optional[str]:
    if props.get("minimumTlsVersion") not in ("1.2", "1.3"):
        return f"Service Bus namespace allows TLS {props.get('minimumTlsVersion') or 'below 1.2 (unset)'}: set minimumTlsVersion: 1.2 (CKV_AZURE_205)."
    return None


def _function_app(props: Any) -> bool:
    return "functionapp" in str(props.get("kind") or "").lower()


def check_function_app_https_only(props: Any) -> Optional[str]:
    if _function_app(props) and props.get("httpsOnly") is not True:
        return "Function App accepts plain HTTP: set httpsOnly: true (CKV_AZURE_70)."
    return None


def check_function_app_managed_identity(props: Any) -> Optional[str]:
    if _function_app(props) and "Assigned" not in str((props.get("identity") or {}).get("type") or ""):
        return "Function App has no managed identity: set identity.type SystemAssigned so it connects without secrets (CKV_AZURE_71)."
    return None


def _flex_consumption(props: Any) -> bool:
    # functionAppConfig exists on Flex Consumption sites only, and ARM requires it there on create.
    return "functionAppConfig" in props


def check_function_app_client_certificates(props: Any) -> Optional[str]:
    # Flex Consumption supports no platform certificate features (its "Considerations"), so the
    # rule holds for the other plans, where a Function App can serve callers.
    if _function_app(props) and not _flex_consumption(props) and not (props.get("clientCertEnabled") is True and props.get("clientCertMode") == "Required"):
        return "Function App main site accepts callers without a client certificate: set clientCertEnabled: true, clientCertMode: Required (CKV_AZURE_17)."
    return None


def check_function_app_public_network_access_disabled(props: Any) -> Optional[str]:
    if _function_app(props) and props.get("publicNetworkAccess") != "Disabled":
        return (
            f"Function App is open to the public network (publicNetworkAccess {props.get('publicNetworkAccess') or 'Enabled (the default)'}): "
            "set publicNetworkAccess: Disabled; a queue trigger needs no inbound access, and cloudqueue's publish step opens it for uploads only (CKV_AZURE_222)."
        )
    return None


def _settings(props: Any) -> dict:
    # Entries arrive as pulumi_policy's unknown-checking proxies, not dicts: read them, never isinstance them.
    return {s.get("name"): s.get("value") for s in ((props.get("siteConfig") or {}).get("appSettings") or [])}


def check_function_app_identity_telemetry(props: Any) -> Optional[str]:
    settings = _settings(props)
    if "APPINSIGHTS_INSTRUMENTATIONKEY" in settings:
        return "Function App sends telemetry with an instrumentation key: use APPLICATIONINSIGHTS_CONNECTION_STRING with APPLICATIONINSIGHTS_AUTHENTICATION_STRING: Authorization=AAD."
    if "APPLICATIONINSIGHTS_CONNECTION_STRING" in settings and not str(settings.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING") or "").endswith("Authorization=AAD"):
        return "Function App sends telemetry without Entra ID: set APPLICATIONINSIGHTS_AUTHENTICATION_STRING: Authorization=AAD and grant Monitoring Metrics Publisher."
    return None


def check_insights_local_auth_disabled(props: Any) -> Optional[str]:
    if props.get("disableLocalAuth") is not True:
        return "Application Insights accepts telemetry signed with its instrumentation key: set disableLocalAuth: true (identity-based ingestion only)."
    return None


def check_storage_account_identity_only(props: Any) -> Optional[str]:
    problems = []
    if props.get("allowBlobPublicAccess") is not False:
        problems.append("allowBlobPublicAccess: false (CKV_AZURE_190)")
    if props.get("allowSharedKeyAccess") is not False:
        problems.append("allowSharedKeyAccess: false")
    if props.get("enableHttpsTrafficOnly") is False:
        problems.append("enableHttpsTrafficOnly: true (CKV_AZURE_3)")
    if props.get("minimumTlsVersion") not in ("TLS1_2", "TLS1_3"):
        problems.append("minimumTlsVersion: TLS1_2 (CKV_AZURE_44)")
    rules = props.get("networkRuleSet") or {}
    if rules.get("defaultAction") == "Deny" and "AzureServices" not in str(rules.get("bypass") or ""):
        problems.append("networkRuleSet.bypass: AzureServices with a Deny default (CKV_AZURE_36)")
    if problems:
        return "Storage account is open to keys, anonymous reads or weak transport: set " + ", ".join(problems) + "."
    return None


# --- Google Cloud storage and IAM -------------------------------------------------------------------

# Project-level roles that can act as, or manage, service accounts (Checkov CKV_GCP_41/49's list,
# as far as a queue stack could plausibly grant them).
IMPERSONATION_ROLES = frozenset({
    "roles/owner", "roles/editor", "roles/iam.securityAdmin", "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountKeyAdmin", "roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator",
    "roles/iam.workloadIdentityUser", "roles/cloudbuild.builds.editor", "roles/cloudbuild.builds.builder",
    "roles/cloudfunctions.admin", "roles/cloudfunctions.developer", "roles/run.admin", "roles/run.developer",
})


def check_gcs_bucket_private_and_versioned(props: Any) -> Optional[str]:
    problems = []
    if props.get("uniformBucketLevelAccess") is not True:
        problems.append("uniformBucketLevelAccess: true (CKV_GCP_29)")
    if props.get("publicAccessPrevention") != "enforced":
        problems.append("publicAccessPrevention: enforced (CKV_GCP_114)")
    if (props.get("versioning") or {}).get("enabled") is not True:
        problems.append("versioning.enabled: true (CKV_GCP_78)")
    if problems:
        return "Cloud Storage bucket could be public or lose objects: set " + ", ".join(problems) + "."
    return None


def check_no_project_impersonation_roles(props: Any) -> Optional[str]:
    if props.get("role") in IMPERSONATION_ROLES:
        return f"project-level {props.get('role')!r} can act as or manage service accounts: grant narrower roles on the resources needed (CKV_GCP_49)."
    return None


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


# --- Advisory -----------------------------------------------------------------------------------------


def check_lambda_tracing(props: Any) -> Optional[str]:
    if (props.get("tracingConfig") or {}).get("mode") != "Active":
        return "Lambda function has no active X-Ray tracing: set tracingConfig.mode Active to follow a message across services (CKV_AWS_50)."
    return None


def check_log_retention(props: Any) -> Optional[str]:
    if not props.get("retentionInDays"):
        return "CloudWatch log group keeps logs forever: set retentionInDays so log cost stays bounded (CKV_AWS_66)."
    return None


POLICIES = [
    StackValidationPolicy(
        name="sqs-queue-has-dead-letter-queue",
        description="Every SQS queue that is not itself a dead-letter queue redrives to one with maxReceiveCount.",
        enforcement_level=MANDATORY,
        validate=check_sqs_dead_letter_queues,
    ),
    ResourceValidationPolicy(
        name="pubsub-push-subscription-has-dead-letter-policy",
        description="Every Pub/Sub push subscription carries a dead-letter policy (topic and max delivery attempts).",
        enforcement_level=MANDATORY,
        validate=_on(PUBSUB_SUBSCRIPTION, check_push_subscription_dead_letter_policy),
    ),
    ResourceValidationPolicy(
        name="servicebus-queue-dead-letters-expired-messages",
        description="Service Bus queues dead-letter expired messages (deadLetteringOnMessageExpiration) instead of dropping them.",
        enforcement_level=MANDATORY,
        validate=_on(SERVICE_BUS_QUEUE, check_service_bus_dead_letter_on_expiration),
    ),
    ResourceValidationPolicy(
        name="sqs-queue-encrypted-at-rest",
        description="SQS queues are encrypted at rest with SQS-managed SSE or a KMS key (Checkov CKV_AWS_27).",
        enforcement_level=MANDATORY,
        validate=_on(SQS_QUEUE, check_sqs_encrypted),
    ),
    StackValidationPolicy(
        name="pubsub-topic-customer-key",
        description="Pub/Sub dead-letter topics use their source topic's customer-managed key; with config required: true, every topic has one.",
        enforcement_level=MANDATORY,
        validate=check_pubsub_cmek,
        config_schema=REQUIRED_SCHEMA,
    ),
    ResourceValidationPolicy(
        name="sqs-policy-no-public-principal",
        description="SQS queue policies allow no '*' principal (Checkov CKV_AWS_168, CKV_AWS_387).",
        enforcement_level=MANDATORY,
        validate=[_on(SQS_QUEUE_POLICY, check_sqs_policy_no_public_principal), _on(SQS_QUEUE, check_sqs_policy_no_public_principal)],
    ),
    ResourceValidationPolicy(
        name="sqs-no-wildcard-actions",
        description="SQS queue policies and IAM policies allow no '*' or 'sqs:*' action (Checkov CKV_AWS_72).",
        enforcement_level=MANDATORY,
        validate=[_on((SQS_QUEUE_POLICY, SQS_QUEUE, *IAM_POLICY_TYPES), check_no_wildcard_sqs_actions)],
    ),
    ResourceValidationPolicy(
        name="gcp-iam-no-public-members",
        description="No Google Cloud IAM member, binding or policy grants allUsers or allAuthenticatedUsers (Checkov CKV_GCP_99, CKV_GCP_107).",
        enforcement_level=MANDATORY,
        validate=check_gcp_no_public_members,
    ),
    ResourceValidationPolicy(
        name="gcp-function-ingress-internal-only",
        description="Cloud Functions accept internal traffic only (Checkov CKV_GCP_124).",
        enforcement_level=MANDATORY,
        validate=_on(CLOUD_FUNCTION_TYPES, check_function_ingress_internal_only),
    ),
    ResourceValidationPolicy(
        name="servicebus-local-auth-disabled",
        description="Service Bus namespaces accept Entra ID only, no SAS keys (Checkov CKV_AZURE_203).",
        enforcement_level=MANDATORY,
        validate=_on(SERVICE_BUS_NAMESPACE, check_service_bus_local_auth_disabled),
    ),
    ResourceValidationPolicy(
        name="servicebus-minimum-tls-1-2",
        description="Service Bus namespaces require TLS 1.2 or later (Checkov CKV_AZURE_205).",
        enforcement_level=MANDATORY,
        validate=_on(SERVICE_BUS_NAMESPACE, check_service_bus_tls),
    ),
    ResourceValidationPolicy(
        name="function-app-https-only",
        description="Function Apps accept HTTPS only (Checkov CKV_AZURE_70).",
        enforcement_level=MANDATORY,
        validate=_on(WEB_APP, check_function_app_https_only),
    ),
    ResourceValidationPolicy(
        name="function-app-managed-identity",
        description="Function Apps have a managed identity (Checkov CKV_AZURE_71).",
        enforcement_level=MANDATORY,
        validate=_on(WEB_APP, check_function_app_managed_identity),
    ),
    StackValidationPolicy(
        name="lambda-queue-visibility-covers-function-timeout",
        description="For every Lambda SQS event source, the queue's visibility timeout is at least the function timeout.",
        enforcement_level=MANDATORY,
        validate=check_lambda_visibility_covers_timeout,
    ),
    StackValidationPolicy(
        name="queues-protected",
        description="With config required: true (stacks with cloudqueue:protect), every queue, dead-letter queue, topic and subscription is protected.",
        enforcement_level=MANDATORY,
        validate=check_queues_protected,
        config_schema=REQUIRED_SCHEMA,
    ),
    ResourceValidationPolicy(
        name="function-app-client-certificates",
        description="Function Apps outside Flex Consumption require client certificates on their main site (Checkov CKV_AZURE_17).",
        enforcement_level=MANDATORY,
        validate=_on(WEB_APP, check_function_app_client_certificates),
    ),
    ResourceValidationPolicy(
        name="function-app-public-network-access-disabled",
        description="Queue-triggered Function Apps are closed to the public network (Checkov CKV_AZURE_222).",
        enforcement_level=MANDATORY,
        validate=_on(WEB_APP, check_function_app_public_network_access_disabled),
    ),
    ResourceValidationPolicy(
        name="function-app-identity-telemetry",
        description="Function Apps send telemetry with their managed identity, never an instrumentation key (no Checkov check).",
        enforcement_level=MANDATORY,
        validate=_on(WEB_APP, check_function_app_identity_telemetry),
    ),
    ResourceValidationPolicy(
        name="application-insights-local-auth-disabled",
        description="Application Insights accepts Entra ID (identity-based) ingestion only (no Checkov check).",
        enforcement_level=MANDATORY,
        validate=_on(INSIGHTS, check_insights_local_auth_disabled),
    ),
    ResourceValidationPolicy(
        name="storage-account-identity-only",
        description="Storage accounts allow no anonymous blob reads, no shared keys, HTTPS and TLS 1.2 only, and let trusted Azure services through a Deny default (Checkov CKV_AZURE_190, CKV_AZURE_3, CKV_AZURE_44, CKV_AZURE_36).",
        enforcement_level=MANDATORY,
        validate=_on(STORAGE_ACCOUNT, check_storage_account_identity_only),
    ),
    ResourceValidationPolicy(
        name="gcs-bucket-private-and-versioned",
        description="Cloud Storage buckets have uniform access, enforced public access prevention and versioning (Checkov CKV_GCP_29, CKV_GCP_114, CKV_GCP_78).",
        enforcement_level=MANDATORY,
        validate=_on(GCS_BUCKET, check_gcs_bucket_private_and_versioned),
    ),
    ResourceValidationPolicy(
        name="gcp-no-project-impersonation-roles",
        description="No project-level role that can act as or manage service accounts (Checkov CKV_GCP_49).",
        enforcement_level=MANDATORY,
        validate=_on(PROJECT_IAM_TYPES, check_no_project_impersonation_roles),
    ),
    *(
        ResourceValidationPolicy(
            name=name,
            description=f"With config required: true, {what} with a customer-managed key ({checkov}).",
            enforcement_level=MANDATORY,
            validate=_required_key(types, key, message),
            config_schema=REQUIRED_SCHEMA,
        )
        for name, types, key, what, checkov, message in CUSTOMER_KEY_RULES
    ),
    ResourceValidationPolicy(
        name="lambda-tracing-active",
        description="Lambda functions trace with X-Ray (Checkov CKV_AWS_50).",
        enforcement_level=ADVISORY,
        validate=_on(LAMBDA_FUNCTION, check_lambda_tracing),
    ),
    ResourceValidationPolicy(
        name="log-group-retention-set",
        description="CloudWatch log groups have a finite retention (Checkov CKV_AWS_66).",
        enforcement_level=ADVISORY,
        validate=_on(LOG_GROUP, check_log_retention),
    ),
]
"""Every rule of the pack; __main__.py builds the PolicyPack from exactly this list."""
