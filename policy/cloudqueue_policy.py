"""cloudqueue's CrossGuard rules, importable without starting the policy pack's server: POLICIES.

The checks live in cloudqueue_delivery_rules.py (dead-lettering, alarms, encryption, keys, visibility,
protection) and cloudqueue_access_rules.py (public access, transport, identity, IAM, advisory); this
module wraps each in its policy. __main__.py builds the PolicyPack from POLICIES.
"""

from __future__ import annotations

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from cloudqueue_access_rules import *  # noqa: F401,F403 - every check, by name, for the pack and its tests
from cloudqueue_delivery_rules import *  # noqa: F401,F403
from cloudqueue_delivery_rules import _on, _required_key


POLICIES = [
    StackValidationPolicy(
        name="sqs-queue-has-dead-letter-queue",
        description="Every SQS queue that is not itself a dead-letter queue redrives to one with maxReceiveCount.",
        enforcement_level=MANDATORY,
        validate=check_sqs_dead_letter_queues,
    ),
    StackValidationPolicy(
        name="sqs-dead-letter-queue-has-alarm",
        description="Every SQS dead-letter queue has a CloudWatch alarm on ApproximateNumberOfMessagesVisible.",
        enforcement_level=MANDATORY,
        validate=check_sqs_dead_letter_queues_have_alarms,
    ),
    StackValidationPolicy(
        name="servicebus-dead-letter-queue-has-alert",
        description="Every Service Bus queue's $DeadLetterQueue has a metric alert on DeadletteredMessages for that queue.",
        enforcement_level=MANDATORY,
        validate=check_service_bus_dead_letters_have_alerts,
    ),
    StackValidationPolicy(
        name="pubsub-dead-letter-subscription-has-alert",
        description="Every Pub/Sub dead-letter topic has a subscription, and an alert policy on its num_undelivered_messages.",
        enforcement_level=MANDATORY,
        validate=check_pubsub_dead_letter_subscriptions_have_alerts,
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
