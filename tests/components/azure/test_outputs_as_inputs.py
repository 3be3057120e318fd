"""AzureQueue with Outputs where a spec names other resources: producers, tags, environment, the subnet, existing names.

Validation already takes an Output in each of these fields (list items, map values, `subnet_id`
and the three existing names), so the component is built from the ordinary args.
"""

from __future__ import annotations

from typing import Callable

import pytest

from components import AzureQueue
from outputs import is_unknown, known, registered, unknown
from pulumi_mocks import SUBSCRIPTION, Engine
from specs import single_cloud_args

GROUP_USER = "Group:7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
SERVICE_PRINCIPAL = "0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9"
SUBNET = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/network/providers/Microsoft.Network/virtualNetworks/core/subnets/functions"
EXISTING = {"resource_group_name": "platform-rg", "namespace_name": "platform-bus", "storage_account_name": "platformfuncs"}


def args(base_spec: dict, wrap: Callable, existing: bool) -> dict:
    """Every field that names another resource, each value passed through `wrap`."""
    return single_cloud_args(
        base_spec,
        producers={"azure": [wrap(GROUP_USER), wrap(SERVICE_PRINCIPAL)]},
        tags={"team": wrap("payments")},
        consumer={"environment": {"LOG_LEVEL": wrap("debug")}, "network": {"azure": {"subnet_id": wrap(SUBNET)}}},
        **({key: wrap(value) for key, value in EXISTING.items()} if existing else {}),
    )


def settings(engine: Engine) -> dict:
    return {pair["name"]: pair["value"] for pair in engine.one("azure-native:web:WebApp").inputs["siteConfig"]["appSettings"]}


@pytest.mark.parametrize("existing", [False, True], ids=["shared", "existing"])
def test_azure_queue_registers_with_outputs_exactly_what_it_registers_with_the_same_strings(engine, base_spec, existing):
    engine.run(lambda: AzureQueue("orders", args(base_spec, known, existing)))
    plain = Engine(preview=engine.preview)
    plain.run(lambda: AzureQueue("orders", args(base_spec, str, existing)))
    assert registered(engine) == registered(plain)
    # The comparison covers these; stated here so a reader sees where each value went.
    senders = sorted((r.inputs["principalType"], r.inputs["principalId"]) for r in engine.all("azure-native:authorization:RoleAssignment") if "-sender-" in r.name)
    assert senders == [("Group", GROUP_USER.split(":")[1]), ("ServicePrincipal", SERVICE_PRINCIPAL)]
    app = engine.one("azure-native:web:WebApp").inputs
    assert app["virtualNetworkSubnetId"] == SUBNET and app["tags"]["team"] == "payments"
    assert settings(engine)["LOG_LEVEL"] == "debug"
    if existing:
        queue = engine.one("azure-native:servicebus:Queue").inputs
        assert (queue["resourceGroupName"], queue["namespaceName"]) == ("platform-rg", "platform-bus")
        assert settings(engine)["AzureWebJobsStorage__accountName"] == "platformfuncs"


def test_azure_queue_previews_with_unknown_outputs_in_every_such_field(base_spec):
    engine = Engine(preview=True)
    engine.run(lambda: AzureQueue("orders", args(base_spec, lambda _: unknown(), existing=True)))
    queue = engine.one("azure-native:servicebus:Queue").inputs
    assert is_unknown(queue["resourceGroupName"]) and is_unknown(queue["namespaceName"])
    app = engine.one("azure-native:web:WebApp").inputs
    assert is_unknown(app["virtualNetworkSubnetId"]) and is_unknown(app["tags"]["team"])
    assert is_unknown(settings(engine)["LOG_LEVEL"]) and is_unknown(settings(engine)["AzureWebJobsStorage__accountName"])
    senders = [r.inputs for r in engine.all("azure-native:authorization:RoleAssignment") if "-sender-" in r.name]
    # One role per producer, its type and object id known once the producer's id is.
    assert len(senders) == 2 and all(is_unknown(s["principalType"]) and is_unknown(s["principalId"]) for s in senders)
    # Named existing resources: the shared group, namespace and storage are not created.
    assert not engine.all("azure-native:resources:ResourceGroup") and not engine.all("azure-native:servicebus:Namespace")
