"""GcpQueue: Pub/Sub with a dead-letter policy that works, and a Cloud Functions (2nd gen) consumer.

Three things that most setups get wrong, and this component does not:
- The Cloud Functions event trigger makes an Eventarc-managed subscription that cannot carry a
  dead-letter policy. The main subscription here is our own push subscription to the
  function's URL, authenticated with an OIDC token from a dedicated invoker account.
- Pub/Sub forwards to a dead-letter topic as its service agent,
  `service-<project number>@gcp-sa-pubsub.iam.gserviceaccount.com`, which needs publisher on the
  dead-letter topic and subscriber on the source subscription; without them nothing is forwarded.
- A topic keeps nothing without a subscription, so the dead-letter topic gets a pull
  subscription that holds dead-lettered messages for inspection and replay.
"""

import hashlib
from typing import Any, Optional, TypedDict

import pulumi
import pulumi_gcp as gcp

from . import artifact, program
from .spec import FUNCTIONS_FRAMEWORK, GCP_EGRESS, CloudQueueArgs, QueueSpec, gcp_labels, validate
from cloudqueue_runtime.gcp import TRACE_PROJECT_ENV

ENTRY_POINT = "consume"
# Retry with exponential backoff between Pub/Sub's limits (10 s .. 600 s), so a failing
# consumer is not hammered while its messages work towards the dead-letter topic.
RETRY_MINIMUM_BACKOFF = "10s"
RETRY_MAXIMUM_BACKOFF = "600s"
# Dead-lettered messages are inspected by people: give them a generous ack deadline.
DEAD_LETTER_ACK_DEADLINE_SECONDS = 600
# Noncurrent source objects (a deleted or replaced package) are kept this long: enough to
# roll back or investigate a deploy, short enough that old code does not pile up.
NONCURRENT_SOURCE_DAYS = 30
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
# Service agents that must use a function's customer-managed key (Cloud Run functions, "Protect
# your data with CMEK"): the functions agent, Artifact Registry for the image, Cloud Storage for
# the uploaded source and Cloud Run for the running instances. Role suffix -> agent domain.
FUNCTION_KEY_AGENTS = {
    "functions": "gcf-admin-robot.iam.gserviceaccount.com",
    "registry": "gcp-sa-artifactregistry.iam.gserviceaccount.com",
    "storage": "gs-project-accounts.iam.gserviceaccount.com",
    "run": "serverless-robot-prod.iam.gserviceaccount.com",
}


class GcpSharedArgs(TypedDict, total=False):
    """Args of GcpShared: what every queue of a stack shares on Google Cloud."""

    tags: dict[str, str]
    """Tags, put on the source bucket as labels."""


class GcpQueueArgs(CloudQueueArgs, total=False):
    """Args of GcpQueue: the cloudqueue spec without `clouds`."""


class _Lookups:
    """Project facts read once per program and provider, never once per queue."""

    def __init__(self, provider: Optional[pulumi.ProviderResource]):
        opts = pulumi.InvokeOutputOptions(provider=provider)
        client = gcp.organizations.get_client_config_output(opts=opts)
        self.project = client.project
        self.region = client.region
        self.number = gcp.organizations.get_project_output(project_id=client.project, opts=opts).number
        self.pubsub_service_agent = self.service_agent("gcp-sa-pubsub.iam.gserviceaccount.com")

    def service_agent(self, domain: str) -> pulumi.Output[str]:
        """The IAM member of a Google-managed service agent of this project."""
        return pulumi.Output.concat("serviceAccount:service-", self.number, "@", domain)


def _program_lookups(provider: Optional[pulumi.ProviderResource]) -> _Lookups:
    return program.once(("gcp-lookups", program.provider_key(provider)), lambda: _Lookups(provider))


def _account_id(name: str, role: str) -> str:
    """A service account id (6..30 of [a-z0-9-], starting with a letter), unique per project, stack and queue."""
    digest = hashlib.sha256(f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}/{role}".encode()).hexdigest()[:6]
    stem = "".join(c if c.isalnum() else "-" for c in name.lower())[:16].strip("-") or "cq"
    if not stem[0].isalpha():
        stem = "q" + stem[:15]
    return f"{stem}-{role}-{digest}"


def _service_account(name: str, role: str, description: str, opts: pulumi.ResourceOptions) -> gcp.serviceaccount.Account:
    return gcp.serviceaccount.Account(f"{name}-{role}", account_id=_account_id(name, role), display_name=description[:100], opts=opts)


class GcpShared(pulumi.ComponentResource):
    """The source bucket and build identity that a stack's Cloud Functions share."""

    bucket_name: pulumi.Output[str]
    """Name of the bucket holding function sources."""
    builder_email: pulumi.Output[str]
    """Email of the service account Cloud Build builds the functions as."""

    def __init__(self, name: str, args: Optional[GcpSharedArgs] = None, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("cloudqueue:index:GcpShared", name, {}, opts)
        # Sources and the build identity are recreated from code: never protected.
        child = pulumi.ResourceOptions(parent=self, protect=False)
        lookups = _program_lookups(self.get_provider("gcp::"))
        self._lookups = lookups
        self._labels = gcp_labels({**(args or {}).get("tags", {}), "cloudqueue:shared": "true"})
        self._key_grants: "dict[str, list[gcp.kms.CryptoKeyIAMMember]]" = {}
        # Quoted: evaluating them would import those (large) SDK modules for every program.
        self._repositories: "dict[Optional[str], gcp.artifactregistry.Repository]" = {}
        self._subnet_grants: "dict[Any, gcp.compute.SubnetworkIAMMember]" = {}
        self.bucket = gcp.storage.Bucket(
            f"{name}-source",
            location=lookups.region,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=True,  # only code packages, rebuilt on every deploy
            # Versioned (CKV_GCP_78): a deleted package stays recoverable for a while.
            versioning={"enabled": True},
            lifecycle_rules=[{"action": {"type": "Delete"}, "condition": {"days_since_noncurrent_time": NONCURRENT_SOURCE_DAYS, "with_state": "ARCHIVED"}}],
            labels=self._labels,
            opts=child,
        )
        # Builds run as a dedicated account with what a function build needs and no more:
        # logs, read on this bucket, write on cloudqueue's image repositories. The broader
        # Cloud Build builder role could act as other accounts (CKV_GCP_49).
        self.builder = _service_account(name, "build", "cloudqueue: builds Cloud Functions", child)
        gcp.projects.IAMMember(f"{name}-build-logs", project=lookups.project, role="roles/logging.logWriter", member=self.builder.member, opts=child)
        gcp.storage.BucketIAMMember(f"{name}-build-source", bucket=self.bucket.name, role="roles/storage.objectViewer", member=self.builder.member, opts=child)
        self.bucket_name = self.bucket.name
        self.builder_email = self.builder.email
        self.register_outputs({"bucket_name": self.bucket_name, "builder_email": self.builder_email})

    def key_grant(self, key_name: str) -> "list[gcp.kms.CryptoKeyIAMMember]":
        """Let the service agents that encrypt a queue's data use `key_name`, once per key however many queues use it.

        The Pub/Sub agent (topics) and the agents of a keyed function (FUNCTION_KEY_AGENTS).
        IAM members are not reference-counted: two identical grants would revoke each other
        when one queue is removed, so the grants belong to the stack, not to a queue.
        """
        if key_name not in self._key_grants:
            stem = f"{self._name}-key-{hashlib.sha256(key_name.encode()).hexdigest()[:8]}"
            opts = pulumi.ResourceOptions(parent=self, protect=False)
            agents = {"": self._lookups.pubsub_service_agent, **{f"-{role}": self._lookups.service_agent(domain) for role, domain in FUNCTION_KEY_AGENTS.items()}}
            self._key_grants[key_name] = [
                gcp.kms.CryptoKeyIAMMember(f"{stem}{suffix}", crypto_key_id=key_name, role=ENCRYPTER_DECRYPTER, member=member, opts=opts)
                for suffix, member in agents.items()
            ]
        return self._key_grants[key_name]

    def subnet_grant(self, subnetwork: pulumi.Input[str]) -> "gcp.compute.SubnetworkIAMMember":
        """Let Cloud Run's service agent use `subnetwork` for Direct VPC egress, once per subnet however many queues use it.

        A Shared VPC subnet in another project requires the grant; it is scoped to that one subnet,
        and belongs to the stack for the same reason as the key grants.
        """
        key = subnetwork if isinstance(subnetwork, str) else id(subnetwork)
        if key not in self._subnet_grants:
            self._subnet_grants[key] = gcp.compute.SubnetworkIAMMember(
                f"{self._name}-network-{hashlib.sha256(str(key).encode()).hexdigest()[:8]}",
                subnetwork=subnetwork,
                role="roles/compute.networkUser",
                member=self._lookups.service_agent(FUNCTION_KEY_AGENTS["run"]),
                opts=pulumi.ResourceOptions(parent=self, protect=False),
            )
        return self._subnet_grants[key]

    def repository(self, key_name: Optional[str]) -> "gcp.artifactregistry.Repository":
        """The image repository for functions under `key_name` (None: Google-managed encryption), one per key.

        A keyed function's image must sit in a repository encrypted with the same key.
        """
        if key_name not in self._repositories:
            digest = hashlib.sha256(f"{pulumi.get_project()}/{pulumi.get_stack()}/{key_name or ''}".encode()).hexdigest()[:10]
            suffix = f"-{digest[:8]}" if key_name else ""
            opts = pulumi.ResourceOptions(parent=self, protect=False, depends_on=self.key_grant(key_name) if key_name else None)
            repository = gcp.artifactregistry.Repository(
                f"{self._name}-images{suffix}",
                location=self._lookups.region,
                repository_id=f"cloudqueue-{digest}",
                format="DOCKER",
                kms_key_name=key_name,
                description="cloudqueue: Cloud Functions images",
                labels=self._labels,
                opts=opts,
            )
            gcp.artifactregistry.RepositoryIamMember(
                f"{self._name}-images{suffix}-build",
                project=repository.project,
                location=repository.location,
                repository=repository.name,
                role="roles/artifactregistry.writer",
                member=self.builder.member,
                opts=pulumi.ResourceOptions(parent=self, protect=False),
            )
            self._repositories[key_name] = repository
        return self._repositories[key_name]

    @staticmethod
    def for_program(provider: Optional[pulumi.ProviderResource] = None) -> "GcpShared":
        """The stack's shared pieces, created on first use (top level, so its URN never depends on which queue came first)."""
        return program.once(("gcp-shared", program.provider_key(provider)), lambda: GcpShared("cloudqueue-gcp", {}, pulumi.ResourceOptions(provider=provider)))


def main_py() -> str:
    """The HTTP entry point the Functions Framework serves: decode the push, call the handler."""
    return f'''"""Generated by cloudqueue: the Pub/Sub push entry point; regenerated on every deploy, do not edit."""

import functions_framework

from cloudqueue_runtime.gcp import push


@functions_framework.http
def {ENTRY_POINT}(request):
    return push(request)
'''


def generated_files(spec: QueueSpec) -> dict[str, str]:
    """The files cloudqueue adds to the Google Cloud source next to the user's code."""
    # Cloud Build installs these from the source; the entry point needs the Functions Framework.
    return {"main.py": main_py(), "requirements.txt": artifact.merged_requirements(spec.consumer.code_path, "functions-framework", FUNCTIONS_FRAMEWORK)}


class GcpQueue(pulumi.ComponentResource):
    """A Pub/Sub topic and push subscription with a working dead-letter policy and a Cloud Function consumer."""

    topic_id: pulumi.Output[str]
    """Id of the topic producers publish to (projects/<p>/topics/<name>)."""
    subscription_id: pulumi.Output[str]
    """Id of the push subscription that feeds the consumer."""
    dead_letter_topic_id: pulumi.Output[str]
    """Id of the dead-letter topic."""
    dead_letter_subscription_id: pulumi.Output[str]
    """Id of the pull subscription holding dead-lettered messages."""
    function_name: pulumi.Output[str]
    """Name of the consuming Cloud Function."""

    def __init__(self, name: str, args: GcpQueueArgs, opts: Optional[pulumi.ResourceOptions] = None):
        spec = args if isinstance(args, QueueSpec) else validate(name, args, clouds=("gcp",))
        super().__init__("cloudqueue:index:GcpQueue", name, {}, opts)

        provider = self.get_provider("gcp::")
        lookups = _program_lookups(provider)
        shared = GcpShared.for_program(provider)
        # Topics and subscriptions hold the messages: they inherit `protect`.
        data = pulumi.ResourceOptions(parent=self)
        stateless = pulumi.ResourceOptions(parent=self, protect=False)
        labels = gcp_labels({**spec.tags, "cloudqueue:queue": spec.name})
        key_name = spec.encryption_keys.get("gcp")
        # Topics encrypt with the key as the Pub/Sub service agent, which must be allowed first.
        keyed = pulumi.ResourceOptions(depends_on=shared.key_grant(key_name)) if key_name else pulumi.ResourceOptions()

        topic = gcp.pubsub.Topic(f"{name}-topic", kms_key_name=key_name, labels=labels, opts=pulumi.ResourceOptions.merge(data, keyed))
        dead_letter = gcp.pubsub.Topic(f"{name}-dead-letter", kms_key_name=key_name, labels=labels, opts=pulumi.ResourceOptions.merge(data, keyed))
        dead_letter_subscription = gcp.pubsub.Subscription(
            f"{name}-dead-letter-subscription",
            topic=dead_letter.id,
            message_retention_duration=f"{spec.dead_letter_retention_seconds}s",
            ack_deadline_seconds=DEAD_LETTER_ACK_DEADLINE_SECONDS,
            expiration_policy={"ttl": ""},  # never expires, however long nobody reads it
            labels=labels,
            opts=data,
        )
        agent = lookups.pubsub_service_agent
        forward = gcp.pubsub.TopicIAMMember(
            f"{name}-dead-letter-publisher", topic=dead_letter.id, role="roles/pubsub.publisher", member=agent, opts=stateless
        )

        runtime = _service_account(name, "run", f"cloudqueue: runs the {spec.name} consumer", stateless)
        invoker = _service_account(name, "push", f"cloudqueue: pushes {spec.name} messages to its consumer", stateless)
        # The service agent mints the push requests' OIDC tokens as the invoker.
        token_creator = gcp.serviceaccount.IAMMember(
            f"{name}-push-token-creator", service_account_id=invoker.name, role="roles/iam.serviceAccountTokenCreator", member=agent, opts=stateless
        )

        package = artifact.build(spec.consumer.code_path, generated=generated_files(spec))
        # Content-addressed object name: a code change is a new object, which redeploys the function.
        source = gcp.storage.BucketObject(
            f"{name}-source", bucket=shared.bucket.name, name=f"{name}/{package.sha256_hex}.zip", source=pulumi.FileAsset(str(package.path)), opts=stateless
        )
        consumer = spec.consumer
        environment = spec.function_environment()
        if consumer.tracing:
            # Failure logs carry the request's trace (Cloud Logging's trace field), so they show
            # under that request in Cloud Trace; the runtime account may add its own spans.
            environment[TRACE_PROJECT_ENV] = lookups.project
            gcp.projects.IAMMember(f"{name}-trace-writer", project=lookups.project, role="roles/cloudtrace.agent", member=runtime.member, opts=stateless)
        network = consumer.network.get("gcp")
        vpc: dict[str, Any] = {}
        function_needs = keyed
        if network:
            vpc = {
                "direct_vpc_network_interfaces": [{"network": network["network"], "subnetwork": network["subnetwork"]}],
                "direct_vpc_egress": GCP_EGRESS[network.get("egress", "private-ranges-only")],
            }
            # Cloud Run's agent attaches the instances to the subnet; it must be allowed first.
            function_needs = pulumi.ResourceOptions.merge(keyed, pulumi.ResourceOptions(depends_on=[shared.subnet_grant(network["subnetwork"])]))
        repository = shared.repository(key_name)
        function = gcp.cloudfunctionsv2.Function(
            f"{name}-consumer",
            location=lookups.region,
            # The queue's key also encrypts the function's source, image and instances.
            kms_key_name=key_name,
            build_config={
                "runtime": consumer.runtime.replace(".", ""),  # python3.12 -> python312
                "entry_point": ENTRY_POINT,
                "source": {"storage_source": {"bucket": source.bucket, "object": source.name}},
                "service_account": shared.builder.name,
                "docker_repository": repository.id,
            },
            service_config={
                "available_memory": f"{consumer.memory_mb}Mi",
                "timeout_seconds": consumer.timeout_seconds,
                # One request per instance, so max instances bounds concurrent handler calls.
                "max_instance_count": consumer.max_concurrency,
                "max_instance_request_concurrency": 1,
                # Pub/Sub push from the same project counts as internal traffic (CKV_GCP_124).
                "ingress_settings": "ALLOW_INTERNAL_ONLY",
                "all_traffic_on_latest_revision": True,
                "service_account_email": runtime.email,
                "environment_variables": environment,
                **vpc,
            },
            labels=labels,
            opts=pulumi.ResourceOptions.merge(stateless, function_needs),
        )
        invoke = gcp.cloudrunv2.ServiceIamMember(
            f"{name}-push-invoker",
            project=lookups.project,
            location=lookups.region,
            name=function.name,  # a 2nd gen function's Cloud Run service has the function's name
            role="roles/run.invoker",
            member=invoker.member,
            opts=stateless,
        )
        uri = function.service_config.apply(lambda config: config.uri if config else None)
        subscription = gcp.pubsub.Subscription(
            f"{name}-subscription",
            topic=topic.id,
            ack_deadline_seconds=spec.visibility_timeout("gcp"),
            message_retention_duration=f"{spec.message_retention_seconds}s",
            retry_policy={"minimum_backoff": RETRY_MINIMUM_BACKOFF, "maximum_backoff": RETRY_MAXIMUM_BACKOFF},
            dead_letter_policy={"dead_letter_topic": dead_letter.id, "max_delivery_attempts": spec.max_delivery_attempts},
            enable_message_ordering=spec.fifo,
            expiration_policy={"ttl": ""},  # never expires, even when idle for 31 days
            push_config={"push_endpoint": uri, "oidc_token": {"service_account_email": invoker.email, "audience": uri}},
            labels=labels,
            # Every push is authorised, and every dead-letter forward allowed, from the first message.
            opts=pulumi.ResourceOptions.merge(data, pulumi.ResourceOptions(depends_on=[invoke, token_creator, forward])),
        )
        gcp.pubsub.SubscriptionIAMMember(
            f"{name}-dead-letter-subscriber", subscription=subscription.id, role="roles/pubsub.subscriber", member=agent, opts=stateless
        )
        for index, producer in enumerate(spec.producers.get("gcp", ())):
            gcp.pubsub.TopicIAMMember(f"{name}-producer-{index}", topic=topic.id, role="roles/pubsub.publisher", member=producer, opts=stateless)

        self.topic_id = topic.id
        self.subscription_id = subscription.id
        self.dead_letter_topic_id = dead_letter.id
        self.dead_letter_subscription_id = dead_letter_subscription.id
        self.function_name = function.name
        self.register_outputs(
            {
                "topic_id": self.topic_id,
                "subscription_id": self.subscription_id,
                "dead_letter_topic_id": self.dead_letter_topic_id,
                "dead_letter_subscription_id": self.dead_letter_subscription_id,
                "function_name": self.function_name,
            }
        )
