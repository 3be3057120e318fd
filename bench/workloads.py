"""The programs the benchmark runs: per cloud, the component and the hand-written program of the same
resources (bench/raw_program.py), each taking a queue count; and copies of this project whose stack
has N queues on all three clouds, for `cloudqueue validate` and `plan`."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _path in (str(REPO / "bench"), str(REPO / "tests"), str(REPO)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

CODE = REPO / "consumers" / "orders"
ALL_CLOUDS = ["aws", "azure", "gcp"]


def programs() -> dict[str, tuple]:
    """Per cloud: (component program, raw program), each taking a queue count."""
    from components import AwsQueue, AzureQueue, GcpQueue, artifact, azure, gcp
    from components.spec import validate
    from raw_program import raw_azure_queue, raw_azure_shared, raw_gcp_queue, raw_gcp_shared, raw_queue

    spec = {"consumer": {"code_path": str(CODE), "handler": "handler.handle"}, "alarms": {"dead_letter": False}}  # as raw_program.py
    resolved = validate("orders", {**spec, "clouds": ALL_CLOUDS})
    aws_package = artifact.build(CODE)
    aws_layer = artifact.build_layer(CODE, artifact.lambda_platform("python3.12", "arm64"))
    azure_package = artifact.build(CODE, generated=azure.generated_files(resolved))
    gcp_package = artifact.build(CODE, generated=gcp.generated_files(resolved))

    def raw_azure(count: int) -> None:
        shared = raw_azure_shared()
        for i in range(count):
            raw_azure_queue(f"q{i}", shared, str(azure_package.path), azure_package.sha256_hex)

    def raw_gcp(count: int) -> None:
        shared = raw_gcp_shared()
        for i in range(count):
            raw_gcp_queue(f"q{i}", shared, str(gcp_package.path), gcp_package.sha256_hex)

    return {
        "aws": (
            lambda count: [AwsQueue(f"q{i}", spec) for i in range(count)],
            lambda count: [raw_queue(f"q{i}", str(aws_package.path), aws_package.sha256_base64, aws_layer) for i in range(count)],
        ),
        "azure": (lambda count: [AzureQueue(f"q{i}", spec) for i in range(count)], raw_azure),
        "gcp": (lambda count: [GcpQueue(f"q{i}", spec) for i in range(count)], raw_gcp),
    }


def generated_project(count: int) -> Path:
    """A copy of this project whose `bench` stack has `count` queues on all three clouds."""
    import yaml

    folder = Path(tempfile.mkdtemp(prefix="cloudqueue-plan-"))
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, folder / name)
    for name in ("consumers", "policy"):
        shutil.copytree(REPO / name, folder / name, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    spec = {"clouds": ALL_CLOUDS, "consumer": {"code_path": "consumers/orders", "handler": "handler.handle"}}
    (folder / "Pulumi.bench.yaml").write_text(yaml.safe_dump({"config": {"cloudqueue:queues": {f"q{i}": spec for i in range(count)}}}))
    return folder
