"""Every rule of the policy pack: a passing baseline, and a failing fixture that changes one property.

Fixtures are the camelCase properties the engine hands a policy pack, shaped like the ones the
components register (see tests/pulumi_mocks.py); each failing case is what a hand-written program
gets wrong.
"""

from __future__ import annotations

import ast
import copy
import json
import re

import pytest
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

import cloudqueue_policy
from policy_harness import UNKNOWN, Analyzer
from pulumi_mocks import REPO

ACCOUNT = "123456789012"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-queue-05e0240"
DLQ_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-dead-letter-10d8e5c"
QUEUE_URL = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/orders-queue-05e0240"
DLQ_URL = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/orders-dead-letter-10d8e5c"
KEY = "projects/p/locations/europe-west1/keyRings/queues/cryptoKeys/orders"
DLQ_NAME = "orders-dead-letter-10d8e5c"
DLQ_ALARM = {"namespace": "AWS/SQS", "metricName": "ApproximateNumberOfMessagesVisible", "dimensions": {"QueueName": DLQ_NAME}, "statistic": "Maximum", "threshold": 0}
NAMESPACE_ID = "/subscriptions/3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b/resourceGroups/cq/providers/Microsoft.ServiceBus/namespaces/cq-bus"


def dead_letter_alert(queue: str = "orders-queue", scope: str = NAMESPACE_ID, metric: str = "DeadletteredMessages") -> dict:
    """A metric alert's outputs, as azure-native returns them, on one queue's dead-lettered messages."""
    return {
        "scopes": [scope],
        "criteria": {
            "odataType": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
            "allOf": [{"criterionType": "StaticThresholdCriterion", "name": "dlq", "metricName": metric, "operator": "GreaterThan", "threshold": 0,
                       "timeAggregation": "Maximum", "dimensions": [{"name": "EntityName", "operator": "Include", "values": [queue]}]}],
        },
    }


def dead_letter_policy(subscription: str = "orders-dead-letter-subscription", metric: str = "num_undelivered_messages") -> dict:
    """An alert policy's outputs watching one subscription by its short name."""
    condition = f'resource.type = "pubsub_subscription" AND resource.label.subscription_id = "{subscription}" AND metric.type = "pubsub.googleapis.com/subscription/{metric}"'
    return {"combiner": "OR", "conditions": [{"displayName": "dead letters", "conditionThreshold": {"filter": condition, "comparison": "COMPARISON_GT", "thresholdValue": 0, "duration": "0s"}}]}

BASELINES = {
    "aws:sqs/queue:Queue": {"sqsManagedSseEnabled": True, "messageRetentionSeconds": 345600},
    "aws:sqs/queuePolicy:QueuePolicy": {
        "queueUrl": QUEUE_URL,
        "policy": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": QUEUE_ARN, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                    {"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/api"]}, "Action": ["sqs:SendMessage"], "Resource": QUEUE_ARN},
                ],
            }
        ),
    },
    "aws:iam/rolePolicy:RolePolicy": {
        "role": "orders-consumer-role",
        "policy": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"], "Resource": QUEUE_ARN}]}),
    },
    "aws:lambda/function:Function": {"runtime": "python3.12", "timeout": 30, "tracingConfig": {"mode": "Active"}},
    "aws:cloudwatch/logGroup:LogGroup": {"retentionInDays": 30},
    "azure-native:servicebus:Namespace": {"sku": {"name": "Standard", "tier": "Standard"}, "disableLocalAuth": True, "minimumTlsVersion": "1.2"},
    "azure-native:servicebus:Queue": {"maxDeliveryCount": 5, "deadLetteringOnMessageExpiration": True},
    "azure-native:web:WebApp": {
        "kind": "functionapp,linux", "httpsOnly": True, "identity": {"type": "SystemAssigned"}, "clientCertEnabled": True, "clientCertMode": "Required",
        "publicNetworkAccess": "Disabled",
        "siteConfig": {"ipSecurityRestrictionsDefaultAction": "Deny", "appSettings": [
            {"name": "APPLICATIONINSIGHTS_CONNECTION_STRING", "value": "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/"},
            {"name": "APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "value": "Authorization=AAD"},
        ]},
    },
    "azure-native:applicationinsights:Component": {"kind": "web", "applicationType": "web", "disableLocalAuth": True},
    "azure-native:storage:StorageAccount": {"allowBlobPublicAccess": False, "allowSharedKeyAccess": False, "enableHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2"},
    "gcp:storage/bucket:Bucket": {"uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced", "versioning": {"enabled": True}},
    "gcp:projects/iAMMember:IAMMember": {"project": "p", "role": "roles/logging.logWriter", "member": "serviceAccount:build@p.iam.gserviceaccount.com"},
    "gcp:pubsub/subscription:Subscription": {
        "topic": "projects/p/topics/orders-topic",
        "pushConfig": {"pushEndpoint": "https://orders-consumer-abc-ew.a.run.app", "oidcToken": {"serviceAccountEmail": "push@p.iam.gserviceaccount.com"}},
        "deadLetterPolicy": {"deadLetterTopic": "projects/p/topics/orders-dead-letter", "maxDeliveryAttempts": 5},
    },
    "gcp:cloudfunctionsv2/function:Function": {"location": "europe-west1", "serviceConfig": {"ingressSettings": "ALLOW_INTERNAL_ONLY"}},
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": {"name": "orders-consumer", "role": "roles/run.invoker", "member": "serviceAccount:push@p.iam.gserviceaccount.com"},
    "gcp:pubsub/topicIAMBinding:TopicIAMBinding": {"topic": "projects/p/topics/orders-topic", "role": "roles/pubsub.publisher", "members": ["serviceAccount:api@p.iam.gserviceaccount.com"]},
}


def changed(type_: str, **changes) -> dict:
    """The baseline of `type_` with top-level properties replaced (None removes one)."""
    props = copy.deepcopy(BASELINES[type_])
    for key, value in changes.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return props


def fired(violations, policy: str) -> list[str]:
    return [v.message for v in violations if v.policy == policy]


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


def test_every_baseline_passes_every_rule(analyzer):
    for type_, props in BASELINES.items():
        assert analyzer.resource(type_, props) == [], type_


# --- resource rules: (rule, type, failing change, words the message must hold) ---------------------

FAILING = [
    ("pubsub-push-subscription-has-dead-letter-policy", "gcp:pubsub/subscription:Subscription", {"deadLetterPolicy": None}, "no dead-letter policy"),
    ("servicebus-queue-dead-letters-expired-messages", "azure-native:servicebus:Queue", {"deadLetteringOnMessageExpiration": False}, "drops expired messages"),
    ("servicebus-queue-dead-letters-expired-messages", "azure-native:servicebus:Queue", {"deadLetteringOnMessageExpiration": None}, "drops expired messages"),
    ("sqs-queue-encrypted-at-rest", "aws:sqs/queue:Queue", {"sqsManagedSseEnabled": None}, "CKV_AWS_27"),
    ("sqs-policy-no-public-principal", "aws:sqs/queuePolicy:QueuePolicy", {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": QUEUE_ARN}]})}, "public principal"),
    ("sqs-policy-no-public-principal", "aws:sqs/queuePolicy:QueuePolicy", {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage", "Resource": QUEUE_ARN}]})}, "CKV_AWS_168"),
    ("sqs-no-wildcard-actions", "aws:sqs/queuePolicy:QueuePolicy", {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sqs:*", "Resource": QUEUE_ARN}]})}, "CKV_AWS_72"),
    ("sqs-no-wildcard-actions", "aws:iam/rolePolicy:RolePolicy", {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": QUEUE_ARN}]})}, "never '*'"),
    ("gcp-iam-no-public-members", "gcp:cloudrunv2/serviceIamMember:ServiceIamMember", {"member": "allUsers"}, "CKV_GCP_107"),
    ("gcp-iam-no-public-members", "gcp:pubsub/topicIAMBinding:TopicIAMBinding", {"members": ["allAuthenticatedUsers"]}, "'allAuthenticatedUsers'"),
    ("gcp-function-ingress-internal-only", "gcp:cloudfunctionsv2/function:Function", {"serviceConfig": {"ingressSettings": "ALLOW_ALL"}}, "CKV_GCP_124"),
    ("gcp-function-ingress-internal-only", "gcp:cloudfunctionsv2/function:Function", {"serviceConfig": {}}, "ALLOW_ALL (the default)"),
    ("servicebus-local-auth-disabled", "azure-native:servicebus:Namespace", {"disableLocalAuth": False}, "CKV_AZURE_203"),
    ("servicebus-minimum-tls-1-2", "azure-native:servicebus:Namespace", {"minimumTlsVersion": "1.0"}, "CKV_AZURE_205"),
    ("function-app-https-only", "azure-native:web:WebApp", {"httpsOnly": False}, "CKV_AZURE_70"),
    ("function-app-managed-identity", "azure-native:web:WebApp", {"identity": None}, "CKV_AZURE_71"),
    ("function-app-client-certificates", "azure-native:web:WebApp", {"clientCertEnabled": False}, "CKV_AZURE_17"),
    ("function-app-client-certificates", "azure-native:web:WebApp", {"clientCertMode": "Optional"}, "clientCertMode: Required"),
    ("function-app-public-network-access-disabled", "azure-native:web:WebApp", {"publicNetworkAccess": "Enabled"}, "CKV_AZURE_222"),
    ("function-app-public-network-access-disabled", "azure-native:web:WebApp", {"publicNetworkAccess": None}, "Enabled (the default)"),
    ("function-app-identity-telemetry", "azure-native:web:WebApp", {"siteConfig": {"ipSecurityRestrictionsDefaultAction": "Deny", "appSettings": [{"name": "APPINSIGHTS_INSTRUMENTATIONKEY", "value": "k"}]}}, "instrumentation key"),
    ("function-app-identity-telemetry", "azure-native:web:WebApp", {"siteConfig": {"ipSecurityRestrictionsDefaultAction": "Deny", "appSettings": [{"name": "APPLICATIONINSIGHTS_CONNECTION_STRING", "value": "InstrumentationKey=k"}]}}, "Authorization=AAD"),
    ("application-insights-local-auth-disabled", "azure-native:applicationinsights:Component", {"disableLocalAuth": None}, "disableLocalAuth: true"),
    ("storage-account-identity-only", "azure-native:storage:StorageAccount", {"allowBlobPublicAccess": None}, "CKV_AZURE_190"),
    ("storage-account-identity-only", "azure-native:storage:StorageAccount", {"allowSharedKeyAccess": True}, "allowSharedKeyAccess: false"),
    ("storage-account-identity-only", "azure-native:storage:StorageAccount", {"minimumTlsVersion": "TLS1_0"}, "CKV_AZURE_44"),
    ("storage-account-identity-only", "azure-native:storage:StorageAccount", {"networkRuleSet": {"defaultAction": "Deny", "bypass": "None"}}, "CKV_AZURE_36"),
    ("gcs-bucket-private-and-versioned", "gcp:storage/bucket:Bucket", {"versioning": None}, "CKV_GCP_78"),
    ("gcs-bucket-private-and-versioned", "gcp:storage/bucket:Bucket", {"publicAccessPrevention": "inherited"}, "CKV_GCP_114"),
    ("gcs-bucket-private-and-versioned", "gcp:storage/bucket:Bucket", {"uniformBucketLevelAccess": False}, "CKV_GCP_29"),
    ("gcp-no-project-impersonation-roles", "gcp:projects/iAMMember:IAMMember", {"role": "roles/cloudbuild.builds.builder"}, "CKV_GCP_49"),
    ("gcp-no-project-impersonation-roles", "gcp:projects/iAMMember:IAMMember", {"role": "roles/iam.serviceAccountUser"}, "act as or manage"),
    ("lambda-tracing-active", "aws:lambda/function:Function", {"tracingConfig": None}, "CKV_AWS_50"),
    ("log-group-retention-set", "aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": None}, "CKV_AWS_66"),
]


@pytest.mark.parametrize(("rule", "type_", "change", "words"), FAILING, ids=[f"{r}-{i}" for i, (r, *_) in enumerate(FAILING)])
def test_each_resource_rule_fires_on_its_failing_fixture(analyzer, rule, type_, change, words):
    violations = analyzer.resource(type_, changed(type_, **change))
    assert [v.policy for v in violations] == [rule]
    assert words in violations[0].message
    expected_level = next(p.enforcement_level for p in cloudqueue_policy.POLICIES if p.name == rule).value
    assert violations[0].level == expected_level


def test_a_pull_subscription_needs_no_dead_letter_policy(analyzer):
    pull = changed("gcp:pubsub/subscription:Subscription", pushConfig=None, deadLetterPolicy=None)
    assert analyzer.resource("gcp:pubsub/subscription:Subscription", pull) == []


def test_a_kms_keyed_sqs_queue_counts_as_encrypted(analyzer):
    keyed = changed("aws:sqs/queue:Queue", sqsManagedSseEnabled=None, kmsMasterKeyId=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k")
    assert analyzer.resource("aws:sqs/queue:Queue", keyed) == []


def test_a_flex_consumption_app_needs_no_client_certificates_which_flex_does_not_support(analyzer):
    flex = changed("azure-native:web:WebApp", clientCertEnabled=None, clientCertMode=None, functionAppConfig={
        "deployment": {"storage": {"type": "blobContainer", "value": "https://cq.blob.core.windows.net/orders-packages", "authentication": {"type": "SystemAssignedIdentity"}}},
        "runtime": {"name": "python", "version": "3.12"},
    })
    assert analyzer.resource("azure-native:web:WebApp", flex) == []
    # The same app on another plan (no functionAppConfig) must ask for certificates.
    other_plan = {k: v for k, v in flex.items() if k != "functionAppConfig"}
    assert fired(analyzer.resource("azure-native:web:WebApp", other_plan), "function-app-client-certificates")


def test_a_web_app_that_is_not_a_function_app_is_not_judged_as_one(analyzer):
    site = changed("azure-native:web:WebApp", kind="app,linux", identity=None)
    assert fired(analyzer.resource("azure-native:web:WebApp", site), "function-app-managed-identity") == []


def test_values_unknown_during_preview_are_not_violations(analyzer):
    namespace = changed("azure-native:servicebus:Namespace", disableLocalAuth=UNKNOWN, minimumTlsVersion=UNKNOWN)
    assert analyzer.resource("azure-native:servicebus:Namespace", namespace) == []
    assert sorted(analyzer.unknown_skips("azure-native:servicebus:Namespace", namespace)) == ["servicebus-local-auth-disabled", "servicebus-minimum-tls-1-2"]


# --- stack rules ----------------------------------------------------------------------------------


def sqs_stack(**queue_changes) -> list[tuple[str, str, dict, bool]]:
    queue = {"arn": QUEUE_ARN, "url": QUEUE_URL, "visibilityTimeoutSeconds": 180, "redrivePolicy": json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5}), "sqsManagedSseEnabled": True}
    queue.update(queue_changes)
    function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders-consumer"
    return [
        ("aws:sqs/queue:Queue", "orders-dead-letter", {"arn": DLQ_ARN, "url": DLQ_URL, "name": DLQ_NAME, "sqsManagedSseEnabled": True}, False),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "orders-dead-letter-alarm", DLQ_ALARM, False),
        ("aws:sqs/queue:Queue", "orders-queue", queue, False),
        ("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", "orders-dead-letter-redrive-allow", {"queueUrl": DLQ_URL}, False),
        ("aws:lambda/function:Function", "orders-consumer", {"arn": function_arn, "name": "orders-consumer", "timeout": 30}, False),
        ("aws:lambda/eventSourceMapping:EventSourceMapping", "orders-consumer-trigger", {"eventSourceArn": QUEUE_ARN, "functionName": function_arn}, False),
    ]


def test_sqs_stack_baseline_passes(analyzer):
    assert analyzer.stack(sqs_stack()) == []


def test_a_hand_written_queue_without_redrive_is_a_violation(analyzer):
    bare = ("aws:sqs/queue:Queue", "legacy", {"arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:legacy", "url": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/legacy"}, False)
    violations = analyzer.stack(sqs_stack() + [bare])
    assert [v.policy for v in violations] == ["sqs-queue-has-dead-letter-queue"]
    assert "'legacy' has no redrive policy" in violations[0].message and violations[0].urn.endswith("::legacy")


def test_a_queue_redriven_by_a_separate_redrive_policy_resource_passes(analyzer):
    stack = sqs_stack(redrivePolicy=None)
    stack.append(("aws:sqs/redrivePolicy:RedrivePolicy", "orders-redrive", {"queueUrl": QUEUE_URL, "redrivePolicy": json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5})}, False))
    assert fired(analyzer.stack(stack), "sqs-queue-has-dead-letter-queue") == []
    assert fired(analyzer.stack(sqs_stack(redrivePolicy=None)), "sqs-queue-has-dead-letter-queue") != []


def test_visibility_shorter_than_the_function_timeout_is_a_violation(analyzer):
    violations = analyzer.stack(sqs_stack(visibilityTimeoutSeconds=20))
    assert [v.policy for v in violations] == ["lambda-queue-visibility-covers-function-timeout"]
    assert "hides a message for 20 s but Lambda 'orders-consumer' may run 30 s" in violations[0].message


def pubsub_stack(dead_letter_key: str | None = KEY, main_key: str | None = KEY) -> list[tuple[str, str, dict, bool]]:
    topic = {"id": "projects/p/topics/orders-topic", **({"kmsKeyName": main_key} if main_key else {})}
    dead_letter = {"id": "projects/p/topics/orders-dead-letter", **({"kmsKeyName": dead_letter_key} if dead_letter_key else {})}
    subscription = {**BASELINES["gcp:pubsub/subscription:Subscription"], "id": "projects/p/subscriptions/orders-subscription"}
    held = {"id": "projects/p/subscriptions/orders-dead-letter-subscription", "name": "orders-dead-letter-subscription", "topic": "projects/p/topics/orders-dead-letter"}
    return [
        ("gcp:pubsub/topic:Topic", "orders-topic", topic, False),
        ("gcp:pubsub/topic:Topic", "orders-dead-letter", dead_letter, False),
        ("gcp:pubsub/subscription:Subscription", "orders-subscription", subscription, False),
        ("gcp:pubsub/subscription:Subscription", "orders-dead-letter-subscription", held, False),
        ("gcp:monitoring/alertPolicy:AlertPolicy", "orders-dead-letter-alarm", dead_letter_policy(), False),
    ]


def test_keyed_topics_keep_dead_letters_under_the_same_key(analyzer):
    assert analyzer.stack(pubsub_stack()) == []
    violations = analyzer.stack(pubsub_stack(dead_letter_key=None))
    assert [v.policy for v in violations] == ["pubsub-topic-customer-key"]
    assert "'orders-dead-letter' is not encrypted with" in violations[0].message


def test_a_stack_that_requires_customer_keys_rejects_an_unkeyed_topic():
    assert Analyzer().stack(pubsub_stack(None, None)) == []
    violations = Analyzer({"pubsub-topic-customer-key": {"required": True}}).stack(pubsub_stack(None, None))
    assert [v.policy for v in violations] == ["pubsub-topic-customer-key", "pubsub-topic-customer-key"]


KEY_RULES = [
    ("lambda-environment-customer-key", "aws:lambda/function:Function", "kmsKeyArn", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k", "CKV_AWS_173"),
    ("log-group-customer-key", "aws:cloudwatch/logGroup:LogGroup", "kmsKeyId", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k", "CKV_AWS_158"),
    ("gcp-function-customer-key", "gcp:cloudfunctionsv2/function:Function", "kmsKeyName", KEY, "kmsKeyName"),
]


@pytest.mark.parametrize(("rule", "type_", "key", "value", "words"), KEY_RULES, ids=[r for r, *_ in KEY_RULES])
def test_a_stack_that_requires_customer_keys_rejects_an_unkeyed_function_or_log_group(rule, type_, key, value, words):
    unkeyed = BASELINES[type_]
    assert Analyzer().resource(type_, unkeyed) == []  # not required: provider-managed keys pass
    requiring = Analyzer({rule: {"required": True}})
    violations = requiring.resource(type_, unkeyed)
    assert [v.policy for v in violations] == [rule] and words in violations[0].message
    assert requiring.resource(type_, {**unkeyed, key: value}) == []


def test_a_protected_stack_rejects_an_unprotected_queue_or_topic():
    stack = [
        ("azure-native:servicebus:Queue", "orders-queue", {**BASELINES["azure-native:servicebus:Queue"], "name": "orders-queue"}, True),
        ("azure-native:monitor:MetricAlert", "orders-dead-letter-alarm", dead_letter_alert(), False),
        ("gcp:pubsub/topic:Topic", "orders-topic", {"id": "projects/p/topics/t"}, False),
    ]
    assert fired(Analyzer().stack(stack), "queues-protected") == []
    violations = Analyzer({"queues-protected": {"required": True}}).stack(stack)
    assert [v.policy for v in violations] == ["queues-protected"]
    assert "'orders-topic' holds messages but is not protected" in violations[0].message


# --- every dead-letter queue has an alarm: a stack rule per cloud -----------------------------------------


def test_an_sqs_dead_letter_queue_without_an_alarm_on_its_visible_messages_is_a_violation(analyzer):
    assert fired(analyzer.stack(sqs_stack()), "sqs-dead-letter-queue-has-alarm") == []
    unwatched = [r for r in sqs_stack() if r[0] != "aws:cloudwatch/metricAlarm:MetricAlarm"]
    elsewhere = [*unwatched, ("aws:cloudwatch/metricAlarm:MetricAlarm", "other", {**DLQ_ALARM, "dimensions": {"QueueName": "other-dlq"}}, False)]
    other_metric = [*unwatched, ("aws:cloudwatch/metricAlarm:MetricAlarm", "age", {**DLQ_ALARM, "metricName": "ApproximateAgeOfOldestMessage"}, False)]
    for stack in (unwatched, elsewhere, other_metric):
        violations = [v for v in analyzer.stack(stack) if v.policy == "sqs-dead-letter-queue-has-alarm"]
        assert len(violations) == 1 and violations[0].urn.endswith("::orders-dead-letter")
        assert "'orders-dead-letter' has no CloudWatch alarm on ApproximateNumberOfMessagesVisible" in violations[0].message


def servicebus_stack(*alerts: dict) -> list[tuple[str, str, dict, bool]]:
    queue = {**BASELINES["azure-native:servicebus:Queue"], "name": "orders-queue", "namespaceName": "cq-bus"}
    return [("azure-native:servicebus:Queue", "orders-queue", queue, False), *(("azure-native:monitor:MetricAlert", f"alert-{i}", a, False) for i, a in enumerate(alerts))]


def test_a_service_bus_queue_without_a_dead_letter_alert_for_its_entity_is_a_violation(analyzer):
    assert analyzer.stack(servicebus_stack(dead_letter_alert())) == []
    other_namespace = NAMESPACE_ID.replace("cq-bus", "other-bus")
    for alerts in ((), (dead_letter_alert(queue="payments-queue"),), (dead_letter_alert(metric="ActiveMessages"),), (dead_letter_alert(scope=other_namespace),)):
        violations = analyzer.stack(servicebus_stack(*alerts))
        assert [v.policy for v in violations] == ["servicebus-dead-letter-queue-has-alert"], alerts
        assert "'orders-queue' has no metric alert on DeadletteredMessages for its EntityName" in violations[0].message


def test_a_pubsub_dead_letter_subscription_without_an_alert_is_a_violation(analyzer):
    assert analyzer.stack(pubsub_stack()) == []
    for policy in (None, dead_letter_policy(subscription="orders-subscription"), dead_letter_policy(metric="oldest_unacked_message_age")):
        stack = [r for r in pubsub_stack() if r[0] != "gcp:monitoring/alertPolicy:AlertPolicy"]
        stack += [("gcp:monitoring/alertPolicy:AlertPolicy", "alert", policy, False)] if policy else []
        violations = analyzer.stack(stack)
        assert [v.policy for v in violations] == ["pubsub-dead-letter-subscription-has-alert"]
        assert "'orders-dead-letter-subscription' has no alert policy on num_undelivered_messages" in violations[0].message


def test_a_dead_letter_topic_without_a_subscription_to_watch_is_a_violation(analyzer):
    stack = [r for r in pubsub_stack() if r[1] not in ("orders-dead-letter-subscription", "orders-dead-letter-alarm")]
    violations = analyzer.stack(stack)
    assert [v.policy for v in violations] == ["pubsub-dead-letter-subscription-has-alert"]
    assert "dead-letter topic 'projects/p/topics/orders-dead-letter' of 'orders-subscription' has no subscription" in violations[0].message


# --- the pack itself ----------------------------------------------------------------------------------


def _validators(policy) -> list:
    attribute = "_ResourceValidationPolicy__validate" if isinstance(policy, ResourceValidationPolicy) else "_StackValidationPolicy__validate"
    validate = getattr(policy, attribute)
    found = []
    for function in validate if isinstance(validate, list) else [validate]:
        found.append(function)
        found += [cell.cell_contents for cell in (function.__closure__ or ()) if callable(cell.cell_contents)]
    return found


def test_the_pack_lists_every_rule_the_module_defines():
    checks = {name for name, value in vars(cloudqueue_policy).items() if name.startswith("check_") and callable(value)}
    used = {getattr(f, "__name__", "") for policy in cloudqueue_policy.POLICIES for f in _validators(policy)}
    assert checks - used == set(), "a rule is defined but left out of POLICIES"
    assert all(isinstance(p, (ResourceValidationPolicy, StackValidationPolicy)) for p in cloudqueue_policy.POLICIES)
    # Every rule has a failing fixture in this file.
    tested = {rule for rule, *_ in FAILING} | {
        "sqs-queue-has-dead-letter-queue", "lambda-queue-visibility-covers-function-timeout", "pubsub-topic-customer-key", "queues-protected",
        "sqs-dead-letter-queue-has-alarm", "servicebus-dead-letter-queue-has-alert", "pubsub-dead-letter-subscription-has-alert",
    } | {rule for rule, *_ in KEY_RULES}
    assert {p.name for p in cloudqueue_policy.POLICIES} == tested


def test_rules_are_kebab_case_unique_and_cite_checkov_where_one_exists():
    names = [p.name for p in cloudqueue_policy.POLICIES]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n) for n in names)
    checkov = {"sqs-queue-encrypted-at-rest": "CKV_AWS_27", "sqs-policy-no-public-principal": "CKV_AWS_168", "sqs-no-wildcard-actions": "CKV_AWS_72",
               "gcp-iam-no-public-members": "CKV_GCP_99", "gcp-function-ingress-internal-only": "CKV_GCP_124", "servicebus-local-auth-disabled": "CKV_AZURE_203",
               "servicebus-minimum-tls-1-2": "CKV_AZURE_205", "function-app-https-only": "CKV_AZURE_70", "function-app-managed-identity": "CKV_AZURE_71",
               "lambda-tracing-active": "CKV_AWS_50", "log-group-retention-set": "CKV_AWS_66", "function-app-client-certificates": "CKV_AZURE_17",
               "function-app-public-network-access-disabled": "CKV_AZURE_222", "storage-account-identity-only": "CKV_AZURE_190", "gcs-bucket-private-and-versioned": "CKV_GCP_78",
               "gcp-no-project-impersonation-roles": "CKV_GCP_49", "lambda-environment-customer-key": "CKV_AWS_173", "log-group-customer-key": "CKV_AWS_158"}
    for policy in cloudqueue_policy.POLICIES:
        if policy.name in checkov:
            assert checkov[policy.name] in policy.description, policy.name


def test_the_packs_main_only_builds_the_pack_from_the_module_list():
    tree = ast.parse((REPO / "policy" / "__main__.py").read_text())
    imports = {(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert ("cloudqueue_policy", "POLICIES") in imports
    (call,) = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "PolicyPack"]
    assert {k.arg: ast.unparse(k.value) for k in call.keywords}["policies"] == "POLICIES"
    assert not [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
