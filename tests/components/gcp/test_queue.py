"""GcpQueue wiring, checked through realistic pulumi-gcp mocks with preview=True and preview=False."""

from __future__ import annotations

import zipfile

import pulumi
import pytest

from components import GcpQueue, Queue, SpecError
from components.spec import NAME_LIMITS
from pulumi_mocks import GCP_PROJECT, GCP_PROJECT_NUMBER, GCP_REGION
from specs import single_cloud_args

TOPIC = "gcp:pubsub/topic:Topic"
SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
ACCOUNT = "gcp:serviceaccount/account:Account"
TOPIC_MEMBER = "gcp:pubsub/topicIAMMember:TopicIAMMember"
SUBSCRIPTION_MEMBER = "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember"
ACCOUNT_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
RUN_MEMBER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
BUCKET = "gcp:storage/bucket:Bucket"
OBJECT = "gcp:storage/bucketObject:BucketObject"
SERVICE_AGENT = f"serviceAccount:service-{GCP_PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
KEY = f"projects/{GCP_PROJECT}/locations/{GCP_REGION}/keyRings/queues/cryptoKeys/orders"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
KEY_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
REPOSITORY_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
SUBNET_MEMBER = "gcp:compute/subnetworkIAMMember:SubnetworkIAMMember"
IDENTITY = "gcp:projects/serviceIdentity:ServiceIdentity"
WAIT = "pulumi-python:dynamic/cloudqueue:GrantPropagation"
STORAGE_LOOKUP = "gcp:storage/getProjectServiceAccount:getProjectServiceAccount"
STORAGE_AGENT = f"serviceAccount:service-{GCP_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
SOURCES_BUCKET = f"projects/_/buckets/gcf-v2-sources-{GCP_PROJECT_NUMBER}-{GCP_REGION}"
IAM_TYPES = (TOPIC_MEMBER, SUBSCRIPTION_MEMBER, ACCOUNT_MEMBER, RUN_MEMBER, PROJECT_MEMBER, KEY_MEMBER, BUCKET_MEMBER, REPOSITORY_MEMBER, SUBNET_MEMBER)
FUNCTION_AGENTS = {
    f"serviceAccount:service-{GCP_PROJECT_NUMBER}@{domain}"
    for domain in ("gcf-admin-robot.iam.gserviceaccount.com", "gcp-sa-artifactregistry.iam.gserviceaccount.com",
                   "gs-project-accounts.iam.gserviceaccount.com", "serverless-robot-prod.iam.gserviceaccount.com")
}


COMPONENT = GcpQueue
"""The component the shared `default` fixture (conftest.py) builds once per mode."""



def build(engine, base_spec, name="orders", opts=None, **changes) -> GcpQueue:
    return engine.run(lambda: GcpQueue(name, single_cloud_args(base_spec, **changes), opts))


def main_subscription(engine):
    return engine.one(SUBSCRIPTION, "orders-subscription")


def account(engine, role: str):
    return engine.one(ACCOUNT, f"-{role}")


def test_dead_letter_policy_forwards_to_the_dead_letter_topic_after_max_attempts(engine, base_spec):
    build(engine, base_spec, max_delivery_attempts=8)
    policy = main_subscription(engine).inputs["deadLetterPolicy"]
    assert policy == {"deadLetterTopic": engine.one(TOPIC, "-dead-letter").id, "maxDeliveryAttempts": 8}
    assert main_subscription(engine).inputs["topic"] == engine.one(TOPIC, "-topic").id


def test_dead_letter_topic_has_a_pull_subscription_that_keeps_messages(engine, base_spec):
    build(engine, base_spec, dead_letter_retention_seconds=604800)
    holder = engine.one(SUBSCRIPTION, "-dead-letter-subscription")
    assert holder.inputs["topic"] == engine.one(TOPIC, "-dead-letter").id
    assert holder.inputs["messageRetentionDuration"] == "604800s"
    assert holder.inputs["expirationPolicy"] == {"ttl": ""}
    assert "pushConfig" not in holder.inputs and "deadLetterPolicy" not in holder.inputs


def test_pubsub_service_agent_can_publish_to_the_dead_letter_topic(default):
    engine, _ = default
    (grant,) = [m for m in engine.all(TOPIC_MEMBER) if m.inputs["member"] == SERVICE_AGENT]
    assert (grant.inputs["topic"], grant.inputs["role"]) == (engine.one(TOPIC, "-dead-letter").id, "roles/pubsub.publisher")


def test_pubsub_service_agent_can_subscribe_to_the_main_subscription(default):
    engine, _ = default
    grant = engine.one(SUBSCRIPTION_MEMBER)
    assert grant.inputs == {"subscription": main_subscription(engine).id, "role": "roles/pubsub.subscriber", "member": SERVICE_AGENT}


def test_pubsub_service_agent_can_mint_tokens_as_the_invoker_only(default):
    engine, _ = default
    grant = engine.one(ACCOUNT_MEMBER)
    assert grant.inputs == {"serviceAccountId": account(engine, "push").outputs["name"], "role": "roles/iam.serviceAccountTokenCreator", "member": SERVICE_AGENT}


def test_push_goes_to_the_function_url_with_an_oidc_token_from_the_invoker(default):
    engine, _ = default
    uri = engine.one(FUNCTION).outputs["serviceConfig"]["uri"]
    invoker = account(engine, "push").outputs["email"]
    assert main_subscription(engine).inputs["pushConfig"] == {"pushEndpoint": uri, "oidcToken": {"serviceAccountEmail": invoker, "audience": uri}}
    assert uri.startswith("https://") and uri.endswith(".a.run.app")


def test_only_the_invoker_may_run_the_function(default):
    engine, _ = default
    function = engine.one(FUNCTION)
    (grant,) = [m for m in engine.all(RUN_MEMBER)]
    assert grant.inputs == {
        "project": GCP_PROJECT,
        "location": GCP_REGION,
        "name": function.outputs["name"],
        "role": "roles/run.invoker",
        "member": f"serviceAccount:{account(engine, 'push').outputs['email']}",
    }
    # Push is authorised and forwarding allowed before the first message is delivered.
    subscription = main_subscription(engine)
    assert {grant.urn, engine.one(ACCOUNT_MEMBER).urn} <= set(subscription.dependencies)
    assert [m.urn for m in engine.all(TOPIC_MEMBER) if m.inputs["member"] == SERVICE_AGENT][0] in subscription.dependencies


def test_subscription_settings_come_from_the_spec(engine, base_spec):
    build(engine, base_spec, message_retention_seconds=86400, consumer={"timeout_seconds": 40})
    subscription = main_subscription(engine).inputs
    assert subscription["ackDeadlineSeconds"] == 240  # 6 x 40 s
    assert subscription["messageRetentionDuration"] == "86400s"
    assert subscription["retryPolicy"] == {"minimumBackoff": "10s", "maximumBackoff": "600s"}
    assert subscription["expirationPolicy"] == {"ttl": ""}
    assert subscription["enableMessageOrdering"] is False


def test_gcp_subscriptions_keep_messages_up_to_pubsubs_31_days(engine, base_spec):
    # Subscription messageRetentionDuration: 10 minutes..31 days (it was capped at 7 days here).
    build(engine, base_spec, message_retention_seconds=2678400, dead_letter_retention_seconds=2678400)
    assert main_subscription(engine).inputs["messageRetentionDuration"] == "2678400s"
    assert engine.one(SUBSCRIPTION, "-dead-letter-subscription").inputs["messageRetentionDuration"] == "2678400s"


def test_gcp_retention_beyond_31_days_is_refused_before_any_resource(engine, base_spec):
    with pytest.raises(SpecError, match=r"message_retention_seconds: 2678401 is above Google Cloud Pub/Sub's maximum of 2678400 \(allowed 600\.\.2678400"):
        build(engine, base_spec, message_retention_seconds=2678401)
    assert engine.all() == []


def test_fifo_enables_message_ordering(engine, base_spec):
    build(engine, base_spec, fifo=True)
    assert main_subscription(engine).inputs["enableMessageOrdering"] is True


def test_function_is_http_internal_only_with_its_own_runtime_account(engine, base_spec):
    build(engine, base_spec, consumer={"memory_mb": 512, "timeout_seconds": 45, "max_concurrency": 7, "environment": {"LOG_LEVEL": "debug"}})
    function = engine.one(FUNCTION).inputs
    service = function["serviceConfig"]
    assert "eventTrigger" not in function  # Eventarc's subscription could not dead-letter
    assert service["ingressSettings"] == "ALLOW_INTERNAL_ONLY"
    assert service["serviceAccountEmail"] == account(engine, "run").outputs["email"]
    assert (service["availableMemory"], service["timeoutSeconds"], service["maxInstanceCount"], service["maxInstanceRequestConcurrency"]) == ("512Mi", 45, 7, 1)
    assert service["environmentVariables"] == {
        "LOG_LEVEL": "debug", "CLOUDQUEUE_HANDLER": "handler.handle", "CLOUDQUEUE_QUEUE": "orders", "CLOUDQUEUE_TRACE_PROJECT": GCP_PROJECT
    }
    assert function["buildConfig"]["runtime"] == "python312" and function["buildConfig"]["entryPoint"] == "consume"
    assert function["location"] == GCP_REGION


def test_source_is_uploaded_to_a_private_bucket_under_a_content_addressed_name(default):
    engine, _ = default
    bucket, source, function = engine.one(BUCKET), engine.one(OBJECT), engine.one(FUNCTION)
    assert bucket.inputs["uniformBucketLevelAccess"] is True and bucket.inputs["publicAccessPrevention"] == "enforced"
    assert function.inputs["buildConfig"]["source"] == {"storageSource": {"bucket": bucket.outputs["name"], "object": source.inputs["name"]}}
    archive = zipfile.ZipFile(source.inputs["source"].path)
    assert {"main.py", "requirements.txt", "handler.py", "cloudqueue_runtime/gcp.py"} <= set(archive.namelist())
    assert b"functions-framework" in archive.read("requirements.txt")
    import hashlib

    digest = hashlib.sha256(open(source.inputs["source"].path, "rb").read()).hexdigest()
    assert source.inputs["name"] == f"orders/{digest}.zip"
    assert len(open(source.inputs["source"].path, "rb").read()) < 50 * 1024


def build_grants(engine) -> list:
    member = f"serviceAccount:{engine.one(ACCOUNT, '-build').outputs['email']}"
    return [r for r in engine.all() if r.type in IAM_TYPES and r.inputs["member"] == member]


def test_builds_run_as_a_dedicated_account_that_may_log_read_sources_and_push_images_only(default):
    engine, _ = default
    builder = engine.one(ACCOUNT, "-build")
    build_config = engine.one(FUNCTION).inputs["buildConfig"]
    assert build_config["serviceAccount"] == builder.outputs["name"]
    repository = engine.one(REPOSITORY)
    assert build_config["dockerRepository"] == repository.id == f"projects/{GCP_PROJECT}/locations/{GCP_REGION}/repositories/{repository.inputs['repositoryId']}"
    grants = sorted((r.type, r.inputs["role"]) for r in build_grants(engine))
    # Not roles/cloudbuild.builds.builder, which may act as other accounts (CKV_GCP_49).
    assert grants == sorted([
        (PROJECT_MEMBER, "roles/logging.logWriter"),
        (BUCKET_MEMBER, "roles/storage.objectViewer"),  # cloudqueue's source bucket
        (PROJECT_MEMBER, "roles/storage.objectViewer"),  # Cloud Functions' copy, under a condition
        (REPOSITORY_MEMBER, "roles/artifactregistry.writer"),
    ])
    assert engine.one(BUCKET_MEMBER).inputs["bucket"] == engine.one(BUCKET).outputs["name"]
    assert engine.one(REPOSITORY_MEMBER).inputs["repository"] == repository.outputs["name"]


def _condition_allows(expression: str, name: str) -> bool:
    """Evaluates the `==` / `startsWith` disjunctions cloudqueue writes, as IAM evaluates CEL on resource.name."""
    for clause in expression.split(" || "):
        if clause.startswith('resource.name == "'):
            allowed = name == clause[len('resource.name == "'):-1]
        elif clause.startswith('resource.name.startsWith("'):
            allowed = name.startswith(clause[len('resource.name.startsWith("'):-2])
        else:
            raise AssertionError(f"unexpected clause {clause!r}")
        if allowed:
            return True
    return False


def test_gcp_build_account_can_read_the_function_sources_bucket(default):
    engine, _ = default
    (grant,) = [g for g in build_grants(engine) if g.type == PROJECT_MEMBER and g.inputs["role"] == "roles/storage.objectViewer"]
    assert grant.inputs["project"] == GCP_PROJECT
    condition = grant.inputs["condition"]
    assert condition["title"] and len(condition["title"]) <= 100
    expression = condition["expression"]
    # The bucket (objects.list), its objects (objects.get), and the customer-key variant.
    for name in (SOURCES_BUCKET, f"{SOURCES_BUCKET}/objects/orders-consumer-x/function-source.zip", f"{SOURCES_BUCKET}-5d41402a/objects/f.zip"):
        assert _condition_allows(expression, name), name
    # Nothing else in the project: other buckets, another region (europe-west10), the uploads bucket.
    for name in (
        f"projects/_/buckets/{engine.one(BUCKET).outputs['name']}/objects/orders/x.zip",
        f"projects/_/buckets/gcf-v2-sources-{GCP_PROJECT_NUMBER}-{GCP_REGION}0/objects/f.zip",
        f"projects/_/buckets/gcf-v2-uploads-{GCP_PROJECT_NUMBER}-{GCP_REGION}.cloudfunctions.appspot.com/objects/f.zip",
        f"projects/_/buckets/gcf-v2-sources-1{GCP_PROJECT_NUMBER}-{GCP_REGION}",
    ):
        assert not _condition_allows(expression, name), name


def test_gcp_function_waits_for_every_build_grant_and_their_propagation(default):
    engine, _ = default
    function = engine.one(FUNCTION)
    grants = build_grants(engine)
    assert len(grants) == 4 and all(grant.urn in function.dependencies for grant in grants)
    wait = engine.one(WAIT, "-images-build-propagation")
    assert wait.urn in function.dependencies
    assert {grant.urn for grant in grants} <= set(wait.dependencies)
    assert wait.inputs["seconds"] == 120  # IAM: changes "typically" take effect within 2 minutes
    if not engine.preview:
        assert sorted(wait.inputs["grants"]) == sorted(grant.id for grant in grants)


def test_gcp_push_subscription_waits_for_its_grants_to_propagate(default):
    engine, _ = default
    subscription = main_subscription(engine)
    wait = engine.one(WAIT, "orders-push-propagation")
    grants = [engine.one(RUN_MEMBER), engine.one(ACCOUNT_MEMBER), *[m for m in engine.all(TOPIC_MEMBER) if m.inputs["member"] == SERVICE_AGENT]]
    assert wait.urn in subscription.dependencies
    assert {grant.urn for grant in grants} <= set(wait.dependencies)


def test_gcp_service_agents_are_created_before_they_are_granted(engine, base_spec):
    subnet = f"projects/{GCP_PROJECT}/regions/{GCP_REGION}/subnetworks/functions"
    network = {"network": f"projects/{GCP_PROJECT}/global/networks/core", "subnetwork": subnet}
    build(engine, base_spec, encryption_keys={"gcp": KEY}, consumer={"network": {"gcp": network}})
    identities = {r.inputs["service"]: r for r in engine.all(IDENTITY)}
    assert sorted(identities) == ["artifactregistry.googleapis.com", "cloudfunctions.googleapis.com", "pubsub.googleapis.com", "run.googleapis.com"]
    assert all(r.inputs["project"] == GCP_PROJECT and r.parent == engine.one("cloudqueue:index:GcpShared").urn for r in identities.values())
    agent_grants = [r for r in engine.all() if r.type in IAM_TYPES and "@gcp-sa-" in r.inputs["member"] or r.type in IAM_TYPES and "-robot" in r.inputs["member"]]
    assert len(agent_grants) == 3 + 4 + 1  # Pub/Sub: forward, subscribe, token; the key: 4 agents; the subnet
    for grant in agent_grants:
        (identity,) = [r for r in identities.values() if r.outputs["member"] == grant.inputs["member"]]
        # The member is the agent resource's own output, so the grant waits for the agent to exist.
        assert identity.urn in grant.dependencies, grant.name
    # The Cloud Storage agent comes from its lookup, which creates it (no ServiceIdentity for storage).
    storage = engine.one(KEY_MEMBER, "-storage")
    assert storage.inputs["member"] == STORAGE_AGENT and STORAGE_LOOKUP in engine.mocks.invokes


def test_gcp_service_agents_and_the_storage_lookup_happen_once_per_stack(engine, base_spec):
    engine.run(lambda: [GcpQueue(f"q{i}", single_cloud_args(base_spec, encryption_keys={"gcp": KEY})) for i in range(3)])
    assert sorted(r.inputs["service"] for r in engine.all(IDENTITY)) == sorted(
        ["artifactregistry.googleapis.com", "cloudfunctions.googleapis.com", "pubsub.googleapis.com", "run.googleapis.com"]
    )
    assert sorted(engine.mocks.invokes) == sorted([*LOOKUPS, STORAGE_LOOKUP])


def test_gcp_without_a_key_only_the_pubsub_agent_is_created_and_storage_is_not_looked_up(default):
    engine, _ = default
    (identity,) = engine.all(IDENTITY)
    assert identity.inputs["service"] == "pubsub.googleapis.com"
    assert STORAGE_LOOKUP not in engine.mocks.invokes


def test_gcp_agent_grant_falls_back_to_the_documented_address_when_the_identity_has_no_email(engine, base_spec, monkeypatch):
    from components.tools import mocks

    # generateServiceIdentity "may not return the service identity's details" (the provider's own note).
    def without_email(args):
        resource_id, outputs = original(args)
        return resource_id, {key: value for key, value in outputs.items() if key not in ("email", "member")}

    original = mocks.PROVIDER_OUTPUTS[IDENTITY]
    monkeypatch.setitem(mocks.PROVIDER_OUTPUTS, IDENTITY, without_email)
    build(engine, base_spec)
    identity = engine.one(IDENTITY)
    grant = engine.one(SUBSCRIPTION_MEMBER)
    assert identity.urn in grant.dependencies
    if not engine.preview:  # a preview shows the member as unknown until the identity answers
        assert grant.inputs["member"] == SERVICE_AGENT


def test_gcp_keyed_topics_and_repository_wait_for_the_key_grants_to_propagate(engine, base_spec):
    build(engine, base_spec, encryption_keys={"gcp": KEY})
    wait = engine.one(WAIT, "-key-b0795b42-propagation")
    assert {g.urn for g in engine.all(KEY_MEMBER)} <= set(wait.dependencies)
    keyed_repository = next(r for r in engine.all(REPOSITORY) if r.inputs.get("kmsKeyName") == KEY)
    for user in [*engine.all(TOPIC), keyed_repository, engine.one(FUNCTION)]:
        assert wait.urn in user.dependencies, user.name


def test_producers_may_publish_to_this_topic_only(engine, base_spec):
    producer = f"serviceAccount:api@{GCP_PROJECT}.iam.gserviceaccount.com"
    build(engine, base_spec, producers={"gcp": [producer]})
    (grant,) = [m for m in engine.all(TOPIC_MEMBER) if m.inputs["member"] == producer]
    assert grant.inputs == {"topic": engine.one(TOPIC, "-topic").id, "role": "roles/pubsub.publisher", "member": producer}


def test_no_binding_grants_anything_to_the_public(engine, base_spec):
    build(engine, base_spec, producers={"gcp": [f"serviceAccount:api@{GCP_PROJECT}.iam.gserviceaccount.com"]}, encryption_keys={"gcp": KEY})
    members = [r.inputs["member"] for r in engine.all() if r.type in IAM_TYPES]
    # build: logs, source, function sources, images (the keyed repository); forward, token creator,
    # invoker, subscriber, producer, trace writer; the key: Pub/Sub agent and 4 function agents.
    assert len(members) == 15
    assert not [m for m in members if m in ("allUsers", "allAuthenticatedUsers")]


def test_customer_key_encrypts_both_topics_and_the_service_agent_may_use_it(engine, base_spec):
    build(engine, base_spec, encryption_keys={"gcp": KEY})
    grant = engine.one(KEY_MEMBER, "-b0795b42")
    assert grant.inputs == {"cryptoKeyId": KEY, "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter", "member": SERVICE_AGENT}
    for topic in engine.all(TOPIC):
        assert topic.inputs["kmsKeyName"] == KEY
        assert grant.urn in topic.dependencies


def test_customer_key_encrypts_the_function_and_its_image_repository_after_the_agents_may_use_it(engine, base_spec):
    build(engine, base_spec, encryption_keys={"gcp": KEY})
    grants = [g for g in engine.all(KEY_MEMBER) if g.inputs["member"] != SERVICE_AGENT]
    assert {g.inputs["member"] for g in grants} == FUNCTION_AGENTS
    assert all(g.inputs["cryptoKeyId"] == KEY and g.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter" for g in grants)
    function = engine.one(FUNCTION)
    keyed = next(r for r in engine.all(REPOSITORY) if r.inputs.get("kmsKeyName") == KEY)
    assert function.inputs["kmsKeyName"] == KEY
    assert function.inputs["buildConfig"]["dockerRepository"] == keyed.id  # Cloud Functions requires the same key there
    for grant in grants:
        assert grant.urn in function.dependencies and grant.urn in keyed.dependencies


def test_queues_sharing_a_key_share_one_key_grant(engine, base_spec):
    engine.run(lambda: [GcpQueue(f"q{i}", single_cloud_args(base_spec, encryption_keys={"gcp": KEY})) for i in range(3)])
    assert len(engine.all(KEY_MEMBER)) == 5  # the Pub/Sub agent and the four function agents, once
    assert len([r for r in engine.all(REPOSITORY) if r.inputs.get("kmsKeyName") == KEY]) == 1


def test_without_a_key_topics_use_google_managed_encryption(default):
    engine, _ = default
    assert not [t for t in engine.all(TOPIC) if t.inputs.get("kmsKeyName")]
    assert not engine.all("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")


def test_labels_are_normalised_from_tags(engine, base_spec):
    build(engine, base_spec, tags={"Team": "Payments", "cost center": "X" * 70})
    expected = {"team": "payments", "cost_center": "x" * 63, "cloudqueue_queue": "orders"}
    for resource in engine.all(TOPIC) + engine.all(SUBSCRIPTION) + engine.all(FUNCTION):
        assert resource.inputs["labels"] == expected, resource.name


LOOKUPS = ["gcp:organizations/getClientConfig:getClientConfig", "gcp:organizations/getProject:getProject"]


def test_five_queues_share_one_source_bucket_and_builder_and_look_the_project_up_once(engine, base_spec):
    engine.run(lambda: [GcpQueue(f"q{i}", single_cloud_args(base_spec)) for i in range(5)])
    assert len(engine.all(BUCKET)) == 1 and len(engine.all(ACCOUNT)) == 1 + 5 * 2
    assert len(engine.all(FUNCTION)) == 5
    assert sorted(engine.mocks.invokes) == LOOKUPS


def test_project_lookups_run_once_for_a_single_queue(default):
    engine, _ = default
    assert sorted(engine.mocks.invokes) == LOOKUPS


def test_protect_covers_topics_and_subscriptions_only(engine, base_spec):
    build(engine, base_spec, opts=pulumi.ResourceOptions(protect=True))
    protected = sorted(r.type for r in engine.all() if r.custom and r.protect)
    assert protected == [SUBSCRIPTION, SUBSCRIPTION, TOPIC, TOPIC]


def test_without_protect_nothing_is_protected(default):
    engine, _ = default
    assert not [r.name for r in engine.all() if r.protect]


def test_every_child_is_parented_to_its_component(engine, base_spec):
    build(engine, base_spec, encryption_keys={"gcp": KEY}, producers={"gcp": [f"serviceAccount:api@{GCP_PROJECT}.iam.gserviceaccount.com"]})
    component, shared = engine.one("cloudqueue:index:GcpQueue"), engine.one("cloudqueue:index:GcpShared")
    shared_types = (BUCKET, BUCKET_MEMBER, KEY_MEMBER, REPOSITORY, REPOSITORY_MEMBER, SUBNET_MEMBER, IDENTITY)
    for child in engine.all():
        if child in (component, shared):
            continue
        owner = shared if child.type in shared_types or child.name.startswith("cloudqueue-gcp-") else component
        assert child.parent == owner.urn, child.name
        assert child.name.startswith(f"{owner.name}-"), child.name


def test_outputs_are_the_ones_the_brief_lists(default):
    engine, component = default
    assert engine.resolve(component.topic_id) == engine.one(TOPIC, "-topic").id
    assert engine.resolve(component.subscription_id) == main_subscription(engine).id
    assert engine.resolve(component.dead_letter_topic_id) == engine.one(TOPIC, "-dead-letter").id
    assert engine.resolve(component.dead_letter_subscription_id) == engine.one(SUBSCRIPTION, "-dead-letter-subscription").id
    assert engine.resolve(component.function_name) == engine.one(FUNCTION).outputs["name"]


def test_invalid_spec_registers_no_resource(engine, base_spec):
    with pytest.raises(SpecError, match=r"max_delivery_attempts: 3 is below Google Cloud Pub/Sub's minimum of 5"):
        build(engine, base_spec, max_delivery_attempts=3)
    assert engine.all() == []


def test_longest_allowed_name_fits_the_cloud_run_service_name_limit(engine, base_spec):
    longest = "n" * NAME_LIMITS["gcp"].max_queue_name
    engine.run(lambda: Queue(longest, {**base_spec, "clouds": ["gcp"]}))
    assert len(engine.one(FUNCTION).outputs["name"]) == 49
    for service_account in engine.all(ACCOUNT):
        assert 6 <= len(service_account.inputs["accountId"]) <= 30


def test_tracing_correlates_failure_logs_with_cloud_trace_and_lets_the_runtime_account_write_spans(default):
    engine, _ = default
    environment = engine.one(FUNCTION).inputs["serviceConfig"]["environmentVariables"]
    assert environment["CLOUDQUEUE_TRACE_PROJECT"] == GCP_PROJECT and environment["CLOUDQUEUE_QUEUE"] == "orders"
    writer = engine.one(PROJECT_MEMBER, "-trace-writer")
    assert writer.inputs == {"project": GCP_PROJECT, "role": "roles/cloudtrace.agent", "member": account(engine, "run").outputs["member"]}


def test_tracing_off_drops_the_correlation_and_the_trace_grant(engine, base_spec):
    build(engine, base_spec, consumer={"tracing": False})
    assert "CLOUDQUEUE_TRACE_PROJECT" not in engine.one(FUNCTION).inputs["serviceConfig"]["environmentVariables"]
    assert not [r for r in engine.all(PROJECT_MEMBER) if r.inputs["role"] == "roles/cloudtrace.agent"]


def test_network_gives_the_function_direct_vpc_egress_and_cloud_run_use_of_that_subnet_only(engine, base_spec):
    subnet = f"projects/{GCP_PROJECT}/regions/{GCP_REGION}/subnetworks/functions"
    network = {"network": f"projects/{GCP_PROJECT}/global/networks/core", "subnetwork": subnet, "egress": "all-traffic"}
    build(engine, base_spec, consumer={"network": {"gcp": network}})
    service = engine.one(FUNCTION).inputs["serviceConfig"]
    assert service["directVpcNetworkInterfaces"] == [{"network": network["network"], "subnetwork": subnet}]
    assert service["directVpcEgress"] == "VPC_EGRESS_ALL_TRAFFIC"
    grant = engine.one(SUBNET_MEMBER)
    assert grant.inputs == {
        "subnetwork": subnet, "role": "roles/compute.networkUser", "member": f"serviceAccount:service-{GCP_PROJECT_NUMBER}@serverless-robot-prod.iam.gserviceaccount.com"
    }
    assert grant.urn in engine.one(FUNCTION).dependencies  # allowed before the function attaches to the subnet
    wait = engine.one(WAIT, f"{grant.name}-propagation")
    assert grant.urn in wait.dependencies and wait.urn in engine.one(FUNCTION).dependencies  # and in effect


def test_queues_on_one_subnet_share_one_subnet_grant(engine, base_spec):
    network = {"gcp": {"network": f"projects/{GCP_PROJECT}/global/networks/core", "subnetwork": f"projects/{GCP_PROJECT}/regions/{GCP_REGION}/subnetworks/fn"}}
    engine.run(lambda: [GcpQueue(f"q{i}", single_cloud_args(base_spec, consumer={"network": network})) for i in range(3)])
    # IAM members are not reference-counted: one per queue would revoke the others' when a queue goes.
    (grant,) = engine.all(SUBNET_MEMBER)
    assert grant.parent == engine.one("cloudqueue:index:GcpShared").urn


def test_without_network_there_is_no_vpc_egress_and_no_subnet_grant(default):
    engine, _ = default
    assert "directVpcNetworkInterfaces" not in engine.one(FUNCTION).inputs["serviceConfig"]
    assert engine.all(SUBNET_MEMBER) == []


def test_the_source_bucket_is_versioned_and_drops_old_versions_after_30_days(default):
    engine, _ = default
    bucket = engine.one(BUCKET).inputs
    assert bucket["versioning"] == {"enabled": True}  # CKV_GCP_78
    assert bucket["lifecycleRules"] == [{"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 30, "withState": "ARCHIVED"}}]
