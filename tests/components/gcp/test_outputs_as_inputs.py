"""GcpQueue with Outputs where a spec names other resources: the key, producers, network and subnet, tags, environment.

Validation already takes an Output in each of these fields (list items, map values, `network` and
`subnetwork`), so the component is built from the ordinary args. Resources the stack shares per key
or subnet take their names from the value; an Output's value cannot name anything, so those are
named after the queue that first used it: the comparisons with plain strings treat hex runs (name
digests) as one token.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from components import GcpQueue
from outputs import is_unknown, known, registered, unknown
from pulumi_mocks import GCP_PROJECT, GCP_REGION, Engine
from specs import single_cloud_args

KEY = f"projects/{GCP_PROJECT}/locations/{GCP_REGION}/keyRings/queues/cryptoKeys/orders"
PRODUCER = f"serviceAccount:api@{GCP_PROJECT}.iam.gserviceaccount.com"
NETWORK = f"projects/{GCP_PROJECT}/global/networks/core"
SUBNET = f"projects/{GCP_PROJECT}/regions/{GCP_REGION}/subnetworks/functions"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
KEY_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
SUBNET_MEMBER = "gcp:compute/subnetworkIAMMember:SubnetworkIAMMember"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
HEX_RUN = re.compile(r"[0-9a-f]{8,}")


def args(base_spec: dict, wrap: Callable) -> dict:
    """Every field that names another resource, each value passed through `wrap`."""
    return single_cloud_args(
        base_spec,
        encryption_keys={"gcp": wrap(KEY)},
        producers={"gcp": [wrap(PRODUCER)]},
        tags={"team": wrap("Payments Team")},
        consumer={"environment": {"LOG_LEVEL": wrap("debug")}, "network": {"gcp": {"network": wrap(NETWORK), "subnetwork": wrap(SUBNET)}}},
    )


def digests_as_one_token(value: Any) -> Any:
    if isinstance(value, str):
        return HEX_RUN.sub("#", value)
    if isinstance(value, dict):
        return {digests_as_one_token(key): digests_as_one_token(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [digests_as_one_token(item) for item in value]
    return value


def test_gcp_queue_registers_with_outputs_what_it_registers_with_the_same_strings(engine, base_spec):
    engine.run(lambda: GcpQueue("orders", args(base_spec, known)))
    plain = Engine(preview=engine.preview)
    plain.run(lambda: GcpQueue("orders", args(base_spec, str)))
    assert digests_as_one_token(registered(engine)) == digests_as_one_token(registered(plain))
    # The comparison covers these; stated here so a reader sees where each value went.
    grants = engine.all(KEY_MEMBER)
    assert len(grants) == 5 and all(grant.inputs["cryptoKeyId"] == KEY for grant in grants)
    function = engine.one(FUNCTION)
    assert function.inputs["kmsKeyName"] == KEY and {g.urn for g in grants} <= set(function.dependencies)
    assert function.inputs["serviceConfig"]["directVpcNetworkInterfaces"] == [{"network": NETWORK, "subnetwork": SUBNET}]
    assert function.inputs["serviceConfig"]["environmentVariables"]["LOG_LEVEL"] == "debug"
    assert engine.one(SUBNET_MEMBER).inputs["subnetwork"] == SUBNET
    # A label from an Output is normalised like one from a string, once it resolves.
    assert function.inputs["labels"]["team"] == "payments_team"
    assert [r.inputs["member"] for r in engine.all("gcp:pubsub/topicIAMMember:TopicIAMMember") if "-producer-" in r.name] == [PRODUCER]


def shared_names(engine: Engine) -> list[str]:
    return sorted(r.name for r in engine.all() if r.type in (KEY_MEMBER, SUBNET_MEMBER, REPOSITORY) or r.name.endswith("-propagation"))


def test_gcp_grants_of_an_output_key_and_subnet_keep_their_names_from_run_to_run(base_spec):
    # A name that changed between runs would replace the grants (and the image repository) on every deploy.
    first = Engine(preview=False)
    first.run(lambda: GcpQueue("orders", args(base_spec, known)))
    second = Engine(preview=False)
    second.run(lambda: GcpQueue("orders", args(base_spec, known)))
    assert shared_names(first) == shared_names(second)
    assert len(shared_names(first)) == 5 + 1 + 1 + 1 + 3  # key grants, subnet grant, keyed repository, the waits
    repositories = first.all(REPOSITORY)
    assert [r.inputs["repositoryId"] for r in repositories] == [r.inputs["repositoryId"] for r in second.all(REPOSITORY)]


def test_gcp_queues_given_the_same_output_key_and_subnet_share_their_grants(base_spec):
    engine = Engine(preview=False)

    def program():
        key, subnet = known(KEY), known(SUBNET)
        network = {"gcp": {"network": NETWORK, "subnetwork": subnet}}
        return [GcpQueue(f"q{i}", single_cloud_args(base_spec, encryption_keys={"gcp": key}, consumer={"network": network})) for i in range(3)]

    engine.run(program)
    # IAM members are not reference-counted: one set per queue would revoke the others' when a queue goes.
    assert len(engine.all(KEY_MEMBER)) == 5 and len(engine.all(SUBNET_MEMBER)) == 1
    assert len([r for r in engine.all(REPOSITORY) if r.inputs.get("kmsKeyName") == KEY]) == 1


def test_gcp_queue_previews_with_unknown_outputs_and_still_treats_the_key_and_subnet_as_given(base_spec):
    engine = Engine(preview=True)
    engine.run(lambda: GcpQueue("orders", args(base_spec, lambda _: unknown())))
    # An unknown key is still a key: its grants, the keyed repository and the keyed topics are all there.
    grants = engine.all(KEY_MEMBER)
    assert len(grants) == 5 and all(is_unknown(grant.inputs["cryptoKeyId"]) for grant in grants)
    assert all(is_unknown(topic.inputs["kmsKeyName"]) for topic in engine.all("gcp:pubsub/topic:Topic"))
    (repository,) = engine.all(REPOSITORY)
    assert is_unknown(repository.inputs["kmsKeyName"]) and repository.name != "cloudqueue-gcp-images"
    function = engine.one(FUNCTION).inputs
    assert is_unknown(function["kmsKeyName"]) and is_unknown(function["labels"]["team"])
    interface = function["serviceConfig"]["directVpcNetworkInterfaces"][0]
    assert is_unknown(interface["network"]) and is_unknown(interface["subnetwork"])
    assert is_unknown(engine.one(SUBNET_MEMBER).inputs["subnetwork"])
