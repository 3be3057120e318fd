"""The mocked accounts every cloud answers from, and the providers' autonaming.

One AWS account and region, one Azure subscription and tenant, one Google Cloud project: the ids,
ARNs and names the mocks compute are built from these, as the real providers build them.
"""

from __future__ import annotations

import hashlib
import re

from pulumi.runtime.mocks import MockResourceArgs

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
DNS_SUFFIX = "amazonaws.com"
SUBSCRIPTION = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AZURE_LOCATION = "westeurope"
GCP_PROJECT = "cloudqueue-dev"
GCP_PROJECT_NUMBER = "418243720156"
GCP_REGION = "europe-west1"


def _hex(seed: str, length: int = 7) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:length]


def _autoname(args: MockResourceArgs, max_len: int, pattern: str = r"^[\w+=,.@/-]+$", suffix: str = "") -> str:
    """Name a resource the way the provider's autonaming does, failing as it would when too long."""
    given = args.inputs.get("name")
    name = given if given else f"{args.name}-{_hex(args.typ + args.name)}{suffix}"
    if len(name) > max_len or not re.match(pattern, name):
        raise ValueError(f"{args.typ} name {name!r} is invalid: at most {max_len} characters matching {pattern}")
    return name

