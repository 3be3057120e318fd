"""Hand-written resources, bad and good, through security/convert.py and the pinned Checkov.

Each bad resource must fail the check that guards it, and its good twin must pass it: a finding
that disappears because the conversion lost a property (a wrong name, a float Checkov skips)
fails here. Checkov lives in its own tool environment; `make scan` installs it and runs these
tests with CHECKOV set (CI runs `make scan`), and a plain `pytest` skips them.
"""

from __future__ import annotations

import json
import os

import pytest

from security import scan

pytestmark = pytest.mark.skipif(not os.environ.get(scan.CHECKOV_ENV), reason="needs Checkov: `make scan` installs it and runs these tests")

ACCOUNT = "123456789012"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def queue_policy(name: str, principal) -> dict:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage", "Resource": QUEUE_ARN}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    return {"type": "aws:sqs/queuePolicy:QueuePolicy", "name": name, "inputs": {"queueUrl": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/orders", "policy": policy}}


def log_group(name: str, days: float) -> dict:
    return {"type": "aws:cloudwatch/logGroup:LogGroup", "name": name, "inputs": {"retentionInDays": days, "kmsKeyId": KEY}, "outputs": {"name": name}}


def lambda_function(name: str, **inputs) -> dict:
    return {"type": "aws:lambda/function:Function", "name": name, "outputs": {"name": name},
            "inputs": {"runtime": "python3.12", "handler": "cloudqueue_runtime.aws.handler", "role": f"arn:aws:iam::{ACCOUNT}:role/r", **inputs}}


def storage_account(name: str, **inputs) -> dict:
    return {"type": "azure-native:storage:StorageAccount", "name": "cloudqueue-azure-storage", "outputs": {"name": name},
            "inputs": {"resourceGroupName": "rg", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "minimumTlsVersion": "TLS1_2", **inputs}}


def web_app(name: str, **inputs) -> dict:
    return {"type": "azure-native:web:WebApp", "name": "orders-azure-consumer", "outputs": {"name": name},
            "inputs": {"resourceGroupName": "rg", "kind": "functionapp,linux", "siteConfig": {"minTlsVersion": "1.2"}, **inputs}}


def bucket(name: str, **inputs) -> dict:
    return {"type": "gcp:storage/bucket:Bucket", "name": name, "outputs": {"name": name}, "inputs": {"location": "europe-west1", **inputs}}


RESOURCES = [
    queue_policy("public-policy", "*"),
    queue_policy("account-policy", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
    log_group("short-logs", 30.0),
    log_group("year-logs", 400.0),
    lambda_function("untraced"),
    lambda_function("traced", tracingConfig={"mode": "Active"}),
    storage_account("cqbadaccount0000000000aa", enableHttpsTrafficOnly=False, allowSharedKeyAccess=True, networkRuleSet={"defaultAction": "Deny", "bypass": "None"}),
    storage_account("cqgoodaccount000000000aa", enableHttpsTrafficOnly=True, allowSharedKeyAccess=False, networkRuleSet={"defaultAction": "Deny", "bypass": "AzureServices"}),
    web_app("plain-http-app", publicNetworkAccess="Enabled"),
    web_app("https-only-app", httpsOnly=True, publicNetworkAccess="Disabled"),
    bucket("fine-grained-bucket", uniformBucketLevelAccess=False),
    bucket("uniform-bucket", uniformBucketLevelAccess=True, versioning={"enabled": True}),
]


@pytest.fixture(scope="module")
def findings(tmp_path_factory) -> scan.Findings:
    found, counts = scan.scan_resources(RESOURCES, os.environ[scan.CHECKOV_ENV], tmp_path_factory.mktemp("scan"))
    assert found.errors == []
    assert counts == {"terraform": 8, "arm": 4}
    return found


def result(findings: scan.Findings, check: str, resource: str) -> str:
    failed = {(found, where) for found, where, _ in findings.failed}
    passed = set(findings.passed)
    assert not ((check, resource) in failed and (check, resource) in passed)
    return "failed" if (check, resource) in failed else "passed" if (check, resource) in passed else "not checked"


def test_a_queue_policy_open_to_everyone_fails_the_public_queue_check(findings):
    assert result(findings, "CKV_AWS_168", "aws_sqs_queue_policy.public-policy") == "failed"
    assert result(findings, "CKV_AWS_168", "aws_sqs_queue_policy.account-policy") == "passed"


def test_a_log_group_kept_30_days_fails_the_one_year_retention_check_and_400_days_pass(findings):
    assert result(findings, "CKV_AWS_338", "aws_cloudwatch_log_group.short-logs") == "failed"
    assert result(findings, "CKV_AWS_338", "aws_cloudwatch_log_group.year-logs") == "passed"


def test_a_lambda_without_active_tracing_fails_the_xray_check(findings):
    assert result(findings, "CKV_AWS_50", "aws_lambda_function.untraced") == "failed"
    assert result(findings, "CKV_AWS_50", "aws_lambda_function.traced") == "passed"


def test_a_storage_account_open_to_http_fails_and_is_named_by_its_physical_name(findings):
    bad, good = "Microsoft.Storage/storageAccounts.cqbadaccount0000000000aa", "Microsoft.Storage/storageAccounts.cqgoodaccount000000000aa"
    assert result(findings, "CKV_AZURE_3", bad) == "failed"  # enableHttpsTrafficOnly is ARM's supportsHttpsTrafficOnly
    assert result(findings, "CKV_AZURE_3", good) == "passed"
    # networkRuleSet is ARM's networkAcls: trusted services bypass a deny-by-default firewall only when asked.
    assert result(findings, "CKV_AZURE_36", bad) == "failed"
    assert result(findings, "CKV_AZURE_36", good) == "passed"
    assert result(findings, "CKV_AZURE_43", good) == "passed"  # the Pulumi name, with hyphens, would fail


def test_a_web_app_without_https_only_fails_the_https_checks(findings):
    bad, good = "Microsoft.Web/sites.plain-http-app", "Microsoft.Web/sites.https-only-app"
    for check in ("CKV_AZURE_14", "CKV_AZURE_222"):
        assert result(findings, check, bad) == "failed", check
        assert result(findings, check, good) == "passed", check


def test_a_bucket_with_fine_grained_acls_fails_the_uniform_access_check(findings):
    assert result(findings, "CKV_GCP_29", "google_storage_bucket.fine-grained-bucket") == "failed"
    assert result(findings, "CKV_GCP_29", "google_storage_bucket.uniform-bucket") == "passed"
    assert result(findings, "CKV_GCP_78", "google_storage_bucket.fine-grained-bucket") == "failed"  # versioning is a block
    assert result(findings, "CKV_GCP_78", "google_storage_bucket.uniform-bucket") == "passed"
