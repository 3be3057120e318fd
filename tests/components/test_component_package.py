"""The multi-language component package: the schema the SDK's analyzer infers, and its construct path."""

from __future__ import annotations

import ast
import json

import pytest
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.component import ComponentProvider

from components.provider import COMPONENTS
from pulumi_mocks import REPO
OUTPUTS = {
    "Queue": {"outputs"},
    "AwsQueue": {"queueUrl", "queueArn", "dlqUrl", "dlqArn", "functionName", "producerPolicyArn"},
    "AzureQueue": {"namespaceName", "queueName", "deadLetterPath", "functionAppName"},
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
    assert set(types) == {"ConsumerArgs", "NetworkArgs", "AwsNetworkArgs", "AzureNetworkArgs", "GcpNetworkArgs"}
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
    assert "from cloudqueue.provider import serve" in ast.unparse(tree) and "serve()" in ast.unparse(tree)
    assert (REPO / "provider" / "requirements.txt").read_text().splitlines()[-1] == "..[all]"
