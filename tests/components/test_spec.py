"""Validation: every rule of the spec's table fires with a message naming field, value, cloud and range."""

from __future__ import annotations

import copy

import pulumi
import pytest

from components.spec import (
    AWS_MAX_QUEUE_NAME,
    CLOUD_NAMES,
    DEFAULTS,
    LIMITS,
    NAME_LIMITS,
    SpecError,
    azure_instance_memory_mb,
    azure_lock_seconds,
    azure_scale,
    clock_duration,
    gcp_labels,
    iso8601_duration,
    validate,
    validate_all,
)


def issues_for(name: str, spec: dict, **kwargs) -> list[str]:
    with pytest.raises(SpecError) as caught:
        validate(name, spec, **kwargs)
    return caught.value.issues


def with_changes(spec: dict, **changes) -> dict:
    """A copy of `spec` with dotted-path changes, e.g. consumer__memory_mb=64."""
    changed = copy.deepcopy(spec)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = changed
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return changed


# --- schema ------------------------------------------------------------------------------------


def test_valid_spec_resolves_with_documented_defaults(base_spec, consumer_dir):
    spec = validate("orders", base_spec)
    assert spec.fifo is DEFAULTS["fifo"]
    assert spec.message_retention_seconds == 345600
    assert spec.max_delivery_attempts == 5
    assert spec.consumer.memory_mb == 256 and spec.consumer.timeout_seconds == 30
    assert spec.consumer.code_path == consumer_dir.resolve()
    assert (spec.consumer.handler_module, spec.consumer.handler_function) == ("handler", "handle")


def test_visibility_timeout_defaults_to_six_times_timeout_plus_batching_window(base_spec):
    spec = validate("orders", with_changes(base_spec, consumer__timeout_seconds=40, consumer__max_batching_window_seconds=5, consumer__batch_size=100))
    assert spec.visibility_timeout("aws") == 6 * 40 + 5


def test_derived_visibility_is_capped_at_the_pubsub_ack_deadline_range_for_gcp(base_spec):
    spec = validate("orders", with_changes(base_spec, consumer__timeout_seconds=200))
    # The aws value stays uncapped; gcp's derived ack deadline stays inside 10..600.
    assert spec.visibility_timeout("aws") == 1200
    assert spec.visibility_timeout("gcp") == 600


def test_explicit_visibility_timeout_is_used_unchanged(base_spec):
    assert validate("orders", with_changes(base_spec, visibility_timeout_seconds=500)).visibility_timeout("aws") == 500


def test_dead_letter_retention_defaults_to_longest_every_targeted_cloud_allows(base_spec):
    assert validate("orders", base_spec).dead_letter_retention_seconds == 1209600
    # Service Bus keeps dead-lettered messages until read: azure does not lower the default.
    assert validate("orders", with_changes(base_spec, clouds=["aws", "azure"])).dead_letter_retention_seconds == 1209600
    # With gcp targeted too the default drops to Pub/Sub's 7 days.
    assert validate("orders", with_changes(base_spec, clouds=["aws", "azure", "gcp"])).dead_letter_retention_seconds == 604800


def test_unknown_field_is_rejected_with_a_suggestion(base_spec):
    issues = issues_for("orders", with_changes(base_spec, consumer__memmory_mb=256))
    assert issues == [
        "queues.orders.consumer.memmory_mb: unknown field (allowed: batch_size, code_path, environment, handler, "
        "max_batching_window_seconds, max_concurrency, memory_mb, network, runtime, timeout_seconds, tracing); did you mean 'memory_mb'?"
    ]


def test_missing_required_fields_are_named(base_spec):
    issues = issues_for("orders", {"clouds": ["aws"], "consumer": {"handler": "handler.handle"}})
    assert issues == ["queues.orders.consumer.code_path: required field is missing"]
    assert issues_for("orders", {"clouds": ["aws"]}) == ["queues.orders.consumer: required field is missing"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"fifo": "yes"}, "queues.orders.fifo: 'yes' (str) is not a boolean (true or false)"),
        ({"max_delivery_attempts": True}, "queues.orders.max_delivery_attempts: True (bool) is not a whole number"),
        ({"message_retention_seconds": 3.5}, "queues.orders.message_retention_seconds: 3.5 (float) is not a whole number"),
        ({"clouds": "aws"}, "queues.orders.clouds: 'aws' (str) is not a list"),
        ({"tags": ["team"]}, "queues.orders.tags: ['team'] (list) is not a mapping"),
        ({"consumer__environment": {"LEVEL": 3}}, "queues.orders.consumer.environment.LEVEL: 3 (int) is not a string"),
    ],
)
def test_wrong_types_are_rejected(base_spec, changes, expected):
    assert issues_for("orders", with_changes(base_spec, **changes)) == [expected]


def test_numbers_may_not_be_outputs_but_producer_ids_may(base_spec):
    unknown = pulumi.Output.from_input(10)
    issues = issues_for("orders", with_changes(base_spec, max_delivery_attempts=unknown))
    assert issues == ["queues.orders.max_delivery_attempts: must be a plain value, not a pulumi Output, because cloudqueue validates it before deploying"]
    producer = pulumi.Output.from_input("arn:aws:iam::123456789012:role/api")
    assert validate("orders", with_changes(base_spec, producers={"aws": [producer]})).producers["aws"] == (producer,)


def test_a_spec_that_is_not_a_mapping_is_rejected():
    assert issues_for("orders", ["aws"]) == ["queues.orders: ['aws'] (list) is not a mapping of spec fields"]


def test_derived_visibility_is_raised_to_the_pubsub_minimum_ack_deadline(base_spec):
    spec = validate("orders", with_changes(base_spec, consumer__timeout_seconds=1))
    assert (spec.visibility_timeout("aws"), spec.visibility_timeout("gcp")) == (6, 10)


def test_queue_name_with_invalid_characters_is_rejected(base_spec):
    assert issues_for("orders/eu", base_spec) == [
        "queues.orders/eu: the queue name must start with a letter or digit and hold only letters, digits, '-' and '_'"
    ]


def test_single_cloud_component_rejects_a_clouds_field(base_spec):
    issues = issues_for("orders", base_spec, clouds=("aws",))
    assert issues == ["queues.orders.clouds: not accepted by a single-cloud component, which always targets aws"]


# --- clouds --------------------------------------------------------------------------------------


def test_clouds_must_not_be_empty(base_spec):
    assert issues_for("orders", with_changes(base_spec, clouds=[])) == [
        "queues.orders.clouds: [] is empty (allowed: a non-empty subset of aws, azure, gcp)"
    ]


def test_unknown_cloud_is_rejected(base_spec):
    assert "queues.orders.clouds: 'oci' is not a cloud (allowed: aws, azure, gcp)" in issues_for("orders", with_changes(base_spec, clouds=["oci"]))


def test_every_cloud_is_supported(base_spec):
    assert validate("orders", with_changes(base_spec, clouds=["aws", "azure", "gcp"])).clouds == ("aws", "azure", "gcp")


def test_a_cloud_named_twice_is_rejected(base_spec):
    assert issues_for("orders", with_changes(base_spec, clouds=["aws", "aws"])) == [
        "queues.orders.clouds: ['aws', 'aws'] names a cloud twice"
    ]


def test_keys_and_producers_for_untargeted_clouds_are_rejected(base_spec):
    issues = issues_for("orders", with_changes(base_spec, producers={"gcp": ["serviceAccount:a@p.iam.gserviceaccount.com"]}))
    assert issues == ["queues.orders.producers.gcp: 'gcp' is not in clouds ['aws']"]


# --- per-cloud limits: every row of the table fires --------------------------------------------


def _limit_spec(base: dict, field: str, value: int) -> dict:
    return with_changes(base, **{field.replace(".", "__"): value})


@pytest.mark.parametrize("limit", LIMITS, ids=lambda l: f"{l.cloud}-{l.field}")
def test_every_cloud_limit_rejects_values_outside_its_range(base_spec, limit):
    base = with_changes(base_spec, clouds=[limit.cloud])
    if limit.field == "consumer.batch_size":  # large batches need a window: keep that rule quiet
        base = with_changes(base, consumer__max_batching_window_seconds=1)
    allowed = f"{limit.low}..{limit.high}" if limit.high is not None else f"{limit.low} or more"
    suffix = f"(allowed {allowed} when {limit.cloud} is targeted)"
    below = issues_for("orders", _limit_spec(base, limit.field, limit.low - 1))
    assert f"queues.orders.{limit.field}: {limit.low - 1} is below {limit.service}'s minimum of {limit.low} {suffix}" in below
    if limit.high is not None:
        above = issues_for("orders", _limit_spec(base, limit.field, limit.high + 1))
        assert f"queues.orders.{limit.field}: {limit.high + 1} is above {limit.service}'s maximum of {limit.high} {suffix}" in above


def test_pubsub_minimum_delivery_attempts_message_matches_the_brief(base_spec):
    issues = issues_for("orders", with_changes(base_spec, clouds=["gcp"], max_delivery_attempts=3))
    assert "queues.orders.max_delivery_attempts: 3 is below Google Cloud Pub/Sub's minimum of 5 (allowed 5..100 when gcp is targeted)" in issues


def test_lambda_memory_below_minimum_is_rejected_not_clamped(base_spec):
    assert issues_for("orders", with_changes(base_spec, consumer__memory_mb=64)) == [
        "queues.orders.consumer.memory_mb: 64 is below AWS Lambda's minimum of 128 (allowed 128..10240 when aws is targeted)"
    ]


def test_limits_of_untargeted_clouds_do_not_apply(base_spec):
    # 3 attempts is fine on SQS; only Pub/Sub needs 5 or more.
    assert validate("orders", with_changes(base_spec, max_delivery_attempts=3)).max_delivery_attempts == 3


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


# --- whole stacks -----------------------------------------------------------------------------


def test_validate_all_reports_every_queue_problem_together(base_spec):
    queues = {"orders": with_changes(base_spec, consumer__memory_mb=64), "payments": with_changes(base_spec, max_delivery_attempts=0)}
    with pytest.raises(SpecError) as caught:
        validate_all(queues)
    assert [issue.split(":")[0] for issue in caught.value.issues] == [
        "queues.orders.consumer.memory_mb",
        "queues.payments.max_delivery_attempts",
    ]
    assert str(caught.value).startswith("invalid cloudqueue spec:\n  - queues.orders.consumer.memory_mb: 64 is below")


def test_validate_all_needs_a_mapping_of_queues():
    with pytest.raises(SpecError, match=r"queues: \[\] \(list\) must be a non-empty mapping of queue name to spec"):
        validate_all([])


# --- Azure and Google Cloud rules --------------------------------------------------------------


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_queue_name_longer_than_each_cloud_allows_is_rejected(base_spec, cloud):
    limit = NAME_LIMITS[cloud]
    spec = with_changes(base_spec, clouds=[cloud])
    assert validate("q" * limit.max_queue_name, spec)
    issues = issues_for("q" * (limit.max_queue_name + 1), spec)
    assert len(issues) == 1
    assert f"above the {CLOUD_NAMES[cloud]} maximum of {limit.max_queue_name} ({limit.longest} are capped at {limit.limit}" in issues[0]
    assert issues[0].endswith(f"(allowed 1..{limit.max_queue_name} when {cloud} is targeted)")


@pytest.mark.parametrize("name", ["Orders", "orders_eu", "9orders", "orders--eu", "orders-"])
@pytest.mark.parametrize("cloud", ["azure", "gcp"])
def test_queue_names_must_be_dns_style_on_azure_and_gcp(base_spec, name, cloud):
    issues = issues_for(name, with_changes(base_spec, clouds=[cloud]))
    assert issues == [
        f"queues.{name}: the queue name {name!r} must be lowercase letters, digits and single hyphens, starting with a letter, "
        f"because it names Function Apps, storage containers and Cloud Run services (when {cloud} is targeted)"
    ]
    # AWS alone accepts them.
    if name not in ("orders-",):
        assert validate(name, base_spec)


@pytest.mark.parametrize(
    ("cloud", "key", "service"),
    [
        ("azure", "WEBSITE_RUN_FROM_PACKAGE", "Azure Functions"),
        ("azure", "AzureWebJobsStorage", "Azure Functions"),
        ("azure", "FUNCTIONS_WORKER_RUNTIME", "Azure Functions"),
        ("gcp", "K_SERVICE", "Google Cloud Functions"),
        ("gcp", "PORT", "Google Cloud Functions"),
    ],
)
def test_environment_names_the_function_host_owns_are_rejected(base_spec, cloud, key, service):
    issues = issues_for("orders", with_changes(base_spec, clouds=[cloud], consumer__environment={key: "x"}))
    assert issues == [f"queues.orders.consumer.environment.{key}: reserved by {service} and cannot be set (when {cloud} is targeted)"]


@pytest.mark.parametrize(("cloud", "file_name"), [("azure", "function_app.py"), ("azure", "host.json"), ("gcp", "main.py")])
def test_a_user_file_named_like_a_generated_entry_point_is_rejected(base_spec, consumer_dir, cloud, file_name):
    (consumer_dir / file_name).write_text("")
    issues = issues_for("orders", with_changes(base_spec, clouds=[cloud]))
    assert len(issues) == 1
    assert issues[0].startswith(f"queues.orders.consumer.code_path: {file_name} is generated by cloudqueue as the {CLOUD_NAMES[cloud]} entry point")
    assert issues[0].endswith(f"(when {cloud} is targeted)")
    assert validate("orders", base_spec)  # aws generates no entry point


def test_a_handler_module_named_main_is_rejected_on_gcp(base_spec, consumer_dir):
    (consumer_dir / "app").mkdir()
    (consumer_dir / "app" / "__init__.py").write_text("")
    (consumer_dir / "app" / "main.py").write_text("def handle(message):\n    pass\n")
    assert validate("orders", with_changes(base_spec, clouds=["gcp"], consumer__handler="app.main.handle"))
    (consumer_dir / "main").mkdir()
    (consumer_dir / "main" / "__init__.py").write_text("def handle(message):\n    pass\n")
    assert issues_for("orders", with_changes(base_spec, clouds=["gcp"], consumer__handler="main.handle")) == [
        "queues.orders.consumer.handler: module 'main' is the Google Cloud entry point cloudqueue generates; rename the module (when gcp is targeted)"
    ]


def test_tags_that_become_the_same_gcp_label_are_rejected(base_spec):
    issues = issues_for("orders", with_changes(base_spec, clouds=["gcp"], tags={"Team": "a", "team": "b"}))
    assert issues == [
        "queues.orders.tags.team: becomes the Google Cloud label 'team', as 'Team' does; labels are lowercase letters, "
        "digits, '_' and '-' (when gcp is targeted)"
    ]
    # cloudqueue's own label is taken too.
    assert "queues.orders.tags.cloudqueue:queue" in issues_for("orders", with_changes(base_spec, clouds=["gcp"], tags={"cloudqueue_queue": "x"}))[0]


def test_more_tags_than_gcp_labels_allow_are_rejected(base_spec):
    issues = issues_for("orders", with_changes(base_spec, clouds=["gcp"], tags={f"k{i}": "v" for i in range(64)}))
    assert issues == ["queues.orders.tags: 64 tags is above the Google Cloud maximum of 63 labels (allowed 0..63 when gcp is targeted)"]


def test_invalid_azure_tags_are_rejected(base_spec):
    issues = issues_for("orders", with_changes(base_spec, clouds=["azure"], tags={"a/b": "x", "team": "y" * 257}))
    assert issues == [
        "queues.orders.tags.a/b: not a valid Azure tag name (at most 512 characters, none of < > % & \\ ? /) (when azure is targeted)",
        "queues.orders.tags.team: a value of 257 characters is above the Azure maximum of 256 (when azure is targeted)",
    ]
    assert issues_for("orders", with_changes(base_spec, clouds=["azure"], tags={f"k{i}": "v" for i in range(50)})) == [
        "queues.orders.tags: 50 tags is above the Azure maximum of 49 (allowed 0..49 when azure is targeted)"
    ]


@pytest.mark.parametrize("member", ["0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9", "User:0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9", "Group:0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9"])
def test_azure_producers_are_object_ids_optionally_typed(base_spec, member):
    assert validate("orders", with_changes(base_spec, clouds=["azure"], producers={"azure": [member]})).producers == {"azure": (member,)}


# --- mappings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "iso"), [(0, "PT0S"), (5, "PT5S"), (180, "PT3M"), (300, "PT5M"), (3661, "PT1H1M1S"), (345600, "P4D"), (1209600, "P14D"), (90061, "P1DT1H1M1S")]
)
def test_durations_map_to_iso_8601_for_service_bus(seconds, iso):
    assert iso8601_duration(seconds) == iso


def test_durations_map_to_clock_time_for_host_json():
    assert [clock_duration(s) for s in (30, 600, 3600, 5400)] == ["00:00:30", "00:10:00", "01:00:00", "01:30:00"]


@pytest.mark.parametrize(("concurrency", "scale"), [(1, (1, 1)), (10, (1, 10)), (16, (1, 16)), (17, (2, 8)), (50, (4, 12)), (1000, (63, 15)), (16000, (1000, 16))])
def test_azure_concurrency_maps_to_instances_times_calls_never_above_the_spec(concurrency, scale):
    instances, calls = azure_scale(concurrency)
    assert (instances, calls) == scale
    assert instances * calls <= concurrency and instances <= 1000 and calls <= 16


@pytest.mark.parametrize(("memory", "size"), [(128, 512), (512, 512), (513, 2048), (2048, 2048), (4096, 4096)])
def test_azure_memory_rounds_up_to_a_flex_instance_size(memory, size):
    assert azure_instance_memory_mb(memory) == size


def test_azure_lock_is_the_visibility_timeout_capped_at_five_minutes(base_spec):
    assert azure_lock_seconds(validate("orders", with_changes(base_spec, clouds=["azure"]))) == 180
    assert azure_lock_seconds(validate("orders", with_changes(base_spec, clouds=["azure"], visibility_timeout_seconds=900))) == 300


def test_tags_map_to_gcp_labels():
    assert gcp_labels({"Team": "Payments", "cloudqueue:queue": "orders", "9lives": "A B", "x": "y" * 80}) == {
        "team": "payments",
        "cloudqueue_queue": "orders",
        "t9lives": "a_b",
        "x": "y" * 63,
    }


NETWORK_ISSUES = [
    ({"aws": {"subnet_ids": ["subnet-12"], "security_group_ids": ["sg-0123456789abcdef0"]}}, ["aws"],
     "consumer.network.aws.subnet_ids[0]: 'subnet-12' is not an AWS subnet id (subnet- and 8 or 17 hex digits) (when aws is targeted)"),
    ({"aws": {"subnet_ids": [f"subnet-{i:017x}" for i in range(17)], "security_group_ids": ["sg-0123456789abcdef0"]}}, ["aws"],
     "consumer.network.aws.subnet_ids: 17 ids is outside AWS Lambda's range (allowed 1..16 when aws is targeted)"),
    ({"aws": {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": []}}, ["aws"],
     "consumer.network.aws.security_group_ids: 0 ids is outside AWS Lambda's range (allowed 1..5 when aws is targeted)"),
    ({"aws": {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["sg-zz"]}}, ["aws"],
     "consumer.network.aws.security_group_ids[0]: 'sg-zz' is not an AWS security group id (sg- and 8 or 17 hex digits) (when aws is targeted)"),
    ({"azure": {"subnet_id": "functions"}}, ["azure"],
     "consumer.network.azure.subnet_id: 'functions' is not an Azure subnet resource id"),
    ({"gcp": {"network": "core", "subnetwork": "projects/my-project/regions/europe-west1/subnetworks/functions"}}, ["gcp"],
     "consumer.network.gcp.network: 'core' is not a Google Cloud network name (projects/<project>/global/networks/<name>) (when gcp is targeted)"),
    ({"gcp": {"network": "projects/my-project/global/networks/core", "subnetwork": "functions"}}, ["gcp"],
     "consumer.network.gcp.subnetwork: 'functions' is not a Google Cloud subnetwork name"),
    ({"gcp": {"network": "projects/my-project/global/networks/core", "subnetwork": "projects/my-project/regions/europe-west1/subnetworks/f", "egress": "all"}}, ["gcp"],
     "consumer.network.gcp.egress: 'all' is not a Direct VPC egress setting (allowed: private-ranges-only, all-traffic when gcp is targeted)"),
    ({"gcp": {"network": "projects/my-project/global/networks/core", "subnetwork": "projects/my-project/regions/europe-west1/subnetworks/f"}}, ["aws"],
     "consumer.network.gcp: 'gcp' is not in clouds ['aws']"),
    ({"aws": {"subnet_ids": ["subnet-0123456789abcdef0"]}}, ["aws"], "consumer.network.aws.security_group_ids: required field is missing"),
]


@pytest.mark.parametrize(("network", "clouds", "words"), NETWORK_ISSUES, ids=[f"network-{i}" for i in range(len(NETWORK_ISSUES))])
def test_each_network_rule_names_the_field_cloud_and_allowed_shape(base_spec, network, clouds, words):
    issues = issues_for("orders", with_changes(base_spec, clouds=clouds, consumer__network=network))
    assert len(issues) == 1 and words in issues[0] and issues[0].startswith("queues.orders.")


def test_valid_networks_on_every_cloud_pass(base_spec):
    network = {
        "aws": {"subnet_ids": ["subnet-0123456789abcdef0", "subnet-01234567"], "security_group_ids": ["sg-0123456789abcdef0"]},
        "azure": {"subnet_id": "/subscriptions/3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/core/subnets/fn"},
        "gcp": {"network": "projects/my-project/global/networks/core", "subnetwork": "projects/my-project/regions/europe-west1/subnetworks/fn"},
    }
    spec = validate("orders", with_changes(base_spec, clouds=["aws", "azure", "gcp"], consumer__network=network))
    assert spec.consumer.network == network


def test_tracing_is_on_by_default_and_must_be_a_boolean(base_spec):
    assert validate("orders", base_spec).consumer.tracing is True
    assert validate("orders", with_changes(base_spec, consumer__tracing=False)).consumer.tracing is False
    assert issues_for("orders", with_changes(base_spec, consumer__tracing="off")) == ["queues.orders.consumer.tracing: 'off' (str) is not a boolean (true or false)"]


def test_a_subnet_from_another_stack_may_be_an_output_but_a_list_shape_is_still_checked(base_spec):
    subnet = pulumi.Output.from_input("/subscriptions/x")
    spec = validate("orders", with_changes(base_spec, clouds=["azure"], consumer__network={"azure": {"subnet_id": subnet}}))
    assert spec.consumer.network["azure"]["subnet_id"] is subnet
    assert "is not a list" in issues_for("orders", with_changes(base_spec, consumer__network={"aws": {"subnet_ids": "subnet-01234567", "security_group_ids": ["sg-01234567"]}}))[0]
