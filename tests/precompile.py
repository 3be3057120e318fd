"""Compile the bytecode of what the test suite imports, once, on every core: `make test` runs it first.

uv installs no bytecode (it leaves it to the first import). On a fresh .venv both test workers,
and the tests' own subprocesses, would each compile the same provider modules as they import
them: 11 s of a 49 s suite on two cores. Compiled here first, in parallel, they take about 5 s,
and an up-to-date file is skipped, so a warm run pays a fraction of a second. Nothing depends on
the list below being complete: a module left out is compiled on import, as before.
"""

from __future__ import annotations

import compileall
import os
import sysconfig
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# Packages the suite imports most of: their whole trees. The second group is what the Pulumi SDK,
# moto, the function hosts and the CLI bring in; each test process started before its bytecode was
# written compiled it again (a fresh clone's first suite ran 5 s longer, summed over both workers,
# than its second; with them listed, the two are equal).
TREES = """
pulumi pulumi_policy pip _pytest xdist execnet pluggy botocore boto3 s3transfer cryptography
azure/core azure/functions azure/servicebus google/api_core google/auth google/protobuf
google/cloud/pubsub_v1 google/pubsub_v1 grpc proto werkzeug flask jinja2 urllib3 requests anyio
cloudevents yaml
opentelemetry dill semver parver packaging attr rich click isodate jmespath itsdangerous idna
charset_normalizer dateutil responses blinker markupsafe flask_cors functions_framework iniconfig
certifi grpc_status google/api google/iam google/rpc google/oauth2 google/type google/cloud/pubsub
moto/moto_api pytest google/cloud/functions google/cloud/functions_v1
""".split()

# Single-module distributions at the top of site-packages.
MODULES = "typing_extensions six xmltodict deprecation".split()

# Provider SDKs and moto hold thousands of modules: only the services cloudqueue registers (or
# emulates), each a flat folder, with the package's own top level.
SERVICES = {
    "pulumi_aws": "sqs iam lambda_ cloudwatch sns",
    "pulumi_azure_native": "servicebus web storage authorization monitor resources operationalinsights applicationinsights",
    "pulumi_gcp": "pubsub storage kms serviceaccount projects organizations cloudfunctionsv2 cloudrunv2 artifactregistry monitoring compute",
    "moto": "core sqs iam sts s3 events cloudwatch utilities moto_api moto_server",
}


def sources(site: Path) -> list[str]:
    """The .py files to compile under `site`: the trees whole, the SDK folders without their subfolders."""
    found = [str(path) for tree in TREES for path in (site / tree).rglob("*.py")]
    found += [str(site / f"{module}.py") for module in MODULES]
    for package, services in SERVICES.items():
        for folder in ["", *services.split()]:
            found += [str(path) for path in (site / package / folder).glob("*.py")]
    return found


def compile_all(files: list[str]) -> None:
    for name in files:
        compileall.compile_file(name, quiet=2)


def main() -> None:
    files = sources(Path(sysconfig.get_paths()["purelib"]))
    workers = os.cpu_count() or 1
    # Many small chunks, interleaved, so one worker does not get all of a heavy folder.
    chunks = [files[index :: workers * 8] for index in range(workers * 8)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(compile_all, chunks))


if __name__ == "__main__":
    main()
