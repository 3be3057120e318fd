"""security/convert.py: recorded resources as the Terraform plan and ARM template Checkov reads."""

from __future__ import annotations

import json

from security.convert import convert, snake

KEY = "arn:aws:kms:us-east-1:123456789012:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def one(resources: list[dict], kind: str) -> dict:
    """The single converted resource: a plan resource's values, or an ARM template resource."""
    converted = convert(resources)
    assert not converted.unknown
    if kind == "terraform":
        (resource,) = converted.plan["planned_values"]["root_module"]["resources"]
        return resource
    (resource,) = converted.template["resources"]
    return resource


def storage_account(**inputs) -> dict:
    defaults = {"resourceGroupName": "rg", "accountName": "cq0123456789abcdef012345", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}
    return {"type": "azure-native:storage:StorageAccount", "name": "cloudqueue-azure-storage", "inputs": {**defaults, **inputs}, "outputs": {"name": "cq0123456789abcdef012345"}}


def test_storage_account_inputs_take_arm_property_names_and_the_account_its_physical_name():
    resource = one([storage_account(enableHttpsTrafficOnly=True, networkRuleSet={"defaultAction": "Deny", "bypass": "AzureServices"},
                                    allowSharedKeyAccess=False, tags={"cloudqueue:shared": "true"})], "arm")

    assert resource["type"] == "Microsoft.Storage/storageAccounts"
    assert resource["name"] == "cq0123456789abcdef012345"  # not the Pulumi name, which fails Azure's naming rule
    assert resource["properties"] == {
        "supportsHttpsTrafficOnly": True,
        "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"},
        "allowSharedKeyAccess": False,
    }
    assert (resource["kind"], resource["sku"], resource["tags"]) == ("StorageV2", {"name": "Standard_LRS"}, {"cloudqueue:shared": "true"})
    assert "resourceGroupName" not in resource["properties"] and "accountName" not in resource["properties"]


def test_storage_account_key_vault_properties_take_arm_lower_case_names():
    resource = one([storage_account(encryption={"keySource": "Microsoft.Keyvault", "keyVaultProperties": {
        "keyName": "orders", "keyVaultUri": "https://kv.vault.azure.net", "keyVersion": "1"}})], "arm")

    assert resource["properties"]["encryption"] == {
        "keySource": "Microsoft.Keyvault",
        "keyvaultproperties": {"keyname": "orders", "keyvaulturi": "https://kv.vault.azure.net", "keyversion": "1"},
    }


def test_child_resources_are_named_parent_slash_child_as_arm_templates_name_them():
    converted = convert([
        {"type": "azure-native:servicebus:Queue", "name": "orders-azure-queue",
         "inputs": {"resourceGroupName": "rg", "namespaceName": "ns1234", "maxDeliveryCount": 5.0}, "outputs": {"name": "orders-azure-queue"}},
        {"type": "azure-native:storage:BlobContainer", "name": "orders-azure-packages",
         "inputs": {"resourceGroupName": "rg", "accountName": "cqabc", "publicAccess": "None"}, "outputs": {"name": "orders-azure-packages"}},
        {"type": "azure-native:web:WebAppFtpAllowed", "name": "orders-azure-ftp-basic-auth",
         "inputs": {"resourceGroupName": "rg", "name": "orders-azure-consumer1234", "allow": False}, "outputs": {"name": "orders-azure-consumer1234"}},
    ])

    by_type = {resource["type"]: resource for resource in converted.template["resources"]}
    assert by_type["Microsoft.ServiceBus/namespaces/queues"]["name"] == "ns1234/orders-azure-queue"
    assert by_type["Microsoft.ServiceBus/namespaces/queues"]["properties"] == {"maxDeliveryCount": 5}
    assert by_type["Microsoft.Storage/storageAccounts/blobServices/containers"]["name"] == "cqabc/default/orders-azure-packages"
    assert by_type["Microsoft.Web/sites/basicPublishingCredentialsPolicies"] == {
        "type": "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
        "apiVersion": by_type["Microsoft.Web/sites/basicPublishingCredentialsPolicies"]["apiVersion"],
        "name": "orders-azure-consumer1234/ftp",
        "properties": {"allow": False},
    }


def test_a_workspace_sku_is_a_property_and_a_role_assignment_scope_a_top_level_member():
    converted = convert([
        {"type": "azure-native:operationalinsights:Workspace", "name": "logs",
         "inputs": {"resourceGroupName": "rg", "sku": {"name": "PerGB2018"}, "retentionInDays": 30.0}, "outputs": {"name": "logs1234"}},
        {"type": "azure-native:authorization:RoleAssignment", "name": "sender",
         "inputs": {"scope": "/subscriptions/s/resourceGroups/rg", "principalId": "p", "roleDefinitionId": "r"}, "outputs": {"name": "c8733c9c"}},
    ])

    workspace, assignment = converted.template["resources"]
    assert "sku" not in workspace and workspace["properties"] == {"sku": {"name": "PerGB2018"}, "retentionInDays": 30}
    assert assignment["scope"] == "/subscriptions/s/resourceGroups/rg"
    assert assignment["properties"] == {"principalId": "p", "roleDefinitionId": "r"}
    assert assignment["name"] == "c8733c9c"


def test_application_insights_inputs_take_the_components_mixed_case_arm_names():
    resource = one([{"type": "azure-native:applicationinsights:Component", "name": "insights", "outputs": {"name": "insights1234"},
                     "inputs": {"resourceGroupName": "rg", "resourceName": "insights1234", "kind": "web", "applicationType": "web",
                                "flowType": "Bluefield", "requestSource": "rest", "disableLocalAuth": True,
                                "workspaceResourceId": "/subscriptions/s/w", "ingestionMode": "LogAnalytics",
                                "publicNetworkAccessForIngestion": "Enabled"}}], "arm")

    assert resource["kind"] == "web"
    assert resource["properties"] == {
        "Application_Type": "web", "Flow_Type": "Bluefield", "Request_Source": "rest", "DisableLocalAuth": True,
        "WorkspaceResourceId": "/subscriptions/s/w", "IngestionMode": "LogAnalytics", "publicNetworkAccessForIngestion": "Enabled",
    }


def test_arm_resources_carry_the_api_version_the_installed_sdk_deploys():
    resource = one([storage_account()], "arm")
    assert resource["apiVersion"][:4].isdigit() and int(resource["apiVersion"][:4]) >= 2019  # Checkov reads the year for some checks


def test_bridged_blocks_become_lists_of_objects_and_maps_keep_their_keys():
    resource = one([{"type": "aws:lambda/function:Function", "name": "orders-aws-consumer", "outputs": {"name": "orders-aws-consumer-8951454"},
                     "inputs": {"tracingConfig": {"mode": "Active"}, "kmsKeyArn": KEY, "memorySize": 256.0,
                                "environment": {"variables": {"CLOUDQUEUE_HANDLER": "handler.handle"}},
                                "tags": {"cloudqueue:queue": "orders"}, "architectures": ["arm64"],
                                "code": {"__archive__": "/tmp/cloudqueue-artifacts/f865.zip"}}}], "terraform")

    assert resource["address"] == "aws_lambda_function.orders-aws-consumer"
    assert resource["values"] == {
        "tracing_config": [{"mode": "Active"}],
        "kms_key_arn": KEY,
        "memory_size": 256,
        "environment": [{"variables": {"CLOUDQUEUE_HANDLER": "handler.handle"}}],
        "tags": {"cloudqueue:queue": "orders"},
        "architectures": ["arm64"],
        "filename": "/tmp/cloudqueue-artifacts/f865.zip",
        "name": "orders-aws-consumer-8951454",
    }
    assert isinstance(resource["values"]["memory_size"], int)  # Checkov's numeric checks skip floats as unknown


def test_pluralised_blocks_get_their_terraform_names_back():
    bucket = one([{"type": "gcp:storage/bucket:Bucket", "name": "source", "outputs": {"name": "source-1234"},
                   "inputs": {"uniformBucketLevelAccess": True, "versioning": {"enabled": True},
                              "lifecycleRules": [{"condition": {"daysSinceNoncurrentTime": 30.0, "withState": "ARCHIVED"}, "action": {"type": "Delete"}}]}}],
                 "terraform")
    function = one([{"type": "gcp:cloudfunctionsv2/function:Function", "name": "consumer", "outputs": {},
                     "inputs": {"serviceConfig": {"ingressSettings": "ALLOW_INTERNAL_ONLY", "environmentVariables": {"CLOUDQUEUE_QUEUE": "orders"},
                                                  "directVpcNetworkInterfaces": [{"network": "n", "subnetwork": "s"}]}}}], "terraform")

    assert bucket["values"]["lifecycle_rule"] == [{"condition": [{"days_since_noncurrent_time": 30, "with_state": "ARCHIVED"}], "action": [{"type": "Delete"}]}]
    assert bucket["values"]["versioning"] == [{"enabled": True}]
    assert function["values"]["service_config"] == [{
        "ingress_settings": "ALLOW_INTERNAL_ONLY",
        "environment_variables": {"CLOUDQUEUE_QUEUE": "orders"},
        "direct_vpc_network_interface": [{"network": "n", "subnetwork": "s"}],
    }]


def test_the_plan_is_terraforms_json_plan_with_a_create_change_per_resource():
    converted = convert([
        {"type": "aws:sqs/queue:Queue", "name": "orders-aws-queue", "inputs": {"messageRetentionSeconds": 345600.0}, "outputs": {"name": "q-1"}},
        {"type": "aws:sqs/queue:Queue", "name": "orders-aws-queue", "inputs": {}, "outputs": {}},  # same name under another parent
    ])

    planned = converted.plan["planned_values"]["root_module"]["resources"]
    assert [r["address"] for r in planned] == ["aws_sqs_queue.orders-aws-queue", "aws_sqs_queue.orders-aws-queue_2"]
    assert [c["address"] for c in converted.plan["resource_changes"]] == [r["address"] for r in planned]
    assert converted.plan["resource_changes"][0]["change"] == {"actions": ["create"], "before": None, "after": planned[0]["values"], "after_unknown": {}}
    assert {r["provider_name"] for r in planned} == {"registry.terraform.io/hashicorp/aws"}
    json.dumps(converted.plan)  # plain JSON all the way down


def test_a_type_without_a_conversion_is_reported_and_dynamic_resources_are_not_cloud_resources():
    converted = convert([
        {"type": "aws:s3/bucketV2:BucketV2", "name": "unheard-of", "inputs": {}},
        {"type": "pulumi-python:dynamic/cloudqueue:FunctionAppPackage", "name": "orders-azure-package", "inputs": {}},
    ])
    assert converted.unknown == [("aws:s3/bucketV2:BucketV2", "unheard-of")]
    assert converted.terraform_count == converted.arm_count == 0


def test_snake_spells_bridged_names_as_terraform_does():
    assert [snake(name) for name in ("kmsMasterKeyId", "s3Bucket", "ipv6AccessType", "name")] == ["kms_master_key_id", "s3_bucket", "ipv6_access_type", "name"]


def test_the_scan_counts_a_type_it_cannot_convert_as_a_problem(tmp_path):
    from security import scan

    findings, counts = scan.scan_resources([{"type": "aws:s3/bucketV2:BucketV2", "name": "unheard-of", "inputs": {}}], "/no/checkov/needed", tmp_path)
    assert counts == {"terraform": 0, "arm": 0}
    assert findings.errors == ["no conversion for aws:s3/bucketV2:BucketV2 (unheard-of): add it to security/convert.py"]


def test_the_scan_reads_each_checks_status_from_the_readme_table():
    from security import scan

    table = scan.documented()
    assert table and all(status for status in table.values())
    assert table.get("CKV_AWS_117", "").startswith("Opt-in")


def test_alarms_keep_their_dimensions_and_labels_as_maps_and_a_metric_alerts_criteria_its_odata_type():
    converted = convert([
        {"type": "aws:cloudwatch/metricAlarm:MetricAlarm", "name": "orders-aws-dead-letter-alarm", "outputs": {"name": "alarm-1"},
         "inputs": {"dimensions": {"QueueName": "orders-dlq"}, "threshold": 0.0, "alarmActions": []}},
        {"type": "gcp:monitoring/alertPolicy:AlertPolicy", "name": "orders-gcp-dead-letter-alarm", "outputs": {},
         "inputs": {"userLabels": {"cloudqueue_queue": "orders"}, "conditions": [{"displayName": "d", "conditionThreshold": {
             "thresholdValue": 0.0, "aggregations": [{"perSeriesAligner": "ALIGN_MAX"}]}}]}},
        {"type": "azure-native:monitor:MetricAlert", "name": "orders-azure-dead-letter-alarm", "outputs": {"name": "orders-alarm1234"},
         "inputs": {"resourceGroupName": "rg", "location": "global", "severity": 2.0,
                    "criteria": {"odataType": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": [{"threshold": 0.0}]}}},
    ])

    alarm, policy = (r["values"] for r in converted.plan["planned_values"]["root_module"]["resources"])
    assert alarm == {"dimensions": {"QueueName": "orders-dlq"}, "threshold": 0, "alarm_actions": [], "name": "alarm-1"}
    assert policy["user_labels"] == {"cloudqueue_queue": "orders"}
    assert policy["conditions"] == [{"display_name": "d", "condition_threshold": [{"threshold_value": 0, "aggregations": [{"per_series_aligner": "ALIGN_MAX"}]}]}]
    (alert,) = converted.template["resources"]
    assert (alert["type"], alert["name"], alert["location"]) == ("Microsoft.Insights/metricAlerts", "orders-alarm1234", "global")
    assert alert["properties"] == {"severity": 2, "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": [{"threshold": 0}]}}
