"""AwsQueue wiring, checked through realistic mocks with preview=True and preview=False."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest

from components import AwsQueue, Queue, SpecError
from components.aws import VPC_DESCRIBE_ACTIONS, VPC_INTERFACE_ACTIONS
from components.spec import AWS_MAX_QUEUE_NAME
from pulumi_mocks import ACCOUNT, REGION, Engine
from specs import single_cloud_args

QUEUE = "aws:sqs/queue:Queue"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"


COMPONENT = AwsQueue
"""The component the shared `default` fixture (conftest.py) builds once per mode."""


def build(engine, base_spec, name="orders", opts=None, **changes) -> AwsQueue:
    return engine.run(lambda: AwsQueue(name, single_cloud_args(base_spec, **changes), opts))


def statements(document: dict) -> list[dict]:
    return document["Statement"]


def test_main_queue_redrives_to_dead_letter_queue_after_max_delivery_attempts(engine, base_spec):
    build(engine, base_spec, max_delivery_attempts=7)
    queue, dead_letter = engine.one(QUEUE, "-queue"), engine.one(QUEUE, "-dead-letter")
    assert json.loads(queue.inputs["redrivePolicy"]) == {"deadLetterTargetArn": dead_letter.outputs["arn"], "maxReceiveCount": 7}
    assert "redrivePolicy" not in dead_letter.inputs


def test_dead_letter_queue_accepts_redrive_only_from_its_source_queue(default):
    engine, _ = default
    allow = engine.one("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy")
    assert allow.inputs["queueUrl"] == engine.one(QUEUE, "-dead-letter").outputs["url"]
    assert json.loads(allow.inputs["redriveAllowPolicy"]) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [engine.one(QUEUE, "-queue").outputs["arn"]],
    }


def test_dead_letter_queue_keeps_messages_longer_than_the_source_queue(engine, base_spec):
    build(engine, base_spec, message_retention_seconds=86400)
    assert engine.one(QUEUE, "-queue").inputs["messageRetentionSeconds"] == 86400
    assert engine.one(QUEUE, "-dead-letter").inputs["messageRetentionSeconds"] == 1209600


def test_visibility_timeout_defaults_to_six_times_function_timeout_plus_window(engine, base_spec):
    build(engine, base_spec, consumer={"timeout_seconds": 45, "batch_size": 50, "max_batching_window_seconds": 4})
    assert engine.one(QUEUE, "-queue").inputs["visibilityTimeoutSeconds"] == 6 * 45 + 4
    assert engine.one(QUEUE, "-queue").outputs["visibilityTimeoutSeconds"] == 6 * 45 + 4
    assert engine.one(FUNCTION).inputs["timeout"] == 45


def test_event_source_mapping_reports_batch_item_failures_with_maximum_concurrency(engine, base_spec):
    build(engine, base_spec, consumer={"batch_size": 200, "max_batching_window_seconds": 3, "max_concurrency": 25})
    mapping, function = engine.one(MAPPING), engine.one(FUNCTION)
    assert mapping.inputs["eventSourceArn"] == engine.one(QUEUE, "-queue").outputs["arn"]
    assert mapping.inputs["functionName"] == function.outputs["arn"]
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["batchSize"] == 200
    assert mapping.inputs["maximumBatchingWindowInSeconds"] == 3
    assert mapping.inputs["scalingConfig"] == {"maximumConcurrency": 25}
    assert "reservedConcurrentExecutions" not in function.inputs
    # Lambda checks the role's SQS permissions when the mapping is created.
    assert engine.one(ROLE_POLICY).urn in mapping.dependencies


XRAY = (("xray:PutTraceSegments", "xray:PutTelemetryRecords"), "*")


def test_consumer_role_may_only_consume_this_queue_write_its_own_logs_and_send_traces(default):
    engine, _ = default
    queue_arn = engine.one(QUEUE, "-queue").outputs["arn"]
    log_arn = engine.one("aws:cloudwatch/logGroup:LogGroup").outputs["arn"]
    policy = statements(engine.policy(engine.one(ROLE_POLICY)))
    assert {(tuple(s["Action"]), s["Resource"]) for s in policy} == {
        (("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"), queue_arn),
        (("logs:CreateLogStream", "logs:PutLogEvents"), f"{log_arn}:*"),
        XRAY,
    }
    trust = json.loads(engine.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert statements(trust) == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    assert engine.one(FUNCTION).inputs["role"] == engine.one("aws:iam/role:Role").outputs["arn"]


def test_no_iam_statement_uses_a_wildcard_action_or_resource_beyond_the_x_ray_writes(engine, base_spec):
    network = {"aws": {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["sg-0123456789abcdef0"]}}
    consumer = {**base_spec["consumer"], "network": network}
    build(engine, base_spec, encryption_keys={"aws": KEY_ARN}, producers={"aws": [f"arn:aws:iam::{ACCOUNT}:role/api"]}, consumer=consumer)
    # The only wildcards allowed: log stream names (Lambda picks them) inside our own log group,
    # new interfaces in the given subnets, and the X-Ray writes and EC2 describes, which support
    # no resource ARN at all.
    log_streams = engine.one("aws:cloudwatch/logGroup:LogGroup").outputs["arn"] + ":*"
    documents = [engine.policy(engine.one(ROLE_POLICY)), *(engine.policy(policy) for policy in engine.all(MANAGED_POLICY))]
    checked = 0
    for statement in (s for d in documents for s in statements(d)):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), statement
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if resources == ["*"]:
            assert tuple(actions) in (XRAY[0], tuple(VPC_DESCRIBE_ACTIONS)), statement
        else:
            # Shared subnets and groups match any owner account, for the named ids only.
            named = ("arn:aws:ec2:us-east-1:*:subnet/subnet-0123456789abcdef0", "arn:aws:ec2:us-east-1:*:security-group/sg-0123456789abcdef0")
            assert all("*" not in resource or resource in (log_streams, f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*", *named) for resource in resources), statement
        checked += 1
    assert checked == 8 + 3  # the role's and producer policy's, and the operator policy's three


def test_tracing_is_active_by_default_and_off_drops_the_x_ray_grant(engine, base_spec):
    build(engine, base_spec)
    assert engine.one(FUNCTION).inputs["tracingConfig"] == {"mode": "Active"}
    off = Engine(preview=engine.preview)
    off.run(lambda: AwsQueue("orders", single_cloud_args(base_spec, consumer={**base_spec["consumer"], "tracing": False})))
    assert off.one(FUNCTION).inputs["tracingConfig"] == {"mode": "PassThrough"}
    assert not [s for s in statements(off.policy(off.one(ROLE_POLICY))) if any(a.startswith("xray:") for a in s["Action"])]


def test_the_queue_key_encrypts_the_function_environment_and_its_log_group(engine, base_spec):
    build(engine, base_spec, encryption_keys={"aws": KEY_ARN})
    assert engine.one(FUNCTION).inputs["kmsKeyArn"] == KEY_ARN  # CKV_AWS_173
    assert engine.one("aws:cloudwatch/logGroup:LogGroup").inputs["kmsKeyId"] == KEY_ARN  # CKV_AWS_158
    assert engine.one(FUNCTION).inputs["environment"]["variables"]["CLOUDQUEUE_QUEUE"] == "orders"


def test_network_puts_the_function_in_the_vpc_and_grants_interface_management_only_then(engine, base_spec):
    network = {"aws": {"subnet_ids": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"], "security_group_ids": ["sg-0123456789abcdef0"]}}
    build(engine, base_spec, consumer={**base_spec["consumer"], "network": network})
    assert engine.one(FUNCTION).inputs["vpcConfig"] == {"subnetIds": network["aws"]["subnet_ids"], "securityGroupIds": network["aws"]["security_group_ids"]}
    vpc = {tuple(s["Action"]): s["Resource"] for s in statements(engine.policy(engine.one(ROLE_POLICY))) if s["Action"][0].startswith("ec2:")}
    ec2 = f"arn:aws:ec2:{REGION}:"
    assert vpc == {
        tuple(VPC_DESCRIBE_ACTIONS): "*",  # Describe* supports no resource ARN
        tuple(VPC_INTERFACE_ACTIONS): [
            f"{ec2}{ACCOUNT}:network-interface/*",  # Lambda creates the interfaces in the function's account
            f"{ec2}*:subnet/subnet-0123456789abcdef0",  # any owner: a subnet may be shared from another account
            f"{ec2}*:subnet/subnet-0fedcba9876543210",
            f"{ec2}*:security-group/sg-0123456789abcdef0",
        ],
    }
    # Lambda checks the interface permissions when it creates the function.
    assert engine.one(ROLE_POLICY).urn in engine.one(FUNCTION).dependencies


def _allows(patterns: list[str], arn: str) -> bool:
    """IAM's ARN matching for Resource: `*` spans any characters, segment by segment."""
    import fnmatch

    return any(len(p.split(":")) == len(arn.split(":")) and all(fnmatch.fnmatchcase(a, q) for q, a in zip(p.split(":"), arn.split(":"))) for p in patterns)


def test_interface_grants_match_subnets_and_groups_shared_from_another_account_and_nothing_else(engine, base_spec):
    owner = "210987654321"  # the VPC owner; the function's account is ACCOUNT
    network = {"aws": {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["sg-0123456789abcdef0"]}}
    build(engine, base_spec, consumer={**base_spec["consumer"], "network": network})
    (grant,) = [s["Resource"] for s in statements(engine.policy(engine.one(ROLE_POLICY))) if s.get("Sid") == "ManageInterfacesInTheseSubnets"]
    # What ec2:CreateNetworkInterface is authorized against when Lambda puts an interface in a shared subnet.
    assert _allows(grant, f"arn:aws:ec2:{REGION}:{owner}:subnet/subnet-0123456789abcdef0")
    assert _allows(grant, f"arn:aws:ec2:{REGION}:{owner}:security-group/sg-0123456789abcdef0")
    assert _allows(grant, f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/eni-0123456789abcdef0")
    # Other subnets, groups, regions, and interfaces of the VPC owner stay out.
    assert not _allows(grant, f"arn:aws:ec2:{REGION}:{owner}:subnet/subnet-0fedcba9876543210")
    assert not _allows(grant, f"arn:aws:ec2:{REGION}:{owner}:security-group/sg-0fedcba9876543210")
    assert not _allows(grant, f"arn:aws:ec2:eu-west-1:{owner}:subnet/subnet-0123456789abcdef0")
    assert not _allows(grant, f"arn:aws:ec2:{REGION}:{owner}:network-interface/eni-0123456789abcdef0")


def test_the_role_holds_exactly_the_vpc_actions_of_lambdas_managed_vpc_policy(engine, base_spec):
    network = {"aws": {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["sg-0123456789abcdef0"]}}
    build(engine, base_spec, consumer={**base_spec["consumer"], "network": network})
    ec2 = {a for s in statements(engine.policy(engine.one(ROLE_POLICY))) for a in s["Action"] if a.startswith("ec2:")}
    # AWSLambdaVPCAccessExecutionRole v3 (2024-01-05): its EC2 actions; logs are granted on our own group.
    assert ec2 == {
        "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
    }


def test_without_network_the_function_has_no_vpc_and_no_ec2_permission(default):
    engine, _ = default
    assert "vpcConfig" not in engine.one(FUNCTION).inputs
    assert not [s for s in statements(engine.policy(engine.one(ROLE_POLICY))) if any(a.startswith("ec2:") for a in s["Action"])]


def test_queues_use_sqs_managed_encryption_by_default(default):
    engine, _ = default
    for queue in engine.all(QUEUE):
        assert queue.inputs["sqsManagedSseEnabled"] is True
        assert "kmsMasterKeyId" not in queue.inputs


def test_kms_key_encrypts_both_queues_and_grants_decrypt_via_sqs_and_lambda_only(engine, base_spec):
    build(engine, base_spec, encryption_keys={"aws": KEY_ARN})
    for queue in engine.all(QUEUE):
        assert queue.inputs["kmsMasterKeyId"] == KEY_ARN
        assert "sqsManagedSseEnabled" not in queue.inputs
    via_sqs = {"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}}
    via_sqs_and_lambda = {"StringEquals": {"kms:ViaService": [f"sqs.{REGION}.amazonaws.com", f"lambda.{REGION}.amazonaws.com"]}}
    consumer = statements(engine.policy(engine.one(ROLE_POLICY)))
    assert {"Sid": "DecryptWithQueueKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": KEY_ARN, "Condition": via_sqs_and_lambda} in consumer
    producer = statements(engine.policy(engine.one(MANAGED_POLICY, "-producer-policy")))
    assert {"Sid": "EncryptForThisQueue", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": KEY_ARN, "Condition": via_sqs} in producer


def test_without_a_key_no_kms_permission_is_granted(default):
    engine, _ = default
    documents = [engine.policy(engine.one(ROLE_POLICY)), *(engine.policy(policy) for policy in engine.all(MANAGED_POLICY))]
    assert not [s for d in documents for s in statements(d) if any(a.startswith("kms:") for a in s["Action"])]


def test_both_queue_policies_deny_requests_without_tls(default):
    engine, _ = default
    policies = {p.name: p for p in engine.all(QUEUE_POLICY)}
    for role in ("queue", "dead-letter"):
        policy = policies[f"orders-{role}-policy"]
        target = engine.one(QUEUE, f"-{role}")
        assert policy.inputs["queueUrl"] == target.outputs["url"]
        deny = statements(engine.policy(policy))[0]
        assert deny == {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": target.outputs["arn"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }


def test_listed_producers_may_send_to_this_queue_only(engine, base_spec):
    producer = f"arn:aws:iam::{ACCOUNT}:role/orders-api"
    component = build(engine, base_spec, producers={"aws": [producer]})
    queue_arn = engine.one(QUEUE, "-queue").outputs["arn"]
    grant = statements(engine.policy(engine.one(QUEUE_POLICY, "orders-queue-policy")))[1]
    assert grant == {
        "Sid": "AllowListedProducers",
        "Effect": "Allow",
        "Principal": {"AWS": [producer]},
        "Action": ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"],
        "Resource": queue_arn,
    }
    send = statements(engine.policy(engine.one(MANAGED_POLICY, "-producer-policy")))
    assert send == [{"Sid": "SendToThisQueue", "Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"], "Resource": queue_arn}]
    assert engine.resolve(component.producer_policy_arn) == engine.one(MANAGED_POLICY, "-producer-policy").outputs["arn"]
    # The dead-letter queue grants nobody send rights.
    assert len(statements(engine.policy(engine.one(QUEUE_POLICY, "dead-letter-policy")))) == 1


def test_fifo_makes_both_queues_fifo_with_fifo_names_and_no_batching_window(engine, base_spec):
    component = build(engine, base_spec, fifo=True)
    for queue in engine.all(QUEUE):
        assert queue.inputs["fifoQueue"] is True
        assert queue.outputs["name"].endswith(".fifo") and queue.outputs["arn"].endswith(".fifo")
    assert engine.one(QUEUE, "-queue").inputs["contentBasedDeduplication"] is True
    assert "maximumBatchingWindowInSeconds" not in engine.one(MAPPING).inputs
    assert engine.resolve(component.dlq_url).endswith(".fifo")


@pytest.mark.parametrize("size", [None, 1048576])
def test_both_queues_take_the_specs_message_size_which_the_provider_would_leave_at_256_kib(engine, base_spec, size):
    # Unset, the provider sends its own 262144 whatever SQS allows (the mocks answer so): the component
    # always sets it, on the dead-letter queue too, so a redriven message fits both ways.
    build(engine, base_spec, **({"max_message_bytes": size} if size else {}))
    for queue in engine.all(QUEUE):
        assert queue.inputs["maxMessageSize"] == queue.outputs["maxMessageSize"] == (size or 262144), queue.name


def test_redrive_policy_carries_max_receive_count_as_a_json_number(engine, base_spec):
    # A string ("5") never reads back equal, and the provider waits for it until it times out.
    build(engine, base_spec, max_delivery_attempts=5)
    assert type(json.loads(engine.one(QUEUE, "-queue").inputs["redrivePolicy"])["maxReceiveCount"]) is int


def test_standard_queues_are_not_fifo(default):
    engine, _ = default
    for queue in engine.all(QUEUE):
        assert "fifoQueue" not in queue.inputs and not queue.outputs["name"].endswith(".fifo")


def test_every_child_is_parented_to_the_component(default):
    engine, _ = default
    component = engine.one("cloudqueue:index:AwsQueue")
    children = [r for r in engine.all() if r is not component]
    assert len(children) == 14  # with the operator policy and the two dead-letter alarms
    for child in children:
        assert child.parent == component.urn, child.name
        assert child.name.startswith("orders-"), child.name


def test_protect_covers_queues_and_dead_letter_queues_only(engine, base_spec):
    build(engine, base_spec, opts=pulumi.ResourceOptions(protect=True))
    protected = sorted(r.name for r in engine.all() if r.custom and r.protect)
    assert protected == ["orders-dead-letter", "orders-queue"]


def test_without_protect_nothing_is_protected(default):
    engine, _ = default
    assert not [r.name for r in engine.all() if r.protect]


def test_lambda_runs_the_adapter_on_arm64_with_the_user_handler_named(engine, base_spec):
    build(engine, base_spec, consumer={"memory_mb": 512, "environment": {"LOG_LEVEL": "debug"}})
    function = engine.one(FUNCTION)
    assert function.inputs["handler"] == "cloudqueue_runtime.aws.handler"
    assert function.inputs["architectures"] == ["arm64"]
    assert function.inputs["runtime"] == "python3.12"
    assert function.inputs["memorySize"] == 512
    assert function.inputs["environment"] == {"variables": {"LOG_LEVEL": "debug", "CLOUDQUEUE_HANDLER": "handler.handle", "CLOUDQUEUE_QUEUE": "orders"}}
    log_group = engine.one("aws:cloudwatch/logGroup:LogGroup")
    assert function.inputs["loggingConfig"] == {"logFormat": "Text", "logGroup": log_group.outputs["name"]}


def test_lambda_code_is_the_built_artifact_with_its_hash(engine, base_spec):
    import base64
    import hashlib

    build(engine, base_spec)
    function = engine.one(FUNCTION)
    archive = Path(function.inputs["code"].path)
    assert archive.is_file()
    assert function.inputs["sourceCodeHash"] == base64.b64encode(hashlib.sha256(archive.read_bytes()).digest()).decode()


def test_log_group_has_finite_retention(default):
    engine, _ = default
    assert engine.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 30


def test_outputs_are_the_ones_the_brief_lists(default):
    engine, component = default
    queue, dead_letter = engine.one(QUEUE, "-queue"), engine.one(QUEUE, "-dead-letter")
    assert engine.resolve(component.queue_url) == queue.outputs["url"]
    assert engine.resolve(component.queue_arn) == queue.outputs["arn"]
    assert engine.resolve(component.dlq_url) == dead_letter.outputs["url"]
    assert engine.resolve(component.dlq_arn) == dead_letter.outputs["arn"]
    assert engine.resolve(component.function_name) == engine.one(FUNCTION).outputs["name"]
    assert engine.resolve(component.producer_policy_arn).startswith(f"arn:aws:iam::{ACCOUNT}:policy/orders-producer-policy-")


def test_user_tags_reach_every_taggable_resource(engine, base_spec):
    build(engine, base_spec, tags={"team": "payments"})
    taggable = [r for r in engine.all() if r.custom and r.type not in (ROLE_POLICY, QUEUE_POLICY, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy")]
    assert len(taggable) == 10
    for resource in taggable:
        assert resource.inputs["tags"] == {"team": "payments", "cloudqueue:queue": "orders"}, resource.name


@pytest.mark.parametrize("count", [1, 5])
def test_provider_lookups_run_once_per_program_not_once_per_queue(engine, base_spec, count):
    def program():
        return [AwsQueue(f"q{i}", single_cloud_args(base_spec, encryption_keys={"aws": KEY_ARN})) for i in range(count)]

    engine.run(program)
    assert sorted(engine.mocks.invokes) == ["aws:index/getPartition:getPartition", "aws:index/getRegion:getRegion"]
    assert len(engine.all(ROLE_POLICY)) == count


def test_transforms_reach_every_child_to_add_a_tag_and_change_lambda_memory(engine, base_spec, escape_hatch):
    build(engine, base_spec, opts=pulumi.ResourceOptions(transforms=[escape_hatch]))
    assert engine.one(QUEUE, "-queue").outputs["tags"]["cost-center"] == "42"
    assert engine.one(QUEUE, "-dead-letter").outputs["tags"]["cost-center"] == "42"
    assert engine.one(FUNCTION).outputs["memorySize"] == 2048


def test_invalid_spec_registers_no_resource(engine, base_spec):
    with pytest.raises(SpecError, match="consumer.memory_mb: 64 is below AWS Lambda's minimum of 128"):
        build(engine, base_spec, consumer={"memory_mb": 64})
    assert engine.all() == []


def test_longest_allowed_name_fits_every_aws_physical_name_limit(engine, base_spec):
    # The mocks enforce the providers' name limits (SQS 80 with .fifo, Lambda 64, IAM role 64).
    engine.run(lambda: Queue("n" * AWS_MAX_QUEUE_NAME, {**base_spec, "fifo": True}))
    assert len(engine.one("aws:iam/role:Role").outputs["name"]) == 64
