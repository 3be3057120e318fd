"""Queue: one spec fanned out to the single-cloud components it targets."""

import importlib
from typing import Optional

import pulumi

from .spec import QueueArgs, QueueSpec, validate

# Per cloud: the module and class of its component, imported only when a spec targets that
# cloud, so an AWS-only program never loads the Azure or Google Cloud provider SDKs.
CLOUD_COMPONENTS = {"aws": (".aws", "AwsQueue"), "azure": (".azure", "AzureQueue"), "gcp": (".gcp", "GcpQueue")}
# Output names per cloud: the design brief's, and what `cloudqueue send` / `dlq` read (tools/ops/outputs.py).
CLOUD_OUTPUTS = {
    "aws": ("queue_url", "queue_arn", "dlq_url", "dlq_arn", "function_name", "producer_policy_arn", "operator_policy_arn"),
    "azure": ("namespace_name", "queue_name", "dead_letter_path", "function_app_name", "namespace_host"),
    "gcp": ("topic_id", "subscription_id", "dead_letter_topic_id", "dead_letter_subscription_id", "function_name"),
}


def component_class(cloud: str) -> type:
    """The single-cloud component class for `cloud`, importing its module on first use."""
    module_name, class_name = CLOUD_COMPONENTS[cloud]
    return getattr(importlib.import_module(module_name, __package__), class_name)


class Queue(pulumi.ComponentResource):
    """The same queue, dead-letter queue, IAM and consumer on every cloud in `clouds`.

    The single-cloud components are reachable as `.aws`, `.azure` and `.gcp` (None when that
    cloud is not targeted).
    """

    outputs: pulumi.Output[dict[str, dict[str, str]]]
    """Every cloud's outputs, nested by cloud: {"aws": {"queue_url": ..., ...}, "azure": {...}}."""

    def __init__(self, name: str, args: QueueArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # Every targeted cloud's limits are checked before anything is registered; a QueueSpec
        # (accepted too) was already validated, by `validate_all`, for a whole stack at once.
        spec = args if isinstance(args, QueueSpec) else validate(name, args)
        super().__init__("cloudqueue:index:Queue", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        components = {cloud: component_class(cloud)(f"{name}-{cloud}", spec, child) for cloud in CLOUD_COMPONENTS if cloud in spec.clouds}
        self.aws, self.azure, self.gcp = (components.get(cloud) for cloud in ("aws", "azure", "gcp"))
        self.outputs = pulumi.Output.from_input(
            {cloud: {field: getattr(component, field) for field in CLOUD_OUTPUTS[cloud]} for cloud, component in components.items()}
        )
        self.register_outputs({"outputs": self.outputs})
