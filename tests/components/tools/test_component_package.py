"""The multi-language component package: the schema the SDK's analyzer infers, and its construct path."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap

import pytest
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.component import ComponentProvider

from components.tools.provider import COMPONENTS
from outputs import is_unknown, known, unknown
from pulumi_mocks import ACCOUNT, GCP_PROJECT, GCP_REGION, REGION, REPO, SUBSCRIPTION, Engine
OUTPUTS = {
    "Queue": {"outputs"},
    "AwsQueue": {"queueUrl", "queueArn", "dlqUrl", "dlqArn", "functionName", "producerPolicyArn", "operatorPolicyArn"},
    "AzureQueue": {"namespaceName", "queueName", "deadLetterPath", "functionAppName", "namespaceHost"},
    "GcpQueue": {"topicId", "subscriptionId", "deadLetterTopicId", "deadLetterSubscriptionId", "functionName"},
}


@pytest.fixture(scope="module")
def provider() -> ComponentProvider:
    return ComponentProvider(COMPONENTS, "cloudqueue", version="0.2.0")


@pytest.fixture(scope="module")
def schema(provider) -> dict:
    return json.loads(provider._schema) if hasattr(provider, "_schema") else json.loads(provider.schema)


@pytest.fixture(scope="module")
def analyzed() -> dict:
    """The SDK analyzer's result for the four components (it reads their source: run it once)."""
    return Analyzer("cloudqueue").analyze(COMPONENTS)


def test_the_analyzer_finds_every_component_with_described_inputs_and_outputs(analyzed):
    result = analyzed
    components = result["component_definitions"]
    assert set(components) == set(OUTPUTS)
    for name, component in components.items():
        assert component.description, name
        assert set(component.outputs) == OUTPUTS[name]
        for prop_name, prop in {**component.inputs, **component.outputs}.items():
            assert prop.description, f"{name}.{prop_name} has no description"
    assert {"clouds", "consumer", "maxDeliveryAttempts", "fifo", "producers", "tags"} <= set(components["Queue"].inputs)
    assert "clouds" not in components["AwsQueue"].inputs
    assert {"resourceGroupName", "namespaceName", "storageAccountName"} <= set(components["AzureQueue"].inputs)
    assert components["Queue"].inputs["clouds"].optional is False and components["Queue"].inputs["consumer"].optional is False


def test_the_consumer_is_a_named_type_with_its_own_described_properties(analyzed):
    types = analyzed["type_definitions"]
    assert set(types) == {"ConsumerArgs", "NetworkArgs", "AwsNetworkArgs", "AzureNetworkArgs", "GcpNetworkArgs", "AlarmArgs"}
    assert {"deadLetter", "notify"} == set(types["AlarmArgs"].properties)
    consumer = types["ConsumerArgs"]
    assert {"codePath", "handler", "runtime", "memoryMb", "timeoutSeconds", "batchSize", "maxConcurrency", "environment"} <= set(consumer.properties)
    assert all(prop.description for t in types.values() for prop in t.properties.values())
    assert consumer.properties["codePath"].optional is False and consumer.properties["memoryMb"].optional is True


def test_the_schema_declares_the_four_resources_under_cloudqueue_index(schema):
    assert schema["name"] == "cloudqueue"
    resources = schema["resources"]
    assert set(resources) == {"cloudqueue:index:Queue", "cloudqueue:index:AwsQueue", "cloudqueue:index:AzureQueue", "cloudqueue:index:GcpQueue"}
    assert all(resource["isComponent"] for resource in resources.values())
    assert resources["cloudqueue:index:Queue"]["inputProperties"]["consumer"]["$ref"] == "#/types/cloudqueue:index:ConsumerArgs"
    assert set(resources["cloudqueue:index:Queue"]["requiredInputs"]) == {"clouds", "consumer"}


def test_queue_is_constructed_through_the_providers_own_construct_path(engine, provider, consumer_dir):
    inputs = {"clouds": ["aws", "gcp"], "maxDeliveryAttempts": 7, "consumer": {"codePath": str(consumer_dir), "handler": "handler.handle", "timeoutSeconds": 20}}
    result = engine.run(lambda: provider.construct("orders", "cloudqueue:index:Queue", inputs, None))
    state = engine.resolve(result.state)
    assert set(state["outputs"]) == {"aws", "gcp"}
    assert json.loads(engine.one("aws:sqs/queue:Queue", "-queue").inputs["redrivePolicy"])["maxReceiveCount"] == 7
    assert engine.one("gcp:pubsub/subscription:Subscription", "orders-gcp-subscription").inputs["ackDeadlineSeconds"] == 120


def test_the_provider_entry_is_separate_from_the_stack_program_and_serves_the_four_components():
    assert [c.__name__ for c in COMPONENTS] == ["Queue", "AwsQueue", "AzureQueue", "GcpQueue"]
    assert "name: python" in (REPO / "provider" / "PulumiPlugin.yaml").read_text()
    tree = ast.parse((REPO / "provider" / "__main__.py").read_text())
    assert "from cloudqueue.tools.provider import serve" in ast.unparse(tree) and "serve()" in ast.unparse(tree)
    # The uv toolchain installs the repository's project from uv.lock (tests/test_packaging.py): no list to keep in step.
    assert not (REPO / "provider" / "requirements.txt").exists()


# Inputs another program wires from its own resources (producer ids, keys, tag and environment
# values, network ids, AzureQueue's existing names): each takes an Output. The rest decides which
# resources exist, so the schema keeps it plain. `*` is a map's values, `[]` a list's items.
NOT_PLAIN = {
    "encryptionKeys.*",
    "producers.*[]",
    "operators.*[]",
    "alarms.notify.*[]",
    "tags.*",
    "consumer.environment.*",
    "consumer.network.aws.subnetIds[]",
    "consumer.network.aws.securityGroupIds[]",
    "consumer.network.azure.subnetId",
    "consumer.network.gcp.network",
    "consumer.network.gcp.subnetwork",
}
EXISTING_AZURE = {"resourceGroupName", "namespaceName", "storageAccountName"}


def schema_leaves(prop: dict, path: str, types: dict) -> dict[str, bool]:
    """Every property under `prop`, by path: whether the schema marks it plain."""
    found = {path: bool(prop.get("plain"))}
    if prop.get("$ref", "").startswith("#/types/"):
        for key, sub in types[prop["$ref"].rpartition("/")[2]]["properties"].items():
            found |= schema_leaves(sub, f"{path}.{key}", types)
    elif prop.get("type") == "array":
        found |= schema_leaves(prop["items"], f"{path}[]", types)
    elif "additionalProperties" in prop:
        found |= schema_leaves(prop["additionalProperties"], f"{path}.*", types)
    return found


@pytest.mark.parametrize("resource", ["Queue", "AwsQueue", "AzureQueue", "GcpQueue"])
def test_the_schema_keeps_plain_exactly_the_inputs_that_decide_which_resources_exist(schema, resource):
    inputs = schema["resources"][f"cloudqueue:index:{resource}"]["inputProperties"]
    leaves = {path: plain for key, prop in inputs.items() for path, plain in schema_leaves(prop, key, schema["types"]).items()}
    assert {path for path, plain in leaves.items() if not plain} == NOT_PLAIN | (EXISTING_AZURE if resource == "AzureQueue" else set())
    assert leaves["clouds" if resource == "Queue" else "fifo"] and leaves["consumer.codePath"] and leaves["consumer.network.gcp.egress"]
    assert leaves["producers"] and leaves["producers.*"]  # the clouds a map names are known; its ids need not be


def every_input(wrap, consumer_dir) -> dict:
    """Queue's inputs on every cloud, as another language's program sends them, with `wrap` around each id."""
    return {
        "clouds": ["aws", "azure", "gcp"],
        "producers": {
            "aws": [wrap(f"arn:aws:iam::{ACCOUNT}:role/orders-api")],
            "azure": [wrap("0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9")],
            "gcp": [wrap(f"serviceAccount:api@{GCP_PROJECT}.iam.gserviceaccount.com")],
        },
        "encryptionKeys": {
            "aws": wrap(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"),
            "gcp": wrap(f"projects/{GCP_PROJECT}/locations/{GCP_REGION}/keyRings/queues/cryptoKeys/orders"),
        },
        "tags": {"team": wrap("payments")},
        "consumer": {
            "codePath": str(consumer_dir),
            "handler": "handler.handle",
            "environment": {"LOG_LEVEL": wrap("debug")},
            "network": {
                "aws": {"subnetIds": [wrap("subnet-0123456789abcdef0")], "securityGroupIds": [wrap("sg-0123456789abcdef0")]},
                "azure": {"subnetId": wrap(f"/subscriptions/{SUBSCRIPTION}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/core/subnets/fn")},
                "gcp": {"network": wrap(f"projects/{GCP_PROJECT}/global/networks/core"), "subnetwork": wrap(f"projects/{GCP_PROJECT}/regions/{GCP_REGION}/subnetworks/fn")},
            },
        },
    }


def test_queue_is_constructed_through_the_provider_with_an_output_in_every_field_that_names_another_resource(engine, provider, consumer_dir):
    inputs = every_input(known, consumer_dir)
    engine.run(lambda: provider.construct("orders", "cloudqueue:index:Queue", inputs, None))
    function = engine.one("aws:lambda/function:Function").inputs
    assert function["vpcConfig"] == {"subnetIds": ["subnet-0123456789abcdef0"], "securityGroupIds": ["sg-0123456789abcdef0"]}
    assert function["kmsKeyArn"].endswith(":key/0b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3") and function["environment"]["variables"]["LOG_LEVEL"] == "debug"
    grant = engine.policy(engine.one("aws:sqs/queuePolicy:QueuePolicy", "orders-aws-queue-policy"))["Statement"][1]
    assert grant["Principal"] == {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/orders-api"]}
    assert engine.one("azure-native:web:WebApp").inputs["virtualNetworkSubnetId"].endswith("/virtualNetworks/core/subnets/fn")
    gcp_function = engine.one("gcp:cloudfunctionsv2/function:Function").inputs
    assert gcp_function["serviceConfig"]["directVpcNetworkInterfaces"] == [{"network": f"projects/{GCP_PROJECT}/global/networks/core", "subnetwork": f"projects/{GCP_PROJECT}/regions/{GCP_REGION}/subnetworks/fn"}]
    assert gcp_function["labels"]["team"] == "payments"


def test_a_bad_id_from_an_output_fails_the_resource_that_uses_it_and_an_unknown_one_previews(provider, consumer_dir):
    def bad(value):
        return known("arn:aws:iam::*:root" if value.startswith("arn:aws:iam::") else value)

    with pytest.raises(Exception) as caught:
        Engine(preview=False).run(lambda: provider.construct("orders", "cloudqueue:index:Queue", every_input(bad, consumer_dir), None))
    assert "queues.orders.producers.aws[0]: 'arn:aws:iam::*:root' is not an IAM role" in str(caught.value)
    preview = Engine(preview=True)
    preview.run(lambda: provider.construct("orders", "cloudqueue:index:Queue", every_input(lambda _: unknown(), consumer_dir), None))
    assert is_unknown(preview.one("aws:lambda/function:Function").inputs["vpcConfig"]["subnetIds"][0])


def test_importing_the_provider_replaces_nothing_in_the_sdk():
    code = textwrap.dedent(
        """
        from pulumi.provider.experimental import analyzer, component
        before = {module.__name__: dict(vars(module)) | {f"Analyzer.{k}": v for k, v in vars(analyzer.Analyzer).items()} for module in (analyzer, component)}
        import cloudqueue.tools.provider
        after = {module.__name__: dict(vars(module)) | {f"Analyzer.{k}": v for k, v in vars(analyzer.Analyzer).items()} for module in (analyzer, component)}
        print(sorted(f"{m}.{k}" for m in before for k in before[m] if after[m].get(k) is not before[m][k]))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr
