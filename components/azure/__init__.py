"""AzureQueue and what it shares with a stack's other queues on Azure.

- `queue.py`: AzureQueue, a Service Bus queue (its dead-letter queue is the built-in
  `$DeadLetterQueue` sub-queue), its Flex Consumption consumer and queue-scoped roles.
- `shared.py`: AzureShared, the resource group, namespace and package storage every queue of a
  stack shares, and the subscription lookups.
- `monitoring.py`: AzureMonitoring, the workspace and Application Insights of traced consumers.
- `function_app.py`: the files cloudqueue generates into a Function App package.

The OneDeploy publish step stays in `cloudqueue.azure_publish`: a dynamic provider, which
deployed stacks' state names by its module path.
"""

from .function_app import CONNECTION, QUEUE_NAME_SETTING, function_app_py, generated_files, host_json
from .monitoring import MONITORING_METRICS_PUBLISHER, AzureMonitoring, AzureMonitoringArgs
from .queue import (
    SERVICE_BUS_DATA_RECEIVER,
    SERVICE_BUS_DATA_SENDER,
    STORAGE_BLOB_DATA_OWNER,
    AzureQueue,
    AzureQueueArgs,
)
from .shared import AzureShared, AzureSharedArgs, Foundation

__all__ = [
    "CONNECTION",
    "MONITORING_METRICS_PUBLISHER",
    "QUEUE_NAME_SETTING",
    "SERVICE_BUS_DATA_RECEIVER",
    "SERVICE_BUS_DATA_SENDER",
    "STORAGE_BLOB_DATA_OWNER",
    "AzureMonitoring",
    "AzureMonitoringArgs",
    "AzureQueue",
    "AzureQueueArgs",
    "AzureShared",
    "AzureSharedArgs",
    "Foundation",
    "function_app_py",
    "generated_files",
    "host_json",
]
