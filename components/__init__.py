"""cloudqueue: one queue spec, equivalent resources on AWS, Azure and Google Cloud.

Installed as `cloudqueue` (this folder is `components/` in the repository, where the stack's own
`__main__.py` imports it under that name). The single-cloud components are imported on first
use, so `from cloudqueue import AwsQueue` never loads the Azure or Google Cloud provider SDKs.
"""

import importlib
from typing import Any

from .queue import Queue
from .spec import ConsumerArgs, QueueArgs, QueueSpec, SpecError, validate, validate_all

__version__ = "0.2.0"
"""The one version of the package; pyproject.toml reads it from here."""

_LAZY = {
    "AwsQueue": ".aws",
    "AwsQueueArgs": ".aws",
    "AzureQueue": ".azure",
    "AzureQueueArgs": ".azure",
    "AzureShared": ".azure",
    "AzureSharedArgs": ".azure",
    "GcpQueue": ".gcp",
    "GcpQueueArgs": ".gcp",
    "GcpShared": ".gcp",
    "GcpSharedArgs": ".gcp",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ConsumerArgs", "Queue", "QueueArgs", "QueueSpec", "SpecError", "validate", "validate_all", *_LAZY]
