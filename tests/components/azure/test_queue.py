"""AzureQueue wiring, checked through realistic azure-native mocks with preview=True and preview=False."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pulumi
import pytest

from components import AzureQueue, Queue, SpecError
from components.azure import MONITORING_METRICS_PUBLISHER, SERVICE_BUS_DATA_RECEIVER, SERVICE_BUS_DATA_SENDER, STORAGE_BLOB_DATA_OWNER
from pulumi_mocks import SUBSCRIPTION, Engine
from specs import single_cloud_args

NAMESPACE = "azure-native:servicebus:Namespace"
WORKSPACE = "azure-native:operationalinsights:Workspace"
INSIGHTS = "azure-native:applicationinsights:Component"
SB_QUEUE = "azure-native:servicebus:Queue"
APP = "azure-native:web:WebApp"
PLAN = "azure-native:web:AppServicePlan"
ROLE = "azure-native:authorization:RoleAssignment"
STORAGE = "azure-native:storage:StorageAccount"
GROUP = "azure-native:resources:ResourceGroup"
PACKAGE = "pulumi-python:dynamic/cloudqueue:FunctionAppPackage"
PRODUCER = "0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9"


COMPONENT = AzureQueue
"""The component the shared `default` fixture (conftest.py) builds once per mode."""



def build(engine, base_spec, name="orders", opts=None, **changes) -> AzureQueue:
    return engine.run(lambda: AzureQueue(name, single_cloud_args(base_spec, **changes), opts))


def settings(engine) -> dict:
    return {pair["name"]: pair["value"] for pair in engine.one(APP).inputs["siteConfig"]["appSettings"]}


def package_files(engine) -> dict[str, bytes]:
    archive = zipfile.ZipFile(engine.one(PACKAGE).inputs["package_path"])
    return {name: archive.read(name) for name in archive.namelist()}


def role_id(role: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def test_queue_dead_letters_after_max_delivery_attempts_and_on_expiry(engine, base_spec):
    build(engine, base_spec, max_delivery_attempts=7, message_retention_seconds=86400)
    queue = engine.one(SB_QUEUE)
    assert queue.inputs["maxDeliveryCount"] == 7
    assert queue.inputs["deadLetteringOnMessageExpiration"] is True
    assert queue.inputs["defaultMessageTimeToLive"] == "P1D"
    assert queue.inputs["requiresSession"] is False
    # The built-in dead-letter sub-queue: nothing forwards it elsewhere.
    assert "forwardDeadLetteredMessagesTo" not in queue.inputs and "forwardTo" not in queue.inputs


def test_lock_duration_is_the_derived_visibility_timeout(engine, base_spec):
    build(engine, base_spec, consumer={"timeout_seconds": 20})
    assert engine.one(SB_QUEUE).inputs["lockDuration"] == "PT2M"  # 6 x 20 s


def test_lock_is_capped_at_five_minutes_and_renewed_for_the_whole_timeout(engine, base_spec):
    build(engine, base_spec, visibility_timeout_seconds=900, consumer={"timeout_seconds": 600})
    assert engine.one(SB_QUEUE).inputs["lockDuration"] == "PT5M"
    host = json.loads(package_files(engine)["host.json"])
    assert host["functionTimeout"] == "00:10:00"
    assert host["extensions"]["serviceBus"]["maxAutoLockRenewalDuration"] == "00:10:00"


def test_fifo_requires_sessions_on_the_queue_and_the_trigger(engine, base_spec):
    build(engine, base_spec, fifo=True, consumer={"max_concurrency": 4})
    assert engine.one(SB_QUEUE).inputs["requiresSession"] is True
    files = package_files(engine)
    assert b"is_sessions_enabled=True" in files["function_app.py"]
    assert json.loads(files["host.json"])["extensions"]["serviceBus"]["maxConcurrentSessions"] == 4


def test_namespace_is_standard_with_local_auth_disabled_and_tls_1_2(default):
    engine, _ = default
    namespace = engine.one(NAMESPACE)
    assert namespace.inputs["sku"] == {"name": "Standard", "tier": "Standard"}
    assert namespace.inputs["disableLocalAuth"] is True
    assert namespace.inputs["minimumTlsVersion"] == "1.2"
    assert engine.one(SB_QUEUE).inputs["namespaceName"] == namespace.outputs["name"]


def test_function_app_is_https_only_with_a_system_identity_tls_1_2_and_no_basic_auth_publishing(default):
    engine, _ = default
    app = engine.one(APP)
    assert app.inputs["httpsOnly"] is True
    assert app.inputs["identity"] == {"type": "SystemAssigned"}
    assert app.inputs["kind"] == "functionapp,linux"
    site = app.inputs["siteConfig"]
    assert (site["minTlsVersion"], site["scmMinTlsVersion"]) == ("1.2", "1.2")
    for policy in ("azure-native:web:WebAppFtpAllowed", "azure-native:web:WebAppScmAllowed"):
        assert engine.one(policy).inputs == {"allow": False, "name": app.outputs["name"], "resourceGroupName": app.inputs["resourceGroupName"]}


# siteConfig properties the azurerm provider's Flex Consumption expander sends
# (ExpandSiteConfigFunctionFlexConsumptionApp), which Flex sites accept.
FLEX_SITE_CONFIG = {
    "appSettings", "minTlsVersion", "scmMinTlsVersion", "http20Enabled", "ipSecurityRestrictions", "ipSecurityRestrictionsDefaultAction",
    "scmIpSecurityRestrictions", "scmIpSecurityRestrictionsDefaultAction", "scmIpSecurityRestrictionsUseMain", "cors", "healthCheckPath",
}


@pytest.mark.parametrize("stack_spec", [{}, {"fifo": True, "consumer": {"network": {"azure": {"subnet_id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/network/providers/Microsoft.Network/virtualNetworks/core/subnets/functions"}}}}])
def test_flex_site_config_sends_no_property_flex_consumption_rejects(engine, base_spec, stack_spec):
    from components.tools.mocks import FLEX_REJECTED_SITE_CONFIG

    build(engine, base_spec, **stack_spec)
    site = engine.one(APP).inputs["siteConfig"]
    assert set(site) <= FLEX_SITE_CONFIG
    assert not set(site) & set(FLEX_REJECTED_SITE_CONFIG)  # ftpsState above all: ARM error 51021


def test_site_config_is_a_plain_mapping_because_the_sdk_args_class_adds_a_property_flex_rejects(default):
    import pulumi_azure_native as azure

    # SiteConfigArgs fills in netFrameworkVersion (pulumi/pulumi-azure-native#4168): ARM error 51021 on Flex.
    assert pulumi.get(azure.web.SiteConfigArgs(min_tls_version="1.2"), "net_framework_version") == "v4.6"
    engine, _ = default
    assert "netFrameworkVersion" not in engine.one(APP).inputs["siteConfig"]


def test_the_mock_refuses_ftps_state_on_a_flex_site_as_arm_does(engine, base_spec):
    def add_ftps(args: pulumi.ResourceTransformArgs):
        if args.type_ == APP:
            return pulumi.ResourceTransformResult({**args.props, "siteConfig": {**args.props["siteConfig"], "ftpsState": "Disabled"}}, args.opts)
        return None

    with pytest.raises(Exception, match=r"51021.*Site\.SiteConfig\.FtpsState.*Flex Consumption sites is invalid"):
        build(engine, base_spec, opts=pulumi.ResourceOptions(transforms=[add_ftps]))


def test_app_settings_connect_by_identity_and_hold_no_connection_string_or_key(engine, base_spec):
    build(engine, base_spec, consumer={"environment": {"LOG_LEVEL": "debug"}})
    app_settings = settings(engine)
    namespace = engine.one(NAMESPACE).outputs["name"]
    assert app_settings["ServiceBusConnection__fullyQualifiedNamespace"] == f"{namespace}.servicebus.windows.net"
    assert app_settings["AzureWebJobsStorage__accountName"] == engine.one(STORAGE).outputs["name"]
    assert app_settings["CLOUDQUEUE_QUEUE_NAME"] == engine.one(SB_QUEUE).outputs["name"]
    assert app_settings["CLOUDQUEUE_HANDLER"] == "handler.handle" and app_settings["LOG_LEVEL"] == "debug"
    forbidden = ("AccountKey=", "SharedAccessKey", "DefaultEndpointsProtocol", "Endpoint=sb://", "sig=")
    assert not [k for k, v in app_settings.items() if any(f in str(v) for f in forbidden)]
    assert not {"AzureWebJobsStorage", "ServiceBusConnection", "WEBSITE_RUN_FROM_PACKAGE"} & set(app_settings)
    assert engine.one(APP).inputs["siteConfig"].get("connectionStrings") is None
    assert engine.one(STORAGE).inputs["allowSharedKeyAccess"] is False


def test_function_identity_may_receive_from_this_queue_only(default):
    engine, _ = default
    principal = engine.one(APP).outputs["identity"]["principalId"]
    receiver = engine.one(ROLE, "-receiver")
    assert receiver.inputs == {
        "roleDefinitionId": role_id(SERVICE_BUS_DATA_RECEIVER),
        "scope": engine.one(SB_QUEUE).id,
        "principalId": principal,
        "principalType": "ServicePrincipal",
    }
    assert engine.one(SB_QUEUE).id.endswith("/queues/orders-queue")


def test_function_identity_owns_blobs_of_the_package_storage_account_only(default):
    engine, _ = default
    owner = engine.one(ROLE, "-storage-owner")
    assert owner.inputs["roleDefinitionId"] == role_id(STORAGE_BLOB_DATA_OWNER)
    assert owner.inputs["scope"] == engine.one(STORAGE).id
    assert owner.inputs["principalId"] == engine.one(APP).outputs["identity"]["principalId"]


def test_listed_producers_may_send_to_this_queue_only_with_their_principal_type(engine, base_spec):
    person = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
    build(engine, base_spec, producers={"azure": [PRODUCER, f"User:{person}"]})
    queue_id = engine.one(SB_QUEUE).id
    # A bare object id is a service principal (an app's managed identity); the SDK would say User.
    assert engine.one(ROLE, "-sender-0").inputs == {
        "roleDefinitionId": role_id(SERVICE_BUS_DATA_SENDER), "scope": queue_id, "principalId": PRODUCER, "principalType": "ServicePrincipal"
    }
    assert engine.one(ROLE, "-sender-1").inputs == {
        "roleDefinitionId": role_id(SERVICE_BUS_DATA_SENDER), "scope": queue_id, "principalId": person, "principalType": "User"
    }
    # Receiver, storage owner and telemetry publisher for the app, plus the two senders.
    assert len(engine.all(ROLE)) == 5


def test_every_role_assignment_is_scoped_below_the_subscription(engine, base_spec):
    build(engine, base_spec, producers={"azure": [PRODUCER]})
    for assignment in engine.all(ROLE):
        assert assignment.inputs["scope"].count("/") >= 8, assignment.inputs["scope"]  # a resource, never a group or subscription


def test_flex_consumption_plan_with_runtime_memory_and_scale_from_the_spec(engine, base_spec):
    build(engine, base_spec, consumer={"runtime": "python3.11", "memory_mb": 1024, "max_concurrency": 50})
    assert engine.one(PLAN).inputs["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert engine.one(PLAN).inputs["reserved"] is True
    config = engine.one(APP).inputs["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    # 50 concurrent calls: 4 instances x 12 calls (48, never above 50).
    assert config["scaleAndConcurrency"] == {"maximumInstanceCount": 4, "instanceMemoryMB": 2048}
    assert json.loads(package_files(engine)["host.json"])["extensions"]["serviceBus"]["maxConcurrentCalls"] == 12
    deployment = config["deployment"]["storage"]
    account = engine.one(STORAGE).outputs["name"]
    container = engine.one("azure-native:storage:BlobContainer").outputs["name"]
    assert deployment == {"type": "blobContainer", "value": f"https://{account}.blob.core.windows.net/{container}", "authentication": {"type": "SystemAssignedIdentity"}}
    assert engine.one(APP).inputs["serverFarmId"] == engine.one(PLAN).id


def test_code_is_published_through_one_deploy_after_the_roles_exist(default):
    engine, _ = default
    package = engine.one(PACKAGE)
    app = engine.one(APP).outputs["name"]
    assert package.inputs["scm_url"] == f"https://{app}.scm.azurewebsites.net"
    data = Path(package.inputs["package_path"]).read_bytes()
    assert package.inputs["package_sha256"] == hashlib.sha256(data).hexdigest()
    assert {engine.one(ROLE, "-receiver").urn, engine.one(ROLE, "-storage-owner").urn} <= set(package.dependencies)


def test_package_holds_the_generated_trigger_host_json_user_code_and_runtime(default):
    engine, _ = default
    files = package_files(engine)
    assert {"function_app.py", "host.json", "requirements.txt", "handler.py", "cloudqueue_runtime/azure.py", "cloudqueue_runtime/message.py"} <= set(files)
    assert b"azure-functions" in files["requirements.txt"]
    assert len(Path(engine.one(PACKAGE).inputs["package_path"]).read_bytes()) < 50 * 1024


def test_five_queues_share_one_resource_group_namespace_and_storage_account(engine, base_spec):
    engine.run(lambda: [AzureQueue(f"q{i}", single_cloud_args(base_spec)) for i in range(5)])
    assert len(engine.all(GROUP)) == len(engine.all(NAMESPACE)) == len(engine.all(STORAGE)) == 1
    assert len(engine.all(SB_QUEUE)) == 5
    # Each queue keeps its own app and identity, so role scopes stay per queue.
    assert len(engine.all(APP)) == len(engine.all(PLAN)) == 5
    assert len({r.inputs["principalId"] for r in engine.all(ROLE) if r.name.endswith("-receiver")}) == 5
    assert engine.mocks.invokes == ["azure-native:authorization:getClientConfig"]


def test_host_ids_are_unique_per_app_and_fit_32_characters(engine, base_spec):
    engine.run(lambda: [AzureQueue(f"orders-region-{i}", single_cloud_args(base_spec)) for i in range(3)])
    host_ids = [
        next(p["value"] for p in app.inputs["siteConfig"]["appSettings"] if p["name"] == "AzureFunctionsWebHost__hostid") for app in engine.all(APP)
    ]
    assert len(set(host_ids)) == 3 and all(len(h) <= 32 for h in host_ids)


def test_an_existing_resource_group_namespace_and_storage_account_are_used_as_given(engine, base_spec):
    existing = {"resource_group_name": "platform-rg", "namespace_name": "platform-bus", "storage_account_name": "platformfuncs"}
    build(engine, base_spec, **existing)
    assert not engine.all(GROUP) and not engine.all(NAMESPACE) and not engine.all(STORAGE)
    queue = engine.one(SB_QUEUE)
    assert (queue.inputs["resourceGroupName"], queue.inputs["namespaceName"]) == ("platform-rg", "platform-bus")
    assert settings(engine)["ServiceBusConnection__fullyQualifiedNamespace"] == "platform-bus.servicebus.windows.net"
    assert engine.one(ROLE, "-storage-owner").inputs["scope"] == (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/platform-rg/providers/Microsoft.Storage/storageAccounts/platformfuncs"
    )


def test_an_incomplete_existing_set_is_rejected_before_registering(engine, base_spec):
    with pytest.raises(SpecError, match=r"queues\.orders\.resource_group_name: required with namespace_name"):
        build(engine, base_spec, namespace_name="platform-bus")
    assert engine.all() == []


def test_protect_covers_the_queue_and_the_shared_group_and_namespace_only(engine, base_spec):
    build(engine, base_spec, opts=pulumi.ResourceOptions(protect=True))
    protected = sorted(r.type for r in engine.all() if r.custom and r.protect)
    assert protected == [GROUP, NAMESPACE, SB_QUEUE]


def test_without_protect_nothing_is_protected(default):
    engine, _ = default
    assert not [r.name for r in engine.all() if r.protect]


def test_every_child_is_parented_to_its_component(engine, base_spec):
    build(engine, base_spec, producers={"azure": [PRODUCER]})
    component = engine.one("cloudqueue:index:AzureQueue")
    shared = engine.one("cloudqueue:index:AzureShared")
    monitoring = engine.one("cloudqueue:index:AzureMonitoring")
    for top_level in (shared, monitoring):
        assert "pulumi:pulumi:Stack" in top_level.parent
    for child in engine.all():
        if child in (component, shared, monitoring):
            continue
        owner = shared if child.type in (GROUP, NAMESPACE, STORAGE) else monitoring if child.type in (WORKSPACE, INSIGHTS) else component
        assert child.parent == owner.urn, child.name
        assert child.name.startswith(f"{owner.name}-"), child.name


def test_tags_reach_every_taggable_resource(engine, base_spec):
    build(engine, base_spec, tags={"team": "payments"})
    for resource in (engine.one(PLAN), engine.one(APP)):
        assert resource.inputs["tags"] == {"team": "payments", "cloudqueue:queue": "orders"}


def test_outputs_are_the_ones_the_brief_lists(default):
    engine, component = default
    queue = engine.one(SB_QUEUE).outputs["name"]
    assert engine.resolve(component.namespace_name) == engine.one(NAMESPACE).outputs["name"]
    assert engine.resolve(component.queue_name) == queue
    assert engine.resolve(component.dead_letter_path) == f"{queue}/$DeadLetterQueue"
    assert engine.resolve(component.function_app_name) == engine.one(APP).outputs["name"]


def test_client_config_is_looked_up_once_for_a_single_queue(engine, base_spec):
    # Five queues make one lookup too: see test_five_queues_share_one_resource_group_namespace_and_storage_account.
    build(engine, base_spec)
    assert engine.mocks.invokes == ["azure-native:authorization:getClientConfig"]


def test_invalid_spec_registers_no_resource(engine, base_spec):
    with pytest.raises(SpecError, match=r"max_delivery_attempts: 0 is below Azure Service Bus's minimum of 1"):
        build(engine, base_spec, max_delivery_attempts=0)
    assert engine.all() == []


def test_service_bus_limits_are_the_documented_ones_not_stricter(engine, base_spec):
    # maxDeliveryCount has a floor of 1 and no ceiling below int32 (NServiceBus sets int.MaxValue);
    # a message TTL may be as short as 1 s (the SDKs' MinimumAllowedTimeToLive).
    build(engine, base_spec, max_delivery_attempts=5000, message_retention_seconds=1, dead_letter_retention_seconds=1)
    queue = engine.one(SB_QUEUE).inputs
    assert (queue["maxDeliveryCount"], queue["defaultMessageTimeToLive"]) == (5000, "PT1S")
    with pytest.raises(SpecError, match=r"max_delivery_attempts: 2147483648 is above Azure Service Bus's maximum of 2147483647"):
        build(Engine(preview=engine.preview), base_spec, max_delivery_attempts=2**31)


def test_longest_allowed_name_fits_the_function_app_name_limit(engine, base_spec):
    from components.spec import NAME_LIMITS

    longest = "n" * NAME_LIMITS["azure"].max_queue_name
    engine.run(lambda: Queue(longest, {**base_spec, "clouds": ["azure"]}))
    assert len(engine.one(APP).outputs["name"]) == 60


SUBNET = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/network/providers/Microsoft.Network/virtualNetworks/core/subnets/functions"


def test_telemetry_goes_to_application_insights_by_identity_only(default):
    engine, _ = default
    insights, workspace = engine.one(INSIGHTS), engine.one(WORKSPACE)
    assert insights.inputs["disableLocalAuth"] is True and insights.inputs["workspaceResourceId"] == workspace.id
    assert workspace.inputs["features"]["disableLocalAuth"] is True and workspace.inputs["retentionInDays"] == 30
    app_settings = settings(engine)
    assert app_settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] == insights.outputs["connectionString"]
    assert app_settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "Authorization=AAD"
    assert "APPINSIGHTS_INSTRUMENTATIONKEY" not in app_settings
    principal = engine.one(APP).outputs["identity"]["principalId"]
    assert engine.one(ROLE, "-telemetry").inputs == {
        "roleDefinitionId": role_id(MONITORING_METRICS_PUBLISHER), "scope": insights.id, "principalId": principal, "principalType": "ServicePrincipal"
    }
    assert settings(engine)["CLOUDQUEUE_QUEUE"] == "orders"


def test_tracing_off_leaves_no_telemetry_setting_role_or_component(engine, base_spec):
    build(engine, base_spec, consumer={"tracing": False})
    assert not [k for k in settings(engine) if k.startswith("APPLICATIONINSIGHTS_")]
    assert engine.all(INSIGHTS) == [] and not [r for r in engine.all(ROLE) if r.name.endswith("-telemetry")]


def test_queues_share_one_application_insights(engine, base_spec):
    engine.run(lambda: [AzureQueue(f"q{i}", single_cloud_args(base_spec)) for i in range(3)])
    assert len(engine.all(INSIGHTS)) == len(engine.all(WORKSPACE)) == 1
    assert len([r for r in engine.all(ROLE) if r.name.endswith("-telemetry")]) == 3


def test_the_app_is_closed_to_the_public_network_and_its_publish_step_opens_it_for_uploads_only(default):
    engine, _ = default
    app = engine.one(APP)
    assert app.inputs["publicNetworkAccess"] == "Disabled"  # CKV_AZURE_222
    package = engine.one(PACKAGE)
    assert package.inputs["site_id"] == app.id and package.inputs["arm_url"] == "https://management.azure.com"


def test_main_site_denies_every_address_and_asks_no_client_certificate_which_flex_does_not_support(default):
    engine, _ = default
    app = engine.one(APP).inputs
    # Flex supports no platform certificate features; nothing reaches the main site (README, CKV_AZURE_17).
    assert "clientCertEnabled" not in app and "clientCertMode" not in app
    site = app["siteConfig"]
    assert site["ipSecurityRestrictionsDefaultAction"] == "Deny"
    assert (site["scmIpSecurityRestrictionsUseMain"], site["scmIpSecurityRestrictionsDefaultAction"]) == (False, "Allow")


def test_storage_lets_trusted_azure_services_bypass_its_network_rules(default):
    engine, _ = default
    assert engine.one(STORAGE).inputs["networkRuleSet"] == {"defaultAction": "Allow", "bypass": "AzureServices"}


def test_network_integrates_the_app_with_the_subnet_only_when_asked(engine, base_spec):
    build(engine, base_spec, consumer={"network": {"azure": {"subnet_id": SUBNET}}})
    assert engine.one(APP).inputs["virtualNetworkSubnetId"] == SUBNET
    plain = Engine(preview=engine.preview)
    plain.run(lambda: AzureQueue("orders", single_cloud_args(base_spec)))
    assert "virtualNetworkSubnetId" not in plain.one(APP).inputs
