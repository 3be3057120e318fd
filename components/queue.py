"""Queue: one spec fanned out to the single-cloud components it targets."""

from __future__ import annotations

from typing import Optional, Union

import pulumi

from components.aws import AwsQueue
from components.azure import AzureQueue
from components.gcp import GcpQueue
from components.spec import QueueArgs, QueueSpec, validate

# Component and output names per cloud, as the design brief fixes them.
CLOUD_COMPONENTS = {"aws": AwsQueue, "azure": AzureQueue, "gcp": GcpQueue}
CLOUD_OUTPUTS = {
    "aws": ("queue_url", "queue_arn", "dlq_url", "dlq_arn", "function_name", "producer_policy_arn"),
    "azure": ("namespace_name", "queue_name", "dead_letter_path", "function_app_name"),
    "gcp": ("topic_id", "subscription_id", "dead_letter_topic_id", "dead_letter_subscription_id", "function_name"),
}


class Queue(pulumi.ComponentResource):
    """The same queue, dead-letter queue, IAM and consumer on every cloud in `clouds`."""

    aws: Optional[AwsQueue]
    """The AWS component, when aws is targeted."""
    azure: Optional[AzureQueue]
    """The Azure component, when azure is targeted."""
    gcp: Optional[GcpQueue]
    """The Google Cloud component, when gcp is targeted."""
    outputs: pulumi.Output[dict]
    """Every cloud's outputs, nested by cloud: {"aws": {"queue_url": ..., ...}, "azure": {...}}."""

    def __init__(self, name: str, args: Union[QueueArgs, QueueSpec], opts: Optional[pulumi.ResourceOptions] = None):
        # Every targeted cloud's limits are checked before anything is registered; a QueueSpec
        # was already validated (by `validate_all`, for a whole stack at once).
        spec = args if isinstance(args, QueueSpec) else validate(name, args)
        super().__init__("cloudqueue:index:Queue", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        components = {
            cloud: CLOUD_COMPONENTS[cloud](f"{name}-{cloud}", spec, child) if cloud in spec.clouds else None for cloud in CLOUD_COMPONENTS
        }
        self.aws, self.azure, self.gcp = components["aws"], components["azure"], components["gcp"]
        self.outputs = pulumi.Output.from_input(
            {
                cloud: {field: getattr(component, field) for field in CLOUD_OUTPUTS[cloud]}
                for cloud, component in components.items()
                if component is not None
            }
        )
        self.register_outputs({"outputs": self.outputs})
