"""GcpShared: what a stack's Cloud Functions share on Google Cloud, created once per stack.

The source bucket, the build account and its grants, the Google-managed service agents, the grants
of customer-managed keys and Shared VPC subnets to those agents, and the image repositories (one
per key). Also the project lookups made once per program, and the service account naming.

Every service agent is created (or looked up, which creates it) before it is granted anything, and
whatever uses a new grant waits for it to take effect (`propagation.py`): a first `pulumi up` on a
fresh project works.
"""

import hashlib
from typing import Any, Mapping, Optional, TypedDict

import pulumi
import pulumi_gcp as gcp

from .. import program
from ..spec import gcp_label, gcp_labels
from .propagation import GrantPropagation

# Noncurrent source objects (a deleted or replaced package) are kept this long: enough to
# roll back or investigate a deploy, short enough that old code does not pile up.
NONCURRENT_SOURCE_DAYS = 30
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
# The Google-managed service agents cloudqueue grants roles to: the API that owns each, and the
# address Google documents for it. An agent exists only once its service creates it, so a grant by
# the formatted address alone fails on a fresh project ("Service account ... does not exist",
# hashicorp/terraform-provider-google#7611, #9969). `projects.ServiceIdentity` (the Service Usage
# generateServiceIdentity call) creates each of these; the Cloud Storage agent is created by reading
# it (`storage.get_project_service_account`), as the provider documents.
SERVICE_AGENTS = {
    "pubsub": ("pubsub.googleapis.com", "gcp-sa-pubsub.iam.gserviceaccount.com"),
    "functions": ("cloudfunctions.googleapis.com", "gcf-admin-robot.iam.gserviceaccount.com"),
    "registry": ("artifactregistry.googleapis.com", "gcp-sa-artifactregistry.iam.gserviceaccount.com"),
    "run": ("run.googleapis.com", "serverless-robot-prod.iam.gserviceaccount.com"),
}
# Service agents that must use a function's customer-managed key (Cloud Run functions, "Protect
# your data with CMEK"): the functions agent, Artifact Registry for the image, Cloud Storage for
# the copied source and Cloud Run for the running instances.
FUNCTION_KEY_AGENTS = ("functions", "registry", "storage", "run")
# Cloud Functions copies a function's source into its own bucket, gcf-v2-sources-<number>-<region>
# (with a customer key, -<key hash> appended), and the build account downloads it from there
# (Cloud Functions "Build process overview"; terraform-provider-google#20571). That bucket is made by
# the first deploy, so no bucket-level grant can precede it: the build account gets objectViewer on
# the project, with an IAM condition on those buckets' resource names (IAM Conditions: Cloud
# Storage buckets are projects/_/buckets/<bucket>, objects .../objects/<object>).
FUNCTION_SOURCES_BUCKET = "gcf-v2-sources-{number}-{region}"


def function_sources_condition(number: str, region: str) -> dict[str, str]:
    """The IAM condition that limits a project-level grant to Cloud Functions' source buckets in `region`."""
    bucket = "projects/_/buckets/" + FUNCTION_SOURCES_BUCKET.format(number=number, region=region)
    # "-" (not a bare prefix) so europe-west1 does not also match europe-west10's buckets.
    expression = f'resource.name == "{bucket}" || resource.name.startsWith("{bucket}/") || resource.name.startsWith("{bucket}-")'
    return {
        "title": "cloudqueue-function-sources",
        "description": f"Cloud Functions source copies in {region}, read by function builds",
        "expression": expression,
    }


def labels(tags: Mapping[str, Any]) -> dict[str, Any]:
    """Tags as labels (`spec.gcp_labels`), an Output value normalised the same way once it resolves."""

    def value(text: Any) -> Any:
        return gcp_label(text, False) if isinstance(text, str) else text

    return gcp_labels({key: tag.apply(value) if isinstance(tag, pulumi.Output) else tag for key, tag in tags.items()})


def _name_text(value: pulumi.Input[str], user: str) -> str:
    """What the name of a resource shared by `value` (a key, a subnet) is derived from.

    The value itself; for an Output, whose value no resource name can wait for, the queue that asked
    for it first. An Output is shared by identity: pass the same Output (e.g. `key.id`) to every queue.
    """
    return value if isinstance(value, str) else f"<output first used by {user}>"


class GcpSharedArgs(TypedDict, total=False):
    """Args of GcpShared: what every queue of a stack shares on Google Cloud."""

    tags: dict[str, str]
    """Tags, put on the source bucket as labels."""


class Lookups:
    """Project facts read once per program and provider, never once per queue."""

    def __init__(self, provider: Optional[pulumi.ProviderResource]):
        self._opts = pulumi.InvokeOutputOptions(provider=provider)
        client = gcp.organizations.get_client_config_output(opts=self._opts)
        self.project = client.project
        self.region = client.region
        self.number = gcp.organizations.get_project_output(project_id=client.project, opts=self._opts).number
        self._storage_agent: Optional[pulumi.Output[str]] = None

    def documented_agent(self, domain: str) -> pulumi.Output[str]:
        """The IAM member Google documents for a service agent of this project (it may not exist yet)."""
        return pulumi.Output.concat("serviceAccount:service-", self.number, "@", domain)

    def storage_agent(self) -> pulumi.Output[str]:
        """The Cloud Storage service agent's member; reading it creates it, so look it up only when granting it."""
        if self._storage_agent is None:
            account = gcp.storage.get_project_service_account_output(project=self.project, opts=self._opts)
            self._storage_agent = account.email_address.apply(lambda email: f"serviceAccount:{email}")
        return self._storage_agent


def program_lookups(provider: Optional[pulumi.ProviderResource]) -> Lookups:
    return program.once(("gcp-lookups", program.provider_key(provider)), lambda: Lookups(provider))


def account_id(name: str, role: str) -> str:
    """A service account id (6..30 of [a-z0-9-], starting with a letter), unique per project, stack and queue."""
    digest = hashlib.sha256(f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}/{role}".encode()).hexdigest()[:6]
    stem = "".join(c if c.isalnum() else "-" for c in name.lower())[:16].strip("-") or "cq"
    if not stem[0].isalpha():
        stem = "q" + stem[:15]
    return f"{stem}-{role}-{digest}"


def service_account(name: str, role: str, description: str, opts: pulumi.ResourceOptions) -> gcp.serviceaccount.Account:
    return gcp.serviceaccount.Account(f"{name}-{role}", account_id=account_id(name, role), display_name=description[:100], opts=opts)


class GcpShared(pulumi.ComponentResource):
    """The source bucket, build identity, service agents and grants that a stack's Cloud Functions share."""

    bucket_name: pulumi.Output[str]
    """Name of the bucket holding function sources."""
    builder_email: pulumi.Output[str]
    """Email of the service account Cloud Build builds the functions as."""

    def __init__(self, name: str, args: Optional[GcpSharedArgs] = None, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("cloudqueue:index:GcpShared", name, {}, opts)
        # Sources, identities and grants are recreated from code: never protected.
        child = pulumi.ResourceOptions(parent=self, protect=False)
        self._child = child
        lookups = program_lookups(self.get_provider("gcp::"))
        self._lookups = lookups
        self._labels = labels({**(args or {}).get("tags", {}), "cloudqueue:shared": "true"})
        # Keyed by the key or subnet itself: a string, or an Output (by identity, kept alive here).
        # Quoted: evaluating them would import those (large) SDK modules for every program.
        self._agents: "dict[str, pulumi.Output[str]]" = {}
        self._key_grants: "dict[Any, list[gcp.kms.CryptoKeyIAMMember]]" = {}
        self._key_ready: "dict[Any, GrantPropagation]" = {}
        self._repositories: "dict[Any, gcp.artifactregistry.Repository]" = {}
        self._build_ready: "dict[Any, list[pulumi.Resource]]" = {}
        self._subnet_grants: "dict[Any, list[pulumi.Resource]]" = {}
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
        # Builds run as a dedicated account with what a function build needs and no more (the
        # custom build account docs; GoogleCloudPlatform/terraform-google-cloud-functions): logs,
        # read on the sources, write on cloudqueue's image repositories (which also hold the build
        # cache). The broader Cloud Build builder role could act as other accounts (CKV_GCP_49).
        self.builder = service_account(name, "build", "cloudqueue: builds Cloud Functions", child)
        self._build_grants = [
            gcp.projects.IAMMember(f"{name}-build-logs", project=lookups.project, role="roles/logging.logWriter", member=self.builder.member, opts=child),
            gcp.storage.BucketIAMMember(f"{name}-build-source", bucket=self.bucket.name, role="roles/storage.objectViewer", member=self.builder.member, opts=child),
            gcp.projects.IAMMember(
                f"{name}-build-function-sources",
                project=lookups.project,
                role="roles/storage.objectViewer",
                member=self.builder.member,
                condition=pulumi.Output.all(lookups.number, lookups.region).apply(lambda values: function_sources_condition(*values)),
                opts=child,
            ),
        ]
        self.bucket_name = self.bucket.name
        self.builder_email = self.builder.email
        self.register_outputs({"bucket_name": self.bucket_name, "builder_email": self.builder_email})

    def agent(self, role: str) -> pulumi.Output[str]:
        """The IAM member of a service agent (a SERVICE_AGENTS role, or "storage"), created once for the stack.

        The member comes from the agent's own resource (or lookup), so every grant to it waits for
        the agent to exist. generateServiceIdentity may answer without the email (the provider says
        so), so the documented address stands in then, still after the agent was created.
        """
        if role not in self._agents:
            if role == "storage":
                self._agents[role] = self._lookups.storage_agent()
            else:
                service, domain = SERVICE_AGENTS[role]
                identity = gcp.projects.ServiceIdentity(f"{self._name}-agent-{role}", project=self._lookups.project, service=service, opts=self._child)
                documented = self._lookups.documented_agent(domain)
                self._agents[role] = pulumi.Output.all(identity.member, documented).apply(lambda members: members[0] or members[1])
        return self._agents[role]

    def key_grant(self, key_name: pulumi.Input[str], user: str) -> "list[pulumi.Resource]":
        """Let the service agents that encrypt a queue's data use `key_name`, once per key however many queues use it.

        The Pub/Sub agent (topics) and the agents of a keyed function (FUNCTION_KEY_AGENTS), then a
        wait for the grants to take effect: the topics and the image repository use the key from
        the moment they are created. IAM members are not reference-counted: two identical grants
        would revoke each other when one queue is removed, so the grants belong to the stack.
        `user` is the queue asking (it names the grants of an Output key). Returns the grants and
        the wait, for `depends_on`.
        """
        if key_name not in self._key_grants:
            stem = f"{self._name}-key-{hashlib.sha256(_name_text(key_name, user).encode()).hexdigest()[:8]}"
            agents = {"": "pubsub", **{f"-{role}": role for role in FUNCTION_KEY_AGENTS}}
            self._key_grants[key_name] = [
                gcp.kms.CryptoKeyIAMMember(f"{stem}{suffix}", crypto_key_id=key_name, role=ENCRYPTER_DECRYPTER, member=self.agent(role), opts=self._child)
                for suffix, role in agents.items()
            ]
            self._key_ready[key_name] = GrantPropagation(f"{stem}-propagation", self._key_grants[key_name], opts=self._child)
        return [*self._key_grants[key_name], self._key_ready[key_name]]

    def subnet_grant(self, subnetwork: pulumi.Input[str], user: str) -> "list[pulumi.Resource]":
        """Let Cloud Run's service agent use `subnetwork` for Direct VPC egress, once per subnet however many queues use it.

        A Shared VPC subnet in another project requires the grant; it is scoped to that one subnet,
        and belongs to the stack for the same reason as the key grants. Returns the grant and the
        wait for it to take effect, for `depends_on`.
        """
        if subnetwork not in self._subnet_grants:
            stem = f"{self._name}-network-{hashlib.sha256(_name_text(subnetwork, user).encode()).hexdigest()[:8]}"
            grant = gcp.compute.SubnetworkIAMMember(stem, subnetwork=subnetwork, role="roles/compute.networkUser", member=self.agent("run"), opts=self._child)
            self._subnet_grants[subnetwork] = [grant, GrantPropagation(f"{stem}-propagation", [grant], opts=self._child)]
        return self._subnet_grants[subnetwork]

    def repository(self, key_name: Optional[pulumi.Input[str]], user: str) -> "gcp.artifactregistry.Repository":
        """The image repository for functions under `key_name` (None: Google-managed encryption), one per key.

        A keyed function's image must sit in a repository encrypted with the same key.
        """
        if key_name not in self._repositories:
            text = "" if key_name is None else _name_text(key_name, user)
            digest = hashlib.sha256(f"{pulumi.get_project()}/{pulumi.get_stack()}/{text}".encode()).hexdigest()[:10]
            suffix = f"-{digest[:8]}" if key_name is not None else ""
            keyed = pulumi.ResourceOptions(depends_on=self.key_grant(key_name, user) if key_name is not None else None)
            repository = gcp.artifactregistry.Repository(
                f"{self._name}-images{suffix}",
                location=self._lookups.region,
                repository_id=f"cloudqueue-{digest}",
                format="DOCKER",
                kms_key_name=key_name,
                description="cloudqueue: Cloud Functions images",
                labels=self._labels,
                opts=pulumi.ResourceOptions.merge(self._child, keyed),
            )
            writer = gcp.artifactregistry.RepositoryIamMember(
                f"{self._name}-images{suffix}-build",
                project=repository.project,
                location=repository.location,
                repository=repository.name,
                role="roles/artifactregistry.writer",
                member=self.builder.member,
                opts=self._child,
            )
            grants = [*self._build_grants, writer]
            # The provider's custom-build-account example waits between these grants and the function.
            wait = GrantPropagation(f"{self._name}-images{suffix}-build-propagation", grants, opts=self._child)
            self._repositories[key_name] = repository
            self._build_ready[key_name] = [*grants, wait]
        return self._repositories[key_name]

    def build_ready(self, key_name: Optional[pulumi.Input[str]], user: str) -> "list[pulumi.Resource]":
        """Every grant a build into `key_name`'s repository needs, and the wait for them: what a function must depend on."""
        self.repository(key_name, user)
        return self._build_ready[key_name]

    @staticmethod
    def for_program(provider: Optional[pulumi.ProviderResource] = None) -> "GcpShared":
        """The stack's shared pieces, created on first use (top level, so its URN never depends on which queue came first)."""
        return program.once(("gcp-shared", program.provider_key(provider)), lambda: GcpShared("cloudqueue-gcp", {}, pulumi.ResourceOptions(provider=provider)))
