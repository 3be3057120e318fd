"""cloudqueue as a Pulumi component provider, for TypeScript, Go, C#, Java and YAML programs.

`provider/__main__.py` calls `serve()`; the SDK's analyzer infers the schema from the components'
type annotations and docstrings.
"""

import ast
import inspect
import sys
import textwrap
from typing import Optional

from pulumi.provider.experimental import analyzer, component_provider_host

from . import __version__
from .aws import AwsQueue
from .azure import AzureQueue
from .gcp import GcpQueue
from .queue import Queue

COMPONENTS = [Queue, AwsQueue, AzureQueue, GcpQueue]
"""The components the package offers, as cloudqueue:index:<ClassName>."""

_own_docstring = analyzer.Analyzer.get_docstring


def _base_names(typ: type) -> list[str]:
    """The names a class statement lists as bases (TypedDicts keep no bases at runtime before 3.12)."""
    try:
        (statement,) = ast.parse(textwrap.dedent(inspect.getsource(typ))).body
    except (OSError, TypeError, ValueError, SyntaxError):
        return []
    return [base.id for base in getattr(statement, "bases", ()) if isinstance(base, ast.Name)]


def _docstring_with_bases(self: analyzer.Analyzer, typ: type, name: str) -> Optional[str]:
    """The analyzer reads a field's docstring from its own class's source only; QueueArgs inherits
    its fields from CloudQueueArgs, so look through the classes it names as bases too."""
    found = _own_docstring(self, typ, name)
    module = sys.modules.get(typ.__module__)
    for base_name in [] if found else _base_names(typ):
        base = getattr(module, base_name, None)
        if isinstance(base, type) and base is not dict:
            found = _docstring_with_bases(self, base, name)
            if found:
                break
    return found


analyzer.Analyzer.get_docstring = _docstring_with_bases


def serve() -> None:
    """Run the component provider (the Pulumi engine starts it through provider/PulumiPlugin.yaml)."""
    component_provider_host(name="cloudqueue", components=COMPONENTS, version=__version__)
