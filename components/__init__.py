"""cloudqueue components: one queue spec, equivalent resources on AWS, Azure and Google Cloud."""

from components.aws import AwsQueue, AwsQueueArgs
from components.queue import Queue
from components.spec import ConsumerArgs, QueueArgs, QueueSpec, SpecError, validate, validate_all

__all__ = ["AwsQueue", "AwsQueueArgs", "ConsumerArgs", "Queue", "QueueArgs", "QueueSpec", "SpecError", "validate", "validate_all"]
