"""The cross-field rules and the consumer code checks: each fires with a message naming field, value, cloud and range."""

from __future__ import annotations

import pytest

from components.spec import AWS_MAX_QUEUE_NAME, validate
from specs import issues_for, with_changes


# --- cross-field rules -------------------------------------------------------------------------


def test_visibility_below_function_timeout_is_rejected_on_aws(base_spec):
    assert issues_for("orders", with_changes(base_spec, visibility_timeout_seconds=20)) == [
        "queues.orders.visibility_timeout_seconds: 20 is below consumer.timeout_seconds (30); AWS Lambda rejects an SQS "
        "event source whose visibility timeout is shorter than the function timeout (allowed 30..43200 when aws is targeted)"
    ]


def test_fifo_batch_above_ten_is_rejected_on_aws(base_spec):
    assert issues_for("orders", with_changes(base_spec, fifo=True, consumer__batch_size=11)) == [
        "queues.orders.consumer.batch_size: 11 is above AWS Lambda's FIFO maximum of 10 (allowed 1..10 for fifo queues when aws is targeted)"
    ]


def test_fifo_batching_window_is_rejected_on_aws(base_spec):
    assert issues_for("orders", with_changes(base_spec, fifo=True, consumer__max_batching_window_seconds=2)) == [
        "queues.orders.consumer.max_batching_window_seconds: 2 is not supported for FIFO queues by the AWS Lambda SQS "
        "event source (allowed 0 for fifo queues when aws is targeted)"
    ]


def test_batch_above_ten_needs_a_batching_window_on_aws(base_spec):
    assert issues_for("orders", with_changes(base_spec, consumer__batch_size=100)) == [
        "queues.orders.consumer.batch_size: 100 needs consumer.max_batching_window_seconds of at least 1 on AWS Lambda "
        "(allowed 1..10 without a batching window when aws is targeted)"
    ]
    assert validate("orders", with_changes(base_spec, consumer__batch_size=100, consumer__max_batching_window_seconds=1))


def test_dead_letter_retention_shorter_than_source_is_rejected_for_standard_queues(base_spec):
    changed = with_changes(base_spec, message_retention_seconds=86400, dead_letter_retention_seconds=3600)
    assert issues_for("orders", changed) == [
        "queues.orders.dead_letter_retention_seconds: 3600 is below message_retention_seconds (86400); AWS SQS keeps the "
        "original enqueue time in the dead-letter queue, so messages would expire early (allowed 86400..1209600 when aws is targeted)"
    ]
    # FIFO dead-lettering resets the enqueue time, so a shorter DLQ retention is fine there.
    assert validate("orders", with_changes(changed, fifo=True))


def test_queue_name_longer_than_aws_allows_is_rejected(base_spec):
    assert validate("q" * AWS_MAX_QUEUE_NAME, base_spec)
    too_long = "q" * (AWS_MAX_QUEUE_NAME + 1)
    issues = issues_for(too_long, base_spec)
    assert len(issues) == 1 and f"is {AWS_MAX_QUEUE_NAME + 1} characters, above the AWS maximum of {AWS_MAX_QUEUE_NAME}" in issues[0]
    assert issues[0].endswith(f"(allowed 1..{AWS_MAX_QUEUE_NAME} when aws is targeted)")


def test_function_timeout_above_the_ack_deadline_is_rejected_on_gcp(base_spec):
    issues = issues_for("orders", with_changes(base_spec, clouds=["gcp"], visibility_timeout_seconds=60, consumer__timeout_seconds=90))
    assert (
        "queues.orders.consumer.timeout_seconds: 90 is above the Google Cloud Pub/Sub ack deadline (60); a push is "
        "redelivered once the deadline passes (allowed 1..60 when gcp is targeted)"
    ) in issues


@pytest.mark.parametrize(
    ("cloud", "member"),
    [("aws", "*"), ("aws", "arn:aws:iam::123456789012:group/admins"), ("gcp", "allUsers"), ("azure", "not-a-guid")],
)
def test_producers_must_be_named_identities_never_public(base_spec, cloud, member):
    issues = issues_for("orders", with_changes(base_spec, clouds=[cloud], producers={cloud: [member]}))
    assert any(issue.startswith(f"queues.orders.producers.{cloud}[0]: {member!r} is not ") and "public principals are never granted" in issue for issue in issues)


def test_aws_encryption_key_must_be_a_key_arn_not_an_alias(base_spec):
    issues = issues_for("orders", with_changes(base_spec, encryption_keys={"aws": "alias/orders"}))
    assert issues == [
        "queues.orders.encryption_keys.aws: 'alias/orders' is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); "
        "IAM cannot grant kms:Decrypt by alias"
    ]


@pytest.mark.parametrize(
    ("cloud", "key", "wanted"),
    [
        ("azure", "https://vault.example.com/keys/k", "is not a Key Vault key id"),
        ("gcp", "projects/p/cryptoKeys/k", "is not a Cloud KMS key name"),
    ],
)
def test_azure_and_gcp_encryption_keys_must_have_their_cloud_format(base_spec, cloud, key, wanted):
    issues = issues_for("orders", with_changes(base_spec, clouds=[cloud], encryption_keys={cloud: key}))
    assert any(issue.startswith(f"queues.orders.encryption_keys.{cloud}: {key!r} {wanted}") for issue in issues)


def test_a_gcp_cloud_kms_key_name_is_accepted(base_spec):
    key = "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"
    assert validate("orders", with_changes(base_spec, clouds=["gcp"], encryption_keys={"gcp": key})).encryption_keys == {"gcp": key}


def test_an_azure_customer_key_is_refused_because_it_needs_a_premium_namespace(base_spec):
    issues = issues_for("orders", with_changes(base_spec, clouds=["azure"], encryption_keys={"azure": "https://orders-kv.vault.azure.net/keys/queue-key"}))
    assert issues == [
        "queues.orders.encryption_keys.azure: customer-managed keys need a Premium Service Bus namespace, which cloudqueue "
        "does not provision (it shares one Standard namespace per stack); Service Bus encrypts at rest with "
        "Microsoft-managed keys (allowed: no azure key when azure is targeted)"
    ]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("1BAD", "queues.orders.consumer.environment.1BAD: not a valid variable name (letters, digits and '_', starting with a letter)"),
        ("CLOUDQUEUE_HANDLER", "queues.orders.consumer.environment.CLOUDQUEUE_HANDLER: the CLOUDQUEUE_ prefix is reserved for the cloudqueue runtime"),
        ("AWS_REGION", "queues.orders.consumer.environment.AWS_REGION: reserved by AWS Lambda and cannot be set (when aws is targeted)"),
    ],
)
def test_environment_names_must_be_valid_and_unreserved(base_spec, key, expected):
    assert issues_for("orders", with_changes(base_spec, consumer__environment={key: "x"})) == [expected]


def test_environment_larger_than_lambda_allows_is_rejected(base_spec):
    issues = issues_for("orders", with_changes(base_spec, consumer__environment={"BIG": "x" * 4000}))
    assert issues == [
        "queues.orders.consumer.environment: 4003 bytes is above AWS Lambda's limit of 3840 for user variables (allowed 0..3840 when aws is targeted)"
    ]


def test_environment_size_on_aws_counts_utf8_bytes_not_characters(base_spec):
    # 1280 characters of 3 bytes each: 3840 bytes of value, above the limit although 1283 characters are not.
    issues = issues_for("orders", with_changes(base_spec, consumer__environment={"MSG": "\u20ac" * 1280}))
    assert issues == [
        "queues.orders.consumer.environment: 3843 bytes is above AWS Lambda's limit of 3840 for user variables (allowed 0..3840 when aws is targeted)"
    ]


def test_a_one_letter_variable_name_is_refused_on_aws_only(base_spec):
    # Lambda's Environment key pattern is [a-zA-Z]([a-zA-Z0-9_])+ (Lambda API reference, Environment).
    assert issues_for("orders", with_changes(base_spec, consumer__environment={"X": "1"})) == [
        "queues.orders.consumer.environment.X: AWS Lambda needs variable names of at least 2 characters (when aws is targeted)"
    ]
    assert validate("orders", with_changes(base_spec, clouds=["gcp"], consumer__environment={"X": "1"})).consumer.environment == {"X": "1"}


KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"


def test_a_producer_in_another_account_than_the_queue_key_gets_a_warning_naming_the_key_policy_statement(base_spec):
    import json
    import warnings

    from components.spec import CrossAccountProducerWarning

    producers = ["arn:aws:iam::123456789012:role/same-account", "arn:aws:iam::210987654321:role/orders-api"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate("orders", with_changes(base_spec, encryption_keys={"aws": KEY}, producers={"aws": producers}))
    (warning,) = [w.message for w in caught if isinstance(w.message, CrossAccountProducerWarning)]
    text = str(warning)
    assert text.startswith(
        "queues.orders.producers.aws[1]: arn:aws:iam::210987654321:role/orders-api is in account 210987654321, but the queue key "
        f"{KEY} is in 123456789012; SQS uses the key as the sender, so the key policy must allow it: "
    )
    statement = json.loads(text.split("must allow it: ", 1)[1].split("}}}", 1)[0] + "}}}")
    assert statement == {
        "Sid": "AllowProducerThroughSqs",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::210987654321:role/orders-api"},
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}},
    }
    assert text.endswith("grant it sqs:SendMessage on the queue and those two KMS actions on the key (the producer policy cloudqueue creates lives in the queue's account)")


@pytest.mark.parametrize(
    "changes",
    [
        {"producers": {"aws": ["arn:aws:iam::210987654321:role/orders-api"]}},  # no key: SQS-managed encryption needs no grant
        {"encryption_keys": {"aws": KEY}, "producers": {"aws": ["arn:aws:iam::123456789012:root"]}},  # same account as the key
    ],
    ids=["no-key", "same-account"],
)
def test_no_cross_account_warning_without_a_key_or_within_the_keys_account(base_spec, changes):
    import warnings

    from components.spec import CrossAccountProducerWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate("orders", with_changes(base_spec, **changes))
    assert not [w for w in caught if isinstance(w.message, CrossAccountProducerWarning)]


def test_invalid_aws_tags_are_rejected(base_spec):
    issues = issues_for("orders", with_changes(base_spec, tags={"aws:owner": "me", "team": "x" * 257}))
    assert issues == [
        "queues.orders.tags.aws:owner: not a valid AWS tag key (1..128 of letters, digits, spaces and _.:/=+-@, not starting with aws:)",
        f"queues.orders.tags.team: {'x' * 257!r} is not a valid AWS tag value (0..256 of letters, digits, spaces and _.:/=+-@)",
    ]
    too_many = {f"k{i}": "v" for i in range(46)}
    assert issues_for("orders", with_changes(base_spec, tags=too_many)) == [
        "queues.orders.tags: 46 tags is above the AWS maximum of 45 (allowed 0..45 when aws is targeted)"
    ]


def test_unsupported_runtime_is_rejected(base_spec):
    assert issues_for("orders", with_changes(base_spec, consumer__runtime="python2.7")) == [
        "queues.orders.consumer.runtime: 'python2.7' is not supported (allowed: python3.11, python3.12, python3.13)"
    ]


# --- consumer code ---------------------------------------------------------------------------


def test_missing_code_path_is_rejected(base_spec, tmp_path):
    missing = tmp_path / "nowhere"
    assert issues_for("orders", with_changes(base_spec, consumer__code_path=str(missing))) == [
        f"queues.orders.consumer.code_path: {str(missing)!r} is not a directory"
    ]


def test_code_path_is_relative_to_the_project_directory(base_spec, consumer_dir):
    spec = validate("orders", with_changes(base_spec, consumer__code_path="consumer"), base_dir=consumer_dir.parent)
    assert spec.consumer.code_path == consumer_dir.resolve()


@pytest.mark.parametrize(
    ("handler", "expected_end"),
    [
        ("handle", "'handle' is not of the form module.function"),
        ("missing.handle", "module 'missing' not found in"),
        ("handler.process", "handler.py defines no top-level 'process'"),
        ("cloudqueue_runtime.aws.handler", "must name the user's module, not the cloudqueue runtime"),
    ],
)
def test_handler_must_name_an_existing_function(base_spec, handler, expected_end):
    issues = issues_for("orders", with_changes(base_spec, consumer__handler=handler))
    assert len(issues) == 1 and issues[0].startswith("queues.orders.consumer.handler: ") and expected_end in issues[0]


def test_async_or_unparsable_handlers_are_rejected(base_spec, consumer_dir):
    (consumer_dir / "aio.py").write_text("async def handle(message):\n    pass\n")
    (consumer_dir / "broken.py").write_text("def handle(message)\n    pass\n")
    assert "is async; the adapters call the handler synchronously" in issues_for("orders", with_changes(base_spec, consumer__handler="aio.handle"))[0]
    assert "does not parse: " in issues_for("orders", with_changes(base_spec, consumer__handler="broken.handle"))[0]


def test_handler_in_a_package_or_reexported_is_found(base_spec, consumer_dir):
    (consumer_dir / "pkg").mkdir()
    (consumer_dir / "pkg" / "__init__.py").write_text("from .impl import handle\n")
    (consumer_dir / "pkg" / "impl.py").write_text("def handle(message):\n    pass\n")
    assert validate("orders", with_changes(base_spec, consumer__handler="pkg.handle")).consumer.handler == "pkg.handle"
    assert validate("orders", with_changes(base_spec, consumer__handler="pkg.impl.handle")).consumer.handler_module == "pkg.impl"
