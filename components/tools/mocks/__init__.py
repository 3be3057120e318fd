"""Realistic Pulumi mocks: the engine `cloudqueue plan` and every test run programs on.

The mocks answer like the real providers: they autoname physical resources the way the
providers do (`<logical>-<7 hex>` for the bridged aws and gcp providers, `.fifo` for FIFO
queues; azure-native's `<logical><8 hex>` for top-level resources and the bare logical name for
child resources) and enforce the same name limits, and they return the computed outputs real
resources have (queue URLs as ids, ARNs, role unique ids, Lambda versions, ARM resource ids,
managed-identity principal ids, Function App SCM hosts, service-account emails, Cloud Run URLs,
the project number). The monitor also does what the engine does and the stock mock
monitor does not: it runs a parent's `transforms` on every descendant and it records each
registration's parent, `protect` flag and dependencies, so tests can check the wiring.

The package: `accounts` (the mocked accounts and the providers' autonaming), `aws`, `azure` and
`gcp` (each provider's answers, by resource type and invoke token) and `engine` (the mock engine
and monitor). Everything the tests and `cloudqueue plan` use is importable from here.
"""

from .accounts import ACCOUNT, AZURE_LOCATION, DNS_SUFFIX, GCP_PROJECT, GCP_PROJECT_NUMBER, GCP_REGION, PARTITION, REGION, SUBSCRIPTION, TENANT
from .azure import FLEX_REJECTED_SITE_CONFIG
from .engine import INVOKE_RESULTS, PROVIDER_OUTPUTS, CloudMocks, Engine, EngineMonitor, Registration, flatten_config
from .gcp import SERVICE_AGENT_DOMAINS

__all__ = [
    "ACCOUNT", "AZURE_LOCATION", "DNS_SUFFIX", "GCP_PROJECT", "GCP_PROJECT_NUMBER", "GCP_REGION", "PARTITION", "REGION",
    "SUBSCRIPTION", "TENANT", "FLEX_REJECTED_SITE_CONFIG", "SERVICE_AGENT_DOMAINS", "INVOKE_RESULTS", "PROVIDER_OUTPUTS",
    "CloudMocks", "Engine", "EngineMonitor", "Registration", "flatten_config",
]
