"""Queue: one spec fanned out to the single-cloud components it targets."""

from __future__ import annotations

from typing import Optional, Union

import pulumi

from components.aws import AwsQueue
from components.spec import QueueArgs, QueueSpec, validate

# Output names per cloud, as the design brief fixes them.
CLOUD_OUTPUTS = {
    "aws": ("queue_url", "queue_arn", "dlq_url", "dlq_arn", "function_name", "producer_policy_arn"),
}


class Queue(pulumi.ComponentResource):
    """The same queue, dead-letter queue, IAM and consumer on every cloud in `clouds`."""

    aws: Optional[AwsQueue]
    """The AWS component, when aws is targeted."""
    outputs: pulumi.Output[dict]
    """Every cloud's outputs, nested by cloud: {"aws": {"queue_url": ..., ...}}."""

    def __init__(self, name: str, args: Union[QueueArgs, QueueSpec], opts: Optional[pulumi.ResourceOptions] = None):
        # Every targeted cloud's limits are checked before anything is registered; a QueueSpec
        # was already validated (by `validate_all`, for a whole stack at once).
        spec = args if isinstance(args, QueueSpec) else validate(name, args)
        super().__init__("cloudqueue:index:Queue", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.aws = AwsQueue(f"{name}-aws", spec, child) if "aws" in spec.clouds else None
        components = {"aws": self.aws}
        self.outputs = pulumi.Output.from_input(
            {
                cloud: {field: getattr(component, field) for field in CLOUD_OUTPUTS[cloud]}
                for cloud, component in components.items()
                if component is not None
            }
        )
        self.register_outputs({"outputs": self.outputs})
