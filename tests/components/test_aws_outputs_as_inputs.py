"""AwsQueue with Outputs where a spec names other resources: the key, producers, subnets and groups, tags, environment.

Validation already takes an Output in each of these fields (list items and map values), so the
component is built from the ordinary args.
"""

from __future__ import annotations

from typing import Callable

from components import AwsQueue
from outputs import is_unknown, known, registered, unknown
from pulumi_mocks import ACCOUNT, REGION, Engine
from specs import single_cloud_args

KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
PRODUCER = f"arn:aws:iam::{ACCOUNT}:role/orders-api"
SUBNET = "subnet-0123456789abcdef0"
GROUP = "sg-0123456789abcdef0"


def args(base_spec: dict, wrap: Callable) -> dict:
    """Every field that names another resource, each value passed through `wrap`."""
    network = {"aws": {"subnet_ids": [wrap(SUBNET)], "security_group_ids": [wrap(GROUP)]}}
    return single_cloud_args(
        base_spec,
        encryption_keys={"aws": wrap(KEY_ARN)},
        producers={"aws": [wrap(PRODUCER)]},
        tags={"team": wrap("payments")},
        consumer={"environment": {"LOG_LEVEL": wrap("debug")}, "network": network},
    )


def test_aws_queue_registers_with_outputs_exactly_what_it_registers_with_the_same_strings(engine, base_spec):
    engine.run(lambda: AwsQueue("orders", args(base_spec, known)))
    plain = Engine(preview=engine.preview)
    plain.run(lambda: AwsQueue("orders", args(base_spec, str)))
    assert registered(engine) == registered(plain)
    # The comparison covers these; stated here so a reader sees where each value went.
    function = engine.one("aws:lambda/function:Function").inputs
    assert function["kmsKeyArn"] == KEY_ARN and function["environment"]["variables"]["LOG_LEVEL"] == "debug"
    assert function["vpcConfig"] == {"subnetIds": [SUBNET], "securityGroupIds": [GROUP]}
    for queue in engine.all("aws:sqs/queue:Queue"):
        assert queue.inputs["kmsMasterKeyId"] == KEY_ARN and "sqsManagedSseEnabled" not in queue.inputs
        assert queue.inputs["tags"]["team"] == "payments"
    grant = engine.policy(engine.one("aws:sqs/queuePolicy:QueuePolicy", "orders-queue-policy"))["Statement"][1]
    assert grant["Principal"] == {"AWS": [PRODUCER]}


def test_aws_queue_previews_with_unknown_outputs_and_still_treats_the_key_and_network_as_given(base_spec):
    engine = Engine(preview=True)
    engine.run(lambda: AwsQueue("orders", args(base_spec, lambda _: unknown())))
    for queue in engine.all("aws:sqs/queue:Queue"):
        # An unknown key is still a key: no SQS-managed encryption in its place.
        assert is_unknown(queue.inputs["kmsMasterKeyId"]) and "sqsManagedSseEnabled" not in queue.inputs
        assert is_unknown(queue.inputs["tags"]["team"])
    function = engine.one("aws:lambda/function:Function").inputs
    assert is_unknown(function["kmsKeyArn"]) and is_unknown(function["environment"]["variables"]["LOG_LEVEL"])
    assert [is_unknown(v) for v in function["vpcConfig"]["subnetIds"] + function["vpcConfig"]["securityGroupIds"]] == [True, True]
    assert is_unknown(engine.one("aws:cloudwatch/logGroup:LogGroup").inputs["kmsKeyId"])
    # The key's and the network's grants need the region, partition and account, looked up all the same.
    assert sorted(engine.mocks.invokes) == ["aws:index/getCallerIdentity:getCallerIdentity", "aws:index/getPartition:getPartition", "aws:index/getRegion:getRegion"]

