"""What cloudqueue costs a program and a function: imports, the adapters' cost per message, artifact sizes."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from workloads import ALL_CLOUDS, CODE, REPO

# Installed packages carry their bytecode; a machine that sets PYTHONDONTWRITEBYTECODE would
# otherwise make this repository's modules compile on every start.
WITH_BYTECODE = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}

# The provider classes each component uses, loaded for real (the SDKs load submodules lazily):
# what a hand-written program of the same resources imports.
PROVIDER_IMPORTS = {
    "aws": "import pulumi_aws as aws; aws.sqs.Queue, aws.sqs.QueuePolicy, aws.iam.Role, aws.iam.Policy, aws.lambda_.Function, aws.lambda_.EventSourceMapping, aws.cloudwatch.LogGroup",
    "azure": "import pulumi_azure_native as az; az.servicebus.Queue, az.storage.StorageAccount, az.web.WebApp, az.authorization.RoleAssignment, az.resources.ResourceGroup, az.operationalinsights.Workspace, az.applicationinsights.Component",
    "gcp": "import pulumi_gcp as gcp; gcp.pubsub.Topic, gcp.storage.Bucket, gcp.serviceaccount.Account, gcp.cloudfunctionsv2.Function, gcp.cloudrunv2.ServiceIamMember, gcp.projects.IAMMember, gcp.kms.CryptoKeyIAMMember, gcp.storage.BucketIAMMember, gcp.artifactregistry.Repository",
}
CLASS_NAMES = {"aws": "AwsQueue", "azure": "AzureQueue", "gcp": "GcpQueue"}


def package_import_ms(runs: int = 3) -> dict[str, tuple[float, float]]:
    """Per cloud (and all three): (ms with cloudqueue's component, ms for the provider classes it uses alone, as any
    program of those resources loads them): the difference is cloudqueue's own; medians of alternating runs."""
    programs = {cloud: ([CLASS_NAMES[cloud]], PROVIDER_IMPORTS[cloud]) for cloud in ALL_CLOUDS}
    programs["all"] = (list(CLASS_NAMES.values()), "; ".join(PROVIDER_IMPORTS.values()))
    return {name: paired_start_ms(f"from cloudqueue import {', '.join(classes)}; {providers}", providers, runs) for name, (classes, providers) in programs.items()}


def paired_start_ms(code: str, baseline: str, runs: int) -> tuple[float, float]:
    """(median ms of `code`, median ms of `baseline`), fresh interpreters run alternately (after one each that writes bytecode)."""
    def once(program: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", program], cwd=REPO, check=True, env=WITH_BYTECODE)
        return (time.perf_counter() - start) * 1000

    once(code), once(baseline)
    pairs = [(once(code), once(baseline)) for _ in range(runs)]
    return statistics.median(mine for mine, _ in pairs), statistics.median(theirs for _, theirs in pairs)


def adapter_import_ms(cloud: str, runs: int = 10) -> tuple[float, float]:
    """(ms the adapter adds to a bare start, ms of its own import time from -X importtime)."""
    module = f"cloudqueue_runtime.{cloud}"
    with_adapter, bare = paired_start_ms(f"import {module}", "pass", runs)
    added = with_adapter - bare
    trace = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=REPO, capture_output=True, text=True, check=True, env=WITH_BYTECODE).stderr
    own_us = sum(int(line.split("|")[1]) for line in trace.splitlines() if line.strip().endswith(module))
    return added, own_us / 1000


def _deliveries(cloud: str, count: int) -> tuple[callable, list]:
    """The adapter's entry point and `count` deliveries to it, shaped as each cloud's host hands them over."""
    if cloud == "aws":
        from cloudqueue_runtime import aws

        record = {"body": "{}", "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q"}
        batches = [{"Records": [{**record, "messageId": f"{i}-{j}"} for j in range(10)]} for i in range(count // 10)]  # batches of 10, as the event source sends
        return aws.handler, batches
    if cloud == "azure":
        from cloudqueue_runtime import azure
        from emulators import service_bus_message

        return azure.process, [service_bus_message(b"{}", message_id=str(i)) for i in range(count)]
    from werkzeug.wrappers import Request

    from cloudqueue_runtime import gcp
    from emulators import envelope

    requests = [Request.from_values(method="POST", data=json.dumps(envelope(b"{}", message_id=str(i))), content_type="application/json") for i in range(count)]
    return gcp.push, requests


def adapter_overhead_us(cloud: str, messages: int = 5000) -> float:
    """Microseconds the cloud's adapter adds per message to a no-op handler called directly."""
    from cloudqueue_runtime import _handler
    from cloudqueue_runtime.message import Message

    folder = tempfile.mkdtemp(prefix="cloudqueue-noop-")
    Path(folder, "noop_handler.py").write_text("def handle(message):\n    pass\n")
    sys.path.insert(0, folder)
    os.environ["CLOUDQUEUE_HANDLER"] = "noop_handler.handle"
    _handler._loaded.clear()
    handle = _handler.user_handler()
    entry, deliveries = _deliveries(cloud, messages)
    entry(deliveries[0])  # first call loads the handler
    start = time.perf_counter()
    for delivery in deliveries:
        entry(delivery)
    through_adapter = time.perf_counter() - start
    message = Message(id="1", body=b"{}", cloud=cloud)
    start = time.perf_counter()
    for _ in range(messages):
        handle(message)
    direct = time.perf_counter() - start
    return (through_adapter - direct) / messages * 1e6


def package_kb() -> dict[str, float]:
    """Each cloud's function package for the example consumer, with the files cloudqueue generates."""
    from components import artifact, azure, gcp
    from components.spec import validate

    spec = validate("orders", {"clouds": ALL_CLOUDS, "consumer": {"code_path": str(CODE), "handler": "handler.handle"}})
    generated = {"aws": {}, "azure": azure.generated_files(spec), "gcp": gcp.generated_files(spec)}
    return {cloud: len(artifact.build_bytes(CODE, files)) / 1024 for cloud, files in generated.items()}


def layer_figures() -> dict[str, float]:
    """The example consumer's AWS layer (its requirements.txt, built for Lambda): cold and warm build, size."""
    from components import artifact

    platform = artifact.lambda_platform("python3.12", "arm64")
    with mock.patch.dict(os.environ, {artifact.CACHE_ENV: tempfile.mkdtemp(prefix="cloudqueue-cache-")}):  # cold: an empty cache
        start = time.perf_counter()
        layer = artifact.build_layer(CODE, platform)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        artifact.build_layer(CODE, platform)  # warm: found in the cache by its key
        warm = time.perf_counter() - start
    return {"cold_s": cold, "warm_ms": warm * 1000, "layer_kb": layer.size / 1024}
