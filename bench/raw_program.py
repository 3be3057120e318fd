"""The baseline for component overhead: each cloud's resources for a queue, written by hand.

Same resources, inputs and Output wiring as each component, but no component, no validation and no
artifact builder: what a user without cloudqueue would write. bench/instructions.py counts the
components against it, both with the dead-letter alarms off (`alarms.dead_letter: false`: a few
resources of the same kinds per queue); tests/bench/test_raw_program.py checks both register the
same resources, inputs and dependencies."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_azure_native as azure
import pulumi_gcp as gcp

from components.azure_publish import FunctionAppPackage  # the publish step has no raw equivalent
from components.gcp.propagation import GrantPropagation  # the wait for IAM has none either

TRUST = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'


def doc(*statements: dict) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def deny_insecure(arn: pulumi.Output[str]) -> dict:
    return {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def raw_queue(name: str, archive: str, code_hash: str, layer=None) -> None:
    tags = {"cloudqueue:queue": name}
    dlq = aws.sqs.Queue(f"{name}-dead-letter", message_retention_seconds=1209600, max_message_size=262144, sqs_managed_sse_enabled=True, tags=tags)
    queue = aws.sqs.Queue(
        f"{name}-queue", message_retention_seconds=345600, visibility_timeout_seconds=180, max_message_size=262144, sqs_managed_sse_enabled=True, tags=tags,
        redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 5}),
    )
    redrive_allow = pulumi.Output.json_dumps({"redrivePermission": "byQueue", "sourceQueueArns": [queue.arn]})
    aws.sqs.RedriveAllowPolicy(f"{name}-dead-letter-redrive-allow", queue_url=dlq.url, redrive_allow_policy=redrive_allow)
    aws.sqs.QueuePolicy(f"{name}-queue-policy", queue_url=queue.url, policy=doc(deny_insecure(queue.arn)))
    aws.sqs.QueuePolicy(f"{name}-dead-letter-policy", queue_url=dlq.url, policy=doc(deny_insecure(dlq.arn)))
    send = {"Sid": "SendToThisQueue", "Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"], "Resource": queue.arn}
    aws.iam.Policy(f"{name}-producer-policy", description=f"Send messages to the cloudqueue queue {name} only.", policy=doc(send), tags=tags)
    work = ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:PurgeQueue", "sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks"]
    aws.iam.Policy(
        f"{name}-operator-policy", description=f"Send to, and inspect, redrive and purge the dead-letter queue of, the cloudqueue queue {name} only.", tags=tags,
        policy=doc({**send, "Action": ["sqs:SendMessage"]}, {"Sid": "WorkItsDeadLetterQueue", "Effect": "Allow", "Action": work, "Resource": dlq.arn}),
    )
    logs = aws.cloudwatch.LogGroup(f"{name}-consumer-logs", retention_in_days=30, tags=tags)
    role = aws.iam.Role(f"{name}-consumer-role", assume_role_policy=TRUST, tags=tags)
    role_policy = aws.iam.RolePolicy(
        f"{name}-consumer-policy", role=role.id,
        policy=doc(
            {"Sid": "ConsumeThisQueue", "Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"], "Resource": queue.arn},
            {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": pulumi.Output.concat(logs.arn, ":*")},
            {"Sid": "WriteTraces", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"},
        ),
    )
    after = pulumi.ResourceOptions(depends_on=[role_policy])
    layers = [] if layer is None else [
        aws.lambda_.LayerVersion(
            f"{name}-dependencies", layer_name=f"{name}-deps-00000000", description=f"Python requirements of the cloudqueue consumer {name}",
            code=pulumi.FileArchive(str(layer.path)), source_code_hash=layer.sha256_base64, compatible_runtimes=["python3.12"], compatible_architectures=["arm64"],
        ).arn
    ]
    function = aws.lambda_.Function(
        f"{name}-consumer", role=role.arn, runtime="python3.12", handler="cloudqueue_runtime.aws.handler", architectures=["arm64"],
        code=pulumi.FileArchive(archive), source_code_hash=code_hash, memory_size=256, timeout=30, tracing_config={"mode": "Active"}, layers=layers,
        environment={"variables": {"CLOUDQUEUE_HANDLER": "handler.handle", "CLOUDQUEUE_QUEUE": name}},
        logging_config={"log_format": "Text", "log_group": logs.name}, tags=tags, opts=after,
    )
    aws.lambda_.EventSourceMapping(
        f"{name}-consumer-trigger", event_source_arn=queue.arn, function_name=function.arn, batch_size=10, maximum_batching_window_in_seconds=0,
        function_response_types=["ReportBatchItemFailures"], scaling_config={"maximum_concurrency": 10}, tags=tags, opts=after,
    )


# --- Azure: the same resources AzureQueue registers, by hand ------------------------------------

def raw_azure_shared() -> dict:
    # A hand-written program looks the subscription up too, once, for the role definition ids.
    roles = pulumi.Output.concat("/subscriptions/", azure.authorization.get_client_config_output().subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/")
    shared_tags = {"cloudqueue:shared": "true"}
    group = azure.resources.ResourceGroup("cloudqueue-azure-group", tags=shared_tags)
    namespace = azure.servicebus.Namespace(
        "cloudqueue-azure-namespace", resource_group_name=group.name, sku={"name": "Standard", "tier": "Standard"}, disable_local_auth=True, minimum_tls_version="1.2", tags=shared_tags,
    )
    storage = azure.storage.StorageAccount(
        "cloudqueue-azure-storage", account_name="cq0000000000000000000000", resource_group_name=group.name, kind="StorageV2", sku={"name": "Standard_LRS"},
        allow_blob_public_access=False, allow_shared_key_access=False, minimum_tls_version="TLS1_2", network_rule_set={"default_action": "Allow", "bypass": "AzureServices"},
        enable_https_traffic_only=True, default_to_o_auth_authentication=True, tags=shared_tags,
    )
    workspace = azure.operationalinsights.Workspace(
        "cloudqueue-azure-monitoring-logs", resource_group_name=group.name, sku={"name": "PerGB2018"}, retention_in_days=30,
        features={"disable_local_auth": True, "enable_log_access_using_only_resource_permissions": True}, tags=shared_tags,
    )
    insights = azure.applicationinsights.Component(
        "cloudqueue-azure-monitoring-insights", resource_group_name=group.name, kind="web", application_type="web",
        workspace_resource_id=workspace.id, ingestion_mode="LogAnalytics", disable_local_auth=True, tags=shared_tags,
    )
    return {"group": group, "namespace": namespace, "storage": storage, "roles": roles, "insights": insights}


def raw_azure_queue(name: str, shared: dict, archive: str, code_sha256: str) -> None:
    group, namespace, storage = shared["group"], shared["namespace"], shared["storage"]
    tags = {"cloudqueue:queue": name}
    queue = azure.servicebus.Queue(
        f"{name}-queue", resource_group_name=group.name, namespace_name=namespace.name, max_delivery_count=5, lock_duration="PT3M",
        default_message_time_to_live="P4D", dead_lettering_on_message_expiration=True, requires_session=False,
    )
    container = azure.storage.BlobContainer(f"{name}-packages", account_name=storage.name, resource_group_name=group.name, public_access="None")
    plan = azure.web.AppServicePlan(f"{name}-plan", resource_group_name=group.name, kind="functionapp", reserved=True, sku={"name": "FC1", "tier": "FlexConsumption"}, tags=tags)
    app = azure.web.WebApp(
        f"{name}-consumer", resource_group_name=group.name, server_farm_id=plan.id, kind="functionapp,linux", https_only=True, identity={"type": "SystemAssigned"},
        site_config={
            "app_settings": [
                {"name": "CLOUDQUEUE_HANDLER", "value": "handler.handle"},
                {"name": "CLOUDQUEUE_QUEUE", "value": name},
                {"name": "CLOUDQUEUE_QUEUE_NAME", "value": queue.name},
                {"name": "ServiceBusConnection__fullyQualifiedNamespace", "value": pulumi.Output.concat(namespace.name, ".servicebus.windows.net")},
                {"name": "AzureWebJobsStorage__accountName", "value": storage.name},
                {"name": "AzureFunctionsWebHost__hostid", "value": "cq-00000000000000000000000000000"},
                {"name": "APPLICATIONINSIGHTS_CONNECTION_STRING", "value": shared["insights"].connection_string},
                {"name": "APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "value": "Authorization=AAD"},
            ],
            "min_tls_version": "1.2", "ip_security_restrictions_default_action": "Deny", "http20_enabled": True,
            "scm_ip_security_restrictions_default_action": "Allow", "scm_ip_security_restrictions_use_main": False, "scm_min_tls_version": "1.2",
        },
        public_network_access="Disabled", tags=tags,
        function_app_config={
            "deployment": {"storage": {"type": "blobContainer", "value": pulumi.Output.concat(storage.primary_endpoints.blob, container.name), "authentication": {"type": "SystemAssignedIdentity"}}},
            "runtime": {"name": "python", "version": "3.12"}, "scale_and_concurrency": {"maximum_instance_count": 1, "instance_memory_mb": 512},
        },
    )
    azure.web.WebAppFtpAllowed(f"{name}-ftp-basic-auth", name=app.name, resource_group_name=group.name, allow=False)
    azure.web.WebAppScmAllowed(f"{name}-scm-basic-auth", name=app.name, resource_group_name=group.name, allow=False)
    principal = app.identity.apply(lambda identity: identity.principal_id)
    receiver, owner, _ = [
        azure.authorization.RoleAssignment(
            f"{name}-{role}", role_definition_id=pulumi.Output.concat(shared["roles"], definition), scope=scope, principal_id=principal, principal_type="ServicePrincipal"
        )
        for role, definition, scope in (
            ("receiver", "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0", queue.id),
            ("storage-owner", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", storage.id),
            ("telemetry", "3913510d-42f4-4e42-8a64-420c390055eb", shared["insights"].id),
        )
    ]
    scm = app.host_name_ssl_states.apply(lambda states: next(s.name for s in states if s.host_type == "Repository"))
    FunctionAppPackage(f"{name}-package", scm_url=pulumi.Output.concat("https://", scm), package_path=archive, package_sha256=code_sha256, site_id=app.id, opts=pulumi.ResourceOptions(depends_on=[receiver, owner]))


# --- Google Cloud: the same resources GcpQueue registers, by hand ---------------------------------

def raw_gcp_shared() -> dict:
    # A hand-written program looks the project number up too, once, for the build account's condition.
    client = gcp.organizations.get_client_config_output()
    number = gcp.organizations.get_project_output(project_id=client.project).number
    pubsub = gcp.projects.ServiceIdentity("cloudqueue-gcp-agent-pubsub", project=client.project, service="pubsub.googleapis.com")
    shared_labels = {"cloudqueue_shared": "true"}
    bucket = gcp.storage.Bucket(
        "cloudqueue-gcp-source", labels=shared_labels, location="europe-west1", uniform_bucket_level_access=True, public_access_prevention="enforced", force_destroy=True,
        versioning={"enabled": True}, lifecycle_rules=[{"action": {"type": "Delete"}, "condition": {"days_since_noncurrent_time": 30, "with_state": "ARCHIVED"}}],
    )
    builder = gcp.serviceaccount.Account("cloudqueue-gcp-build", account_id="cloudqueue-gcp-build-000000", display_name="cloudqueue: builds Cloud Functions")
    member = builder.email.apply(lambda e: f"serviceAccount:{e}")
    sources = pulumi.Output.concat("projects/_/buckets/gcf-v2-sources-", number, "-europe-west1")
    expression = sources.apply(lambda b: f'resource.name == "{b}" || resource.name.startsWith("{b}/") || resource.name.startsWith("{b}-")')
    grants = [
        gcp.projects.IAMMember("cloudqueue-gcp-build-logs", project="cloudqueue-dev", role="roles/logging.logWriter", member=member),
        gcp.storage.BucketIAMMember("cloudqueue-gcp-build-source", bucket=bucket.name, role="roles/storage.objectViewer", member=member),
        gcp.projects.IAMMember(
            "cloudqueue-gcp-build-function-sources", project="cloudqueue-dev", role="roles/storage.objectViewer", member=member,
            condition={"title": "cloudqueue-function-sources", "description": "Cloud Functions source copies in europe-west1, read by function builds", "expression": expression},
        ),
    ]
    repository = gcp.artifactregistry.Repository(
        "cloudqueue-gcp-images", location="europe-west1", repository_id="cloudqueue-0000000000", format="DOCKER", description="cloudqueue: Cloud Functions images", labels=shared_labels,
    )
    writer = {"role": "roles/artifactregistry.writer", "member": member}
    grants.append(gcp.artifactregistry.RepositoryIamMember("cloudqueue-gcp-images-build", project=repository.project, location=repository.location, repository=repository.name, **writer))
    build_ready = [*grants, GrantPropagation("cloudqueue-gcp-images-build-propagation", grants)]
    return {"bucket": bucket, "builder": builder, "agent": pubsub.member, "repository": repository, "build_ready": build_ready}


def raw_gcp_queue(name: str, shared: dict, archive: str, code_sha256: str) -> None:
    agent = shared["agent"]
    labels = {"cloudqueue_queue": name}
    topic = gcp.pubsub.Topic(f"{name}-topic", labels=labels)
    dead_letter = gcp.pubsub.Topic(f"{name}-dead-letter", labels=labels)
    # 31 days: a Google Cloud-only queue's dead letters are kept as long as Pub/Sub allows.
    gcp.pubsub.Subscription(f"{name}-dead-letter-subscription", topic=dead_letter.id, message_retention_duration="2678400s", ack_deadline_seconds=600, expiration_policy={"ttl": ""}, labels=labels)
    forward = gcp.pubsub.TopicIAMMember(f"{name}-dead-letter-publisher", topic=dead_letter.id, role="roles/pubsub.publisher", member=agent)
    runtime = gcp.serviceaccount.Account(f"{name}-run", account_id=f"{name[:16]}-run-000000", display_name=f"cloudqueue: runs the {name} consumer")
    invoker = gcp.serviceaccount.Account(f"{name}-push", account_id=f"{name[:16]}-push-000000", display_name=f"cloudqueue: pushes {name} messages to its consumer")
    token = gcp.serviceaccount.IAMMember(f"{name}-push-token-creator", service_account_id=invoker.name, role="roles/iam.serviceAccountTokenCreator", member=agent)
    source = gcp.storage.BucketObject(f"{name}-source", bucket=shared["bucket"].name, name=f"{name}/{code_sha256}.zip", source=pulumi.FileAsset(archive))
    function = gcp.cloudfunctionsv2.Function(
        f"{name}-consumer", location="europe-west1", labels=labels, opts=pulumi.ResourceOptions(depends_on=shared["build_ready"]),
        build_config={
            "runtime": "python312", "entry_point": "consume", "source": {"storage_source": {"bucket": source.bucket, "object": source.name}},
            "service_account": shared["builder"].name, "docker_repository": shared["repository"].id,
        },
        service_config={
            "available_memory": "256Mi", "timeout_seconds": 30, "max_instance_count": 10, "max_instance_request_concurrency": 1, "ingress_settings": "ALLOW_INTERNAL_ONLY",
            "all_traffic_on_latest_revision": True, "service_account_email": runtime.email,
            "environment_variables": {"CLOUDQUEUE_HANDLER": "handler.handle", "CLOUDQUEUE_QUEUE": name, "CLOUDQUEUE_TRACE_PROJECT": "cloudqueue-dev"},
        },
    )
    gcp.projects.IAMMember(f"{name}-trace-writer", project="cloudqueue-dev", role="roles/cloudtrace.agent", member=runtime.email.apply(lambda e: f"serviceAccount:{e}"))
    invoke = gcp.cloudrunv2.ServiceIamMember(
        f"{name}-push-invoker", project="cloudqueue-dev", location="europe-west1", name=function.name, role="roles/run.invoker", member=invoker.email.apply(lambda e: f"serviceAccount:{e}")
    )
    push_ready = GrantPropagation(f"{name}-push-propagation", [invoke, token, forward])
    uri = function.service_config.apply(lambda config: config.uri)
    subscription = gcp.pubsub.Subscription(
        f"{name}-subscription", topic=topic.id, ack_deadline_seconds=180, message_retention_duration="345600s", enable_message_ordering=False, expiration_policy={"ttl": ""},
        retry_policy={"minimum_backoff": "10s", "maximum_backoff": "600s"}, dead_letter_policy={"dead_letter_topic": dead_letter.id, "max_delivery_attempts": 5},
        push_config={"push_endpoint": uri, "oidc_token": {"service_account_email": invoker.email, "audience": uri}}, labels=labels,
        opts=pulumi.ResourceOptions(depends_on=[invoke, token, forward, push_ready]),
    )
    gcp.pubsub.SubscriptionIAMMember(f"{name}-dead-letter-subscriber", subscription=subscription.id, role="roles/pubsub.subscriber", member=agent)
