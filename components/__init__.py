"""cloudqueue: one queue spec, equivalent resources on AWS, Azure and Google Cloud.

Installed as `cloudqueue` (this folder is `components/` in the repository, where the stack's own
`__main__.py` imports it under that name). Every name is imported on first use: the single-cloud
components load only their own provider SDK (`from cloudqueue import AwsQueue` never loads the
Azure or Google Cloud ones), and the `cloudqueue` command starts without Pulumi when it needs none.
"""

import importlib
from typing import Any

__version__ = "0.2.0"
"""The one version of the package; pyproject.toml reads it from here."""

_LAZY = {
    "Queue": ".queue",
    "ConsumerArgs": ".spec",
    "QueueArgs": ".spec",
    "QueueSpec": ".spec",
    "SpecError": ".spec",
    "validate": ".spec",
    "validate_all": ".spec",
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


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = sorted(_LAZY)
