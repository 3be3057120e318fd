"""AzureQueue's dead-letter alert, its action group, the operators' roles and the namespace host output (preview and up)."""

from __future__ import annotations

import hashlib

import pytest

from components import AzureQueue
from components.azure import SERVICE_BUS_DATA_RECEIVER, SERVICE_BUS_DATA_SENDER
from pulumi_mocks import SUBSCRIPTION
from specs import single_cloud_args

ALERT = "azure-native:monitor:MetricAlert"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
ROLE = "azure-native:authorization:RoleAssignment"
NAMESPACE = "azure-native:servicebus:Namespace"
SB_QUEUE = "azure-native:servicebus:Queue"
PAGER = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ops/providers/microsoft.insights/actionGroups/pager"
OPERATOR = "0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9"


def build(engine, base_spec, **changes) -> AzureQueue:
    return engine.run(lambda: AzureQueue("orders", single_cloud_args(base_spec, **changes)))


def test_dead_lettered_messages_of_this_queue_raise_an_alert_on_the_shared_namespace(engine, base_spec):
    build(engine, base_spec)
    alert = engine.one(ALERT)
    namespace = engine.one(NAMESPACE)
    assert alert.inputs["scopes"] == [namespace.id] and alert.inputs["location"] == "global"
    assert (alert.inputs["severity"], alert.inputs["evaluationFrequency"], alert.inputs["windowSize"], alert.inputs["autoMitigate"]) == (2, "PT1M", "PT1M", True)
    # ARM's own names (`odataType`, `allOf`): given as a plain dict for this union-typed input, the SDK
    # would send Python's (`all_of`), which ARM does not read; the mock refuses that as ARM would.
    assert alert.inputs["criteria"] == {
        "odataType": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
        "allOf": [
            {
                "criterionType": "StaticThresholdCriterion",
                "name": "dead-lettered-messages",
                "metricNamespace": "Microsoft.ServiceBus/namespaces",
                "metricName": "DeadletteredMessages",
                "dimensions": [{"name": "EntityName", "operator": "Include", "values": [engine.one(SB_QUEUE).outputs["name"]]}],
                "operator": "GreaterThan",
                "threshold": 0,
                "timeAggregation": "Maximum",
            }
        ],
    }
    # No address named: the alert fires in Azure Monitor with no action group.
    assert alert.inputs.get("actions", []) == [] and engine.all(ACTION_GROUP) == []


def test_service_bus_gets_no_age_alert_because_its_dead_letters_never_expire(engine, base_spec):
    build(engine, base_spec, dead_letter_retention_seconds=3600)
    assert len(engine.all(ALERT)) == 1


def test_alarms_off_registers_no_alert(engine, base_spec):
    build(engine, base_spec, alarms={"dead_letter": False})
    assert engine.all(ALERT) == [] and engine.all(ACTION_GROUP) == []


def test_addresses_get_an_action_group_the_alert_uses_before_the_existing_one(engine, base_spec):
    emails = ["ops@example.com", "oncall@example.com"]
    build(engine, base_spec, tags={"team": "payments"}, alarms={"notify": {"azure": [*emails, PAGER]}})
    group = engine.one(ACTION_GROUP)
    assert (group.inputs["location"], group.inputs["groupShortName"], group.inputs["enabled"]) == ("Global", "orders", True)
    assert group.inputs["resourceGroupName"] == engine.one("azure-native:resources:ResourceGroup").outputs["name"]
    assert group.inputs["emailReceivers"] == [
        {"name": f"email-{hashlib.sha256(e.encode()).hexdigest()[:8]}", "emailAddress": e, "useCommonAlertSchema": True} for e in emails
    ]
    assert engine.one(ALERT).inputs["actions"] == [{"actionGroupId": group.id}, {"actionGroupId": PAGER}]
    for resource in (group, engine.one(ALERT)):
        assert resource.inputs["tags"] == {"team": "payments", "cloudqueue:queue": "orders"}
        assert resource.parent == engine.one("cloudqueue:index:AzureQueue").urn


def test_a_long_queue_name_is_cut_to_the_action_groups_twelve_character_short_name(engine, base_spec):
    engine.run(lambda: AzureQueue("payments-and-refunds", single_cloud_args(base_spec, alarms={"notify": {"azure": ["ops@example.com"]}})))
    assert engine.one(ACTION_GROUP).inputs["groupShortName"] == "payments-and"


def test_an_existing_namespace_scopes_the_alert_to_its_resource_id(engine, base_spec):
    existing = {"resource_group_name": "messaging", "namespace_name": "corp-bus", "storage_account_name": "corpfunctions"}
    engine.run(lambda: AzureQueue("orders", {**single_cloud_args(base_spec), **existing}))
    assert engine.one(ALERT).inputs["scopes"] == [f"/subscriptions/{SUBSCRIPTION}/resourceGroups/messaging/providers/Microsoft.ServiceBus/namespaces/corp-bus"]


@pytest.mark.parametrize("operator", [OPERATOR, f"User:{OPERATOR}", f"Group:{OPERATOR}"])
def test_each_operator_gets_data_sender_and_data_receiver_on_this_queue_only(engine, base_spec, operator):
    build(engine, base_spec, operators={"azure": [operator]})
    queue_id = engine.one(SB_QUEUE).id
    kind, _, object_id = operator.rpartition(":")
    grants = {r.name: r.inputs for r in engine.all(ROLE) if "-operator-" in r.name}
    definitions = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
    assert grants == {
        f"orders-operator-0-{role}": {"roleDefinitionId": definitions + definition, "scope": queue_id, "principalId": object_id, "principalType": kind or "ServicePrincipal"}
        for role, definition in (("sender", SERVICE_BUS_DATA_SENDER), ("receiver", SERVICE_BUS_DATA_RECEIVER))
    }


def test_the_namespace_host_the_ops_commands_connect_to_is_an_output(engine, base_spec):
    component = build(engine, base_spec)
    assert engine.resolve(component.namespace_host) == engine.one(NAMESPACE).outputs["name"] + ".servicebus.windows.net"
