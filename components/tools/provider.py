"""cloudqueue as a Pulumi component provider, for TypeScript, Go, C#, Java and YAML programs.

`provider/__main__.py` calls `serve()`; the SDK's analyzer infers the schema from the components'
type annotations and docstrings, as they are: every args class declares the fields it takes, with
their descriptions (see spec/args.py), so nothing of the SDK is replaced.
"""

from pulumi.provider.experimental import component_provider_host

from .. import __version__
from ..aws import AwsQueue
from ..azure import AzureQueue
from ..gcp import GcpQueue
from ..queue import Queue

COMPONENTS = [Queue, AwsQueue, AzureQueue, GcpQueue]
"""The components the package offers, as cloudqueue:index:<ClassName>."""


def serve() -> None:
    """Run the component provider (the Pulumi engine starts it through provider/PulumiPlugin.yaml)."""
    component_provider_host(name="cloudqueue", components=COMPONENTS, version=__version__)
