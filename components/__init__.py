"""cloudqueue components: one queue spec, equivalent resources on AWS, Azure and Google Cloud."""

from components.aws import AwsQueue, AwsQueueArgs
from components.azure import AzureQueue, AzureQueueArgs, AzureShared, AzureSharedArgs
from components.gcp import GcpQueue, GcpQueueArgs, GcpShared, GcpSharedArgs
from components.queue import Queue
from components.spec import ConsumerArgs, QueueArgs, QueueSpec, SpecError, validate, validate_all

__all__ = [
    "AwsQueue",
    "AwsQueueArgs",
    "AzureQueue",
    "AzureQueueArgs",
    "AzureShared",
    "AzureSharedArgs",
    "ConsumerArgs",
    "GcpQueue",
    "GcpQueueArgs",
    "GcpShared",
    "GcpSharedArgs",
    "Queue",
    "QueueArgs",
    "QueueSpec",
    "SpecError",
    "validate",
    "validate_all",
]
