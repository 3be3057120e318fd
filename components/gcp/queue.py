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

The constructor validates, then runs its steps: `_queues` (topics, the dead-letter subscription and
the agent's forward grant), `_consumer` (identities, source, function and the push subscription
that triggers it), `_access` (the agent's subscriber grant, the producers' publisher grants and the
operators' grants), `_alarms` (the alert policy on the dead-letter subscription and the e-mail
notification channels) and `_outputs`.
"""

import hashlib
from dataclasses import dataclass
from typing import Any, NamedTuple, Optional

import pulumi
import pulumi_gcp as gcp

from .. import artifact
from ..spec import GCP_EGRESS, CloudQueueArgs, QueueSpec, validate
from .function_source import ENTRY_POINT, generated_files
from .propagation import GrantPropagation
from .shared import GcpShared, Lookups, labels, program_lookups, service_account
from cloudqueue_runtime.gcp import TRACE_PROJECT_ENV

# Retry with exponential backoff between Pub/Sub's limits (10 s .. 600 s), so a failing
# consumer is not hammered while its messages work towards the dead-letter topic.
RETRY_MINIMUM_BACKOFF = "10s"
RETRY_MAXIMUM_BACKOFF = "600s"
# Dead-lettered messages are inspected by people: give them a generous ack deadline.
DEAD_LETTER_ACK_DEADLINE_SECONDS = 600
# Pub/Sub samples subscription metrics every 60 s (Google Cloud metrics, pubsub); a condition's
# duration must be a whole number of minutes, and 0 fires on the first sample past the threshold.
ALERT_ALIGNMENT = "60s"
ALERT_DURATION = "0s"


GcpQueueArgs = CloudQueueArgs
"""Args of GcpQueue: the cloudqueue spec without `clouds`. CloudQueueArgs itself, not a subclass: the
schema analyzer reads field descriptions only from the class statement that declares them."""


@dataclass(frozen=True)
class _Context:
    """What every step of one GcpQueue reads."""

    name: str
    spec: QueueSpec
    labels: dict[str, Any]
    lookups: Lookups
    shared: GcpShared
    key_name: Optional[pulumi.Input[str]]
    """The queue's Cloud KMS key (a string, or an Output known only at deploy time); None: Google-managed keys."""
    keyed: pulumi.ResourceOptions
    """Waits for the key's grants to take effect (nothing without a key): for whatever the key encrypts."""
    data: pulumi.ResourceOptions
    """Options of topics and subscriptions: they hold the messages, so they inherit `protect`."""
    stateless: pulumi.ResourceOptions
    """Options of everything else, recreated from code."""


# Annotations naming pubsub or cloudfunctionsv2 are quoted: evaluating them would load those SDK
# modules for every program that only imports cloudqueue.


class _Queues(NamedTuple):
    """What `_queues` built that the later steps use."""

    topic: "gcp.pubsub.Topic"
    dead_letter: "gcp.pubsub.Topic"
    dead_letter_subscription: "gcp.pubsub.Subscription"
    agent: pulumi.Output[str]
    """The Pub/Sub service agent's member: it forwards to the dead-letter topic and signs the pushes."""
    forward: "gcp.pubsub.TopicIAMMember"


class _Identities(NamedTuple):
    """The consumer's service accounts, and the agent's leave to sign pushes as the invoker."""

    runtime: gcp.serviceaccount.Account
    invoker: gcp.serviceaccount.Account
    token_creator: gcp.serviceaccount.IAMMember


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
        # Validate before registering anything: a bad spec creates nothing. A QueueSpec comes
        # from Queue, which has already validated it against every targeted cloud.
        spec = args if isinstance(args, QueueSpec) else validate(name, args, clouds=("gcp",))
        super().__init__("cloudqueue:index:GcpQueue", name, {}, opts)
        ctx = self._context(name, spec)
        queues = self._queues(ctx)
        function, subscription = self._consumer(ctx, queues)
        self._access(ctx, queues, subscription)
        self._alarms(ctx, queues)
        self._outputs(queues, subscription, function)

    def _context(self, name: str, spec: QueueSpec) -> _Context:
        """What every step reads: the spec, labels, the key and its grants, the shared pieces and the children's options."""
        provider = self.get_provider("gcp::")
        lookups = program_lookups(provider)
        shared = GcpShared.for_program(provider)
        key_name = spec.encryption_keys.get("gcp")
        # Topics encrypt with the key as the Pub/Sub service agent, which must be allowed first.
        # `is not None`, not truthiness: a key may be an Output, which stands for a key all the same.
        keyed = pulumi.ResourceOptions(depends_on=shared.key_grant(key_name, name)) if key_name is not None else pulumi.ResourceOptions()
        return _Context(
            name=name,
            spec=spec,
            labels=labels({**spec.tags, "cloudqueue:queue": spec.name}),
            lookups=lookups,
            shared=shared,
            key_name=key_name,
            keyed=keyed,
            data=pulumi.ResourceOptions(parent=self),
            stateless=pulumi.ResourceOptions(parent=self, protect=False),
        )

    def _queues(self, ctx: _Context) -> _Queues:
        """The topic, the dead-letter topic and its pull subscription, and the agent's leave to forward there."""
        name, spec = ctx.name, ctx.spec
        keyed_data = pulumi.ResourceOptions.merge(ctx.data, ctx.keyed)
        topic = gcp.pubsub.Topic(f"{name}-topic", kms_key_name=ctx.key_name, labels=ctx.labels, opts=keyed_data)
        dead_letter = gcp.pubsub.Topic(f"{name}-dead-letter", kms_key_name=ctx.key_name, labels=ctx.labels, opts=keyed_data)
        dead_letter_subscription = gcp.pubsub.Subscription(
            f"{name}-dead-letter-subscription",
            topic=dead_letter.id,
            message_retention_duration=f"{spec.dead_letter_retention_seconds}s",
            ack_deadline_seconds=DEAD_LETTER_ACK_DEADLINE_SECONDS,
            expiration_policy={"ttl": ""},  # never expires, however long nobody reads it
            labels=ctx.labels,
            opts=ctx.data,
        )
        agent = ctx.shared.agent("pubsub")
        forward = gcp.pubsub.TopicIAMMember(
            f"{name}-dead-letter-publisher", topic=dead_letter.id, role="roles/pubsub.publisher", member=agent, opts=ctx.stateless
        )
        return _Queues(topic, dead_letter, dead_letter_subscription, agent, forward)

    def _consumer(self, ctx: _Context, queues: _Queues) -> "tuple[gcp.cloudfunctionsv2.Function, gcp.pubsub.Subscription]":
        """The consumer's identities, the function, and the push subscription that triggers it: (function, subscription)."""
        identities = self._identities(ctx, queues.agent)
        function = self._function(ctx, identities.runtime)
        subscription = self._trigger(ctx, queues, function, identities)
        return function, subscription

    def _identities(self, ctx: _Context, agent: pulumi.Output[str]) -> _Identities:
        """The account the function runs as, and the one Pub/Sub pushes as (the agent mints its tokens)."""
        name, spec = ctx.name, ctx.spec
        runtime = service_account(name, "run", f"cloudqueue: runs the {spec.name} consumer", ctx.stateless)
        invoker = service_account(name, "push", f"cloudqueue: pushes {spec.name} messages to its consumer", ctx.stateless)
        # The service agent mints the push requests' OIDC tokens as the invoker.
        token_creator = gcp.serviceaccount.IAMMember(
            f"{name}-push-token-creator", service_account_id=invoker.name, role="roles/iam.serviceAccountTokenCreator", member=agent, opts=ctx.stateless
        )
        return _Identities(runtime, invoker, token_creator)

    def _function(self, ctx: _Context, runtime: gcp.serviceaccount.Account) -> "gcp.cloudfunctionsv2.Function":
        """The source object and the Cloud Function, after every grant its build and its network need."""
        name, spec, shared, lookups = ctx.name, ctx.spec, ctx.shared, ctx.lookups
        package = artifact.build(spec.consumer.code_path, generated=generated_files(spec))
        # Content-addressed object name: a code change is a new object, which redeploys the function.
        source = gcp.storage.BucketObject(
            f"{name}-source", bucket=shared.bucket.name, name=f"{name}/{package.sha256_hex}.zip", source=pulumi.FileAsset(str(package.path)), opts=ctx.stateless
        )
        consumer = spec.consumer
        environment = spec.function_environment()
        if consumer.tracing:
            # Failure logs carry the request's trace (Cloud Logging's trace field), so they show
            # under that request in Cloud Trace; the runtime account may add its own spans.
            environment[TRACE_PROJECT_ENV] = lookups.project
            gcp.projects.IAMMember(f"{name}-trace-writer", project=lookups.project, role="roles/cloudtrace.agent", member=runtime.member, opts=ctx.stateless)
        network = consumer.network.get("gcp")
        vpc: dict[str, Any] = {}
        repository = shared.repository(ctx.key_name, name)
        # The build reads the source copy, logs and pushes the image as the build account: every
        # grant it needs, and the wait for them to take effect, come before the function.
        function_needs = pulumi.ResourceOptions.merge(ctx.keyed, pulumi.ResourceOptions(depends_on=shared.build_ready(ctx.key_name, name)))
        if network:
            vpc = {
                "direct_vpc_network_interfaces": [{"network": network["network"], "subnetwork": network["subnetwork"]}],
                "direct_vpc_egress": GCP_EGRESS[network.get("egress", "private-ranges-only")],
            }
            # Cloud Run's agent attaches the instances to the subnet; it must be allowed first.
            function_needs = pulumi.ResourceOptions.merge(function_needs, pulumi.ResourceOptions(depends_on=shared.subnet_grant(network["subnetwork"], name)))
        return gcp.cloudfunctionsv2.Function(
            f"{name}-consumer",
            location=lookups.region,
            # The queue's key also encrypts the function's source, image and instances.
            kms_key_name=ctx.key_name,
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
            labels=ctx.labels,
            opts=pulumi.ResourceOptions.merge(ctx.stateless, function_needs),
        )

    def _trigger(self, ctx: _Context, queues: _Queues, function: "gcp.cloudfunctionsv2.Function", identities: _Identities) -> "gcp.pubsub.Subscription":
        """The push subscription to the function's URL, with the dead-letter policy, once every push is authorised."""
        name, spec, lookups = ctx.name, ctx.spec, ctx.lookups
        invoke = gcp.cloudrunv2.ServiceIamMember(
            f"{name}-push-invoker",
            project=lookups.project,
            location=lookups.region,
            name=function.name,  # a 2nd gen function's Cloud Run service has the function's name
            role="roles/run.invoker",
            member=identities.invoker.member,
            opts=ctx.stateless,
        )
        grants = [invoke, identities.token_creator, queues.forward]
        push_ready = GrantPropagation(f"{name}-push-propagation", grants, opts=ctx.stateless)
        uri = function.service_config.apply(lambda config: config.uri if config else None)
        return gcp.pubsub.Subscription(
            f"{name}-subscription",
            topic=queues.topic.id,
            ack_deadline_seconds=spec.visibility_timeout("gcp"),
            message_retention_duration=f"{spec.message_retention_seconds}s",
            retry_policy={"minimum_backoff": RETRY_MINIMUM_BACKOFF, "maximum_backoff": RETRY_MAXIMUM_BACKOFF},
            dead_letter_policy={"dead_letter_topic": queues.dead_letter.id, "max_delivery_attempts": spec.max_delivery_attempts},
            enable_message_ordering=spec.fifo,
            expiration_policy={"ttl": ""},  # never expires, even when idle for 31 days
            push_config={"push_endpoint": uri, "oidc_token": {"service_account_email": identities.invoker.email, "audience": uri}},
            labels=ctx.labels,
            # Every push is authorised, and every dead-letter forward allowed, from the first message:
            # a push refused while the grants propagate still counts as a delivery attempt.
            opts=pulumi.ResourceOptions.merge(ctx.data, pulumi.ResourceOptions(depends_on=[*grants, push_ready])),
        )

    def _access(self, ctx: _Context, queues: _Queues, subscription: "gcp.pubsub.Subscription") -> None:
        """The agent's leave to take dead-lettered messages off the subscription, and each producer's to publish to the topic only."""
        name = ctx.name
        gcp.pubsub.SubscriptionIAMMember(
            f"{name}-dead-letter-subscriber", subscription=subscription.id, role="roles/pubsub.subscriber", member=queues.agent, opts=ctx.stateless
        )
        for index, producer in enumerate(ctx.spec.producers.get("gcp", ())):
            gcp.pubsub.TopicIAMMember(f"{name}-producer-{index}", topic=queues.topic.id, role="roles/pubsub.publisher", member=producer, opts=ctx.stateless)
        # `cloudqueue send` and `redrive` publish to the topic; `peek`, `redrive` and `purge` pull, ack,
        # modify ack deadlines and seek on the dead-letter subscription (all pubsub.subscriptions.consume).
        for index, operator in enumerate(ctx.spec.operators.get("gcp", ())):
            gcp.pubsub.TopicIAMMember(f"{name}-operator-{index}-publisher", topic=queues.topic.id, role="roles/pubsub.publisher", member=operator, opts=ctx.stateless)
            gcp.pubsub.SubscriptionIAMMember(
                f"{name}-operator-{index}-subscriber", subscription=queues.dead_letter_subscription.id, role="roles/pubsub.subscriber", member=operator, opts=ctx.stateless
            )

    def _alarms(self, ctx: _Context, queues: _Queues) -> None:
        """An alert policy on the dead-letter subscription: a message in it, or the oldest half way to expiry; e-mailed through channels."""
        spec, name, alarms = ctx.spec, ctx.name, ctx.spec.alarms
        if not alarms.dead_letter:
            return
        channels: list[Any] = list(alarms.targets("gcp"))
        for email in alarms.emails("gcp"):
            # One channel per address (an email channel has one email_address label), named after it.
            channel = gcp.monitoring.NotificationChannel(
                f"{name}-alarm-email-{hashlib.sha256(email.encode()).hexdigest()[:8]}",
                type="email",
                display_name=f"cloudqueue {spec.name}: {email}",
                labels={"email_address": email},
                user_labels=ctx.labels,
                opts=ctx.stateless,
            )
            channels.append(channel.name)

        def condition(title: str, metric: str, threshold: int) -> dict[str, Any]:
            # The monitored resource's subscription_id label is the short name, not projects/<p>/subscriptions/<name>.
            subscription = queues.dead_letter_subscription.name
            return {
                "display_name": title,
                "condition_threshold": {
                    "filter": pulumi.Output.concat(
                        'resource.type = "pubsub_subscription" AND resource.label.subscription_id = "', subscription,
                        '" AND metric.type = "pubsub.googleapis.com/subscription/', metric, '"',
                    ),
                    "comparison": "COMPARISON_GT",
                    "threshold_value": threshold,
                    "duration": ALERT_DURATION,
                    "aggregations": [{"alignment_period": ALERT_ALIGNMENT, "per_series_aligner": "ALIGN_MAX"}],
                    "trigger": {"count": 1},
                },
            }

        retention = spec.dead_letter_retention_seconds
        gcp.monitoring.AlertPolicy(
            f"{name}-dead-letter-alarm",
            display_name=f"cloudqueue {spec.name}: dead-lettered messages",
            combiner="OR",
            conditions=[
                condition("messages in the dead-letter subscription", "num_undelivered_messages", 0),
                # The dead-letter topic publishes each message anew, so its age counts from its arrival there,
                # as the subscription's retention does.
                condition(f"oldest dead-lettered message past half its {retention} s retention", "oldest_unacked_message_age", retention // 2),
            ],
            notification_channels=channels,
            severity="WARNING",
            documentation={
                "content": f"Messages reached the dead-letter subscription of the cloudqueue queue {spec.name}: `cloudqueue dlq peek --stack {pulumi.get_stack()} {spec.name}`",
                "mime_type": "text/markdown",
            },
            user_labels=ctx.labels,
            opts=ctx.stateless,
        )

    def _outputs(self, queues: _Queues, subscription: "gcp.pubsub.Subscription", function: "gcp.cloudfunctionsv2.Function") -> None:
        """Set the output attributes, then register them: the last thing the component does."""
        self.topic_id = queues.topic.id
        self.subscription_id = subscription.id
        self.dead_letter_topic_id = queues.dead_letter.id
        self.dead_letter_subscription_id = queues.dead_letter_subscription.id
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
