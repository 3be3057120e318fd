"""security/convert.py: what the dead-letter alarms notify through, as Terraform and ARM name it."""

from __future__ import annotations

from security.convert import convert


def test_alarm_targets_convert_with_their_terraform_and_arm_names():
    converted = convert([
        {"type": "aws:sns/topic:Topic", "name": "orders-aws-alarm-topic", "outputs": {"name": "orders-aws-alarm-topic-1a2b3c4"},
         "inputs": {"kmsMasterKeyId": "arn:aws:kms:us-east-1:123456789012:key/k", "tags": {"cloudqueue:queue": "orders"}}},
        # The bridge calls the subscription's topic `topic`; Terraform calls it `topic_arn`.
        {"type": "aws:sns/topicSubscription:TopicSubscription", "name": "orders-aws-alarm-email-af3c8254", "outputs": {},
         "inputs": {"topic": "arn:aws:sns:us-east-1:123456789012:orders", "protocol": "email", "endpoint": "ops@example.com"}},
        {"type": "gcp:monitoring/notificationChannel:NotificationChannel", "name": "orders-gcp-alarm-email-af3c8254", "outputs": {},
         "inputs": {"type": "email", "labels": {"email_address": "ops@example.com"}, "userLabels": {"cloudqueue_queue": "orders"}}},
        {"type": "azure-native:monitor:ActionGroup", "name": "orders-azure-alarm-actions", "outputs": {"name": "orders-azure-alarm-actions1a2b3c4d"},
         "inputs": {"resourceGroupName": "rg", "location": "Global", "groupShortName": "orders", "enabled": True,
                    "emailReceivers": [{"name": "email-af3c8254", "emailAddress": "ops@example.com", "useCommonAlertSchema": True}]}},
    ])
    assert converted.unknown == []
    topic, subscription, channel = converted.plan["planned_values"]["root_module"]["resources"]
    assert (topic["type"], topic["values"]["kms_master_key_id"], topic["values"]["name"]) == ("aws_sns_topic", "arn:aws:kms:us-east-1:123456789012:key/k", "orders-aws-alarm-topic-1a2b3c4")
    assert subscription["type"] == "aws_sns_topic_subscription"
    assert subscription["values"] == {"topic_arn": "arn:aws:sns:us-east-1:123456789012:orders", "protocol": "email", "endpoint": "ops@example.com"}
    assert channel["type"] == "google_monitoring_notification_channel"
    assert channel["values"] == {"type": "email", "labels": {"email_address": "ops@example.com"}, "user_labels": {"cloudqueue_queue": "orders"}}
    (group,) = converted.template["resources"]
    assert (group["type"], group["name"], group["location"]) == ("Microsoft.Insights/actionGroups", "orders-azure-alarm-actions1a2b3c4d", "Global")
    assert group["properties"] == {
        "groupShortName": "orders", "enabled": True,
        "emailReceivers": [{"name": "email-af3c8254", "emailAddress": "ops@example.com", "useCommonAlertSchema": True}],
    }
