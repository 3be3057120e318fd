"""cloudqueue's rules about access: no public principals or members, no wildcard actions, internal
ingress, Azure transport and identity, Google Cloud storage and IAM, and the advisory rules.
cloudqueue_policy.py lists them in the pack."""

from __future__ import annotations

from typing import Any, Optional

from pulumi_policy import ReportViolation, ResourceValidationArgs

from cloudqueue_delivery_rules import (
    PUBLIC_MEMBERS,
    _as_list,
    _document,
    _statements,
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


# --- Advisory -----------------------------------------------------------------------------------------


def check_lambda_tracing(props: Any) -> Optional[str]:
    if (props.get("tracingConfig") or {}).get("mode") != "Active":
        return "Lambda function has no active X-Ray tracing: set tracingConfig.mode Active to follow a message across services (CKV_AWS_50)."
    return None


def check_log_retention(props: Any) -> Optional[str]:
    if not props.get("retentionInDays"):
        return "CloudWatch log group keeps logs forever: set retentionInDays so log cost stays bounded (CKV_AWS_66)."
    return None
