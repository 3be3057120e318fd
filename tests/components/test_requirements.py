"""A consumer's requirements.txt on every cloud: built for each function's platform, cached, reproducible."""

from __future__ import annotations

import os
import platform as host
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from components import AwsQueue, Queue, SpecError, artifact
from components.spec import UnpinnedRequirementsWarning, validate
from pulumi_mocks import Engine

pytestmark = pytest.mark.xdist_group("requirements")  # one worker: the wheels are fetched once

PURE, COMPILED = "six==1.17.0", "orjson==3.10.12"
LAMBDA = artifact.lambda_platform("python3.12", "arm64")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    """Lambda-platform wheels of the two requirements, fetched once; every install below uses only these."""
    folder = tmp_path_factory.mktemp("wheels")
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--dest", str(folder), "--only-binary=:all:",
               "--python-version", LAMBDA.python_version, "--implementation", "cp", *[a for tag in LAMBDA.pip_platforms for a in ("--platform", tag)], PURE, COMPILED]
    subprocess.run(command, check=True, capture_output=True)
    return folder


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def offline(wheels, shared_cache, monkeypatch):
    """pip sees only the prepared wheels (no index); installs share one cache in this module."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv(artifact.CACHE_ENV, str(shared_cache))
    return shared_cache


@pytest.fixture
def consumer(tmp_path) -> Path:
    folder = tmp_path / "consumer"
    folder.mkdir()
    (folder / "handler.py").write_text("import six\n\nused = []\n\ndef handle(message):\n    used.append(six.__file__)\n")
    (folder / "requirements.txt").write_text(f"{PURE}\n{COMPILED}  # fast JSON\n")
    return folder


def built(consumer: Path) -> Engine:
    engine = Engine(preview=False)
    engine.run(lambda: AwsQueue("orders", {"consumer": {"code_path": str(consumer), "handler": "handler.handle"}}))
    return engine


def zips(engine: Engine) -> tuple[Path, Path]:
    """(function zip, layer zip) of the AWS consumer."""
    function, layer = engine.one("aws:lambda/function:Function"), engine.one("aws:lambda/layerVersion:LayerVersion")
    return Path(function.inputs["code"].path), Path(layer.inputs["code"].path)


def test_the_aws_layer_holds_pure_and_compiled_packages_built_for_the_functions_architecture(offline, consumer):
    engine = built(consumer)
    function_zip, layer_zip = zips(engine)
    layer = engine.one("aws:lambda/layerVersion:LayerVersion")
    assert engine.one("aws:lambda/function:Function").inputs["layers"] == [layer.outputs["arn"]]
    assert (layer.inputs["compatibleRuntimes"], layer.inputs["compatibleArchitectures"]) == (["python3.12"], ["arm64"])
    names = zipfile.ZipFile(layer_zip).namelist()
    assert "python/six.py" in names  # Lambda puts a layer's python/ on the import path
    (extension,) = [n for n in names if n.startswith("python/orjson/") and n.endswith(".so")]
    assert "aarch64-linux-gnu" in extension and "cpython-312" in extension
    assert host.machine() not in extension or host.machine() == "aarch64"
    # The function zip keeps only the consumer's code and the runtime: a code change re-uploads little.
    assert not [n for n in zipfile.ZipFile(function_zip).namelist() if n.startswith(("six", "orjson"))]


def test_a_consumer_without_requirements_gets_no_layer(offline, consumer):
    (consumer / "requirements.txt").unlink()
    engine = built(consumer)
    assert engine.all("aws:lambda/layerVersion:LayerVersion") == [] and engine.one("aws:lambda/function:Function").inputs["layers"] == []


def test_the_handler_imports_the_pure_package_from_the_extracted_artifact(offline, consumer, tmp_path):
    function_zip, layer_zip = zips(built(consumer))
    site, opt = tmp_path / "task", tmp_path / "opt"
    zipfile.ZipFile(function_zip).extractall(site)
    zipfile.ZipFile(layer_zip).extractall(opt)  # Lambda extracts layers to /opt
    # -S: no site-packages at all: only the task root, the layer's python/ and the stdlib, as in Lambda.
    code = (
        "import os, sys; from cloudqueue_runtime import aws; "
        "aws.handler({'Records': [{'messageId': 'm1', 'body': '{}', 'attributes': {'ApproximateReceiveCount': '1'}}]}, None); "
        "import handler; print(handler.used[0])"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(opt / "python")]), "CLOUDQUEUE_HANDLER": "handler.handle"}
    result = subprocess.run([sys.executable, "-S", "-c", code], cwd=site, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == opt / "python" / "six.py"


def test_azure_and_gcp_get_the_requirements_for_their_own_builds(offline, consumer):
    from components import azure, gcp

    spec = validate("orders", {"clouds": ["azure", "gcp"], "consumer": {"code_path": str(consumer), "handler": "handler.handle"}})
    azure_requirements = azure.generated_files(spec)["requirements.txt"].splitlines()
    gcp_requirements = gcp.generated_files(spec)["requirements.txt"].splitlines()
    assert azure_requirements == [PURE, COMPILED, "azure-functions>=1.20,<2"]  # Flex remote build installs them
    assert gcp_requirements == [PURE, COMPILED, "functions-framework>=3.5,<4"]  # Cloud Build installs them
    for files in (azure.generated_files(spec), gcp.generated_files(spec)):
        names = zipfile.ZipFile(__import__("io").BytesIO(artifact.build_bytes(consumer, files))).namelist()
        assert "six.py" not in names and not [n for n in names if n.startswith("orjson/")]


def test_the_same_requirements_give_the_same_layer_and_a_new_pin_changes_it(offline, consumer, tmp_path, monkeypatch):
    first = artifact.build_layer(consumer, LAMBDA)
    monkeypatch.setenv(artifact.CACHE_ENV, str(tmp_path / "elsewhere"))  # built again from nothing
    again = artifact.build_layer(consumer, LAMBDA)
    assert again.path != first.path and again.sha256_base64 == first.sha256_base64
    assert again.path.read_bytes() == first.path.read_bytes()
    (consumer / "requirements.txt").write_text(f"{PURE}\n")
    assert artifact.build_layer(consumer, LAMBDA).sha256_base64 != first.sha256_base64


def test_installs_are_cached_by_requirements_platform_and_python_where_the_user_says(offline, consumer, monkeypatch, tmp_path):
    monkeypatch.setenv(artifact.CACHE_ENV, str(tmp_path / "my-cache"))
    first = artifact.install_requirements(consumer, LAMBDA)
    assert first.parent == tmp_path / "my-cache" and (first / ".complete").exists()
    pip = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip ran again for cached requirements"))
    assert artifact.install_requirements(consumer, LAMBDA) == first
    monkeypatch.setattr(subprocess, "run", pip)
    with pytest.raises(artifact.RequirementsError):  # x86_64 is another key: a new install, and no such wheel was prepared
        artifact.install_requirements(consumer, artifact.lambda_platform("python3.12", "x86_64"))


@pytest.mark.parametrize(
    ("line", "package"),
    [("no-such-package-cloudqueue==1.0", "no-such-package-cloudqueue==1.0"), ("orjson==0.0.1", "orjson==0.0.1")],
    ids=["unknown", "no-wheel-for-the-platform"],
)
def test_an_uninstallable_requirement_is_a_spec_error_and_registers_nothing(offline, consumer, line, package):
    (consumer / "requirements.txt").write_text(f"{PURE}\n{line}\n")
    engine = Engine(preview=False)
    with pytest.raises(SpecError) as caught:
        engine.run(lambda: Queue("orders", {"clouds": ["aws"], "consumer": {"code_path": str(consumer), "handler": "handler.handle"}}))
    (issue,) = caught.value.issues
    assert issue.startswith(f"queues.orders.consumer.code_path: requirements.txt: {package} cannot be installed for AWS Lambda (manylinux aarch64, CPython 3.12, binary wheels only): ")
    assert issue.endswith("pin a version that publishes a wheel for this platform, or drop the compiled extra (when aws is targeted)")
    assert engine.all() == []


@pytest.mark.parametrize(("cloud", "line", "needed"), [("gcp", "functions-framework==2.1.0", "functions-framework>=3.5,<4"), ("azure", "azure-functions==2.0.0", "azure-functions>=1.20,<2")])
def test_a_pin_that_conflicts_with_the_generated_entry_point_is_refused(consumer, cloud, line, needed):
    (consumer / "requirements.txt").write_text(f"{line}\n")
    with pytest.raises(SpecError) as caught:
        validate("orders", {"clouds": [cloud], "consumer": {"code_path": str(consumer), "handler": "handler.handle"}})
    assert caught.value.issues == [
        f"queues.orders.consumer.code_path: requirements.txt pins {line!r}, but the {'Google Cloud' if cloud == 'gcp' else 'Azure'} entry point "
        f"cloudqueue generates needs {needed!r}; pin a version in that range or drop the line (when {cloud} is targeted)"
    ]


def test_unpinned_requirements_are_named_in_a_warning(consumer):
    (consumer / "requirements.txt").write_text("six\nrequests>=2\nattrs==23.2.0\n")
    with pytest.warns(UnpinnedRequirementsWarning, match=r"does not pin 'six', 'requests>=2'; reproducible deploys need exact versions"):
        validate("orders", {"clouds": ["gcp"], "consumer": {"code_path": str(consumer), "handler": "handler.handle"}})


def test_a_dependency_layer_above_lambdas_direct_upload_limit_is_a_spec_error(offline, consumer, monkeypatch):
    function, layer = artifact.build(consumer), artifact.build_layer(consumer, LAMBDA)
    assert function.size < layer.size  # orjson's compiled wheel makes the layer the larger zip
    # The real limit is 50 MiB; lowered between the two fixture zips so that only the layer exceeds it.
    limit = (function.size + layer.size) // 2
    monkeypatch.setattr(artifact, "LAMBDA_MAX_ZIPPED_BYTES", limit + artifact.LAMBDA_REQUEST_HEADROOM_BYTES)
    with pytest.raises(SpecError) as caught:
        validate("orders", {"clouds": ["aws"], "consumer": {"code_path": str(consumer), "handler": "handler.handle"}})
    (issue,) = caught.value.issues
    assert issue.startswith(f"queues.orders.consumer.code_path: the dependency layer zip (requirements.txt) is {layer.size / 1_048_576:.1f} MiB ({layer.size} bytes), above the {limit} bytes")
    assert issue.endswith(f"drop requirements the handler does not import (boto3 is in the Lambda runtime already) (allowed up to {limit} bytes zipped when aws is targeted)")


def test_a_function_and_layer_that_unzip_to_lambdas_limit_are_refused_and_one_byte_less_passes(offline, consumer, monkeypatch):
    function, layer = artifact.build(consumer), artifact.build_layer(consumer, LAMBDA)
    total = function.unzipped_size + layer.unzipped_size
    spec = {"clouds": ["aws"], "consumer": {"code_path": str(consumer), "handler": "handler.handle"}}
    # The real limit is 262144000 bytes ("Unzipped size must be smaller than ..."); lowered to this fixture's total.
    monkeypatch.setattr(artifact, "LAMBDA_MAX_UNZIPPED_BYTES", total)
    with pytest.raises(SpecError) as caught:
        validate("orders", spec)
    assert caught.value.issues == [
        f"queues.orders.consumer.code_path: the function ({function.unzipped_size / 1_048_576:.1f} MiB ({function.unzipped_size} bytes)) and its "
        f"dependency layer ({layer.unzipped_size / 1_048_576:.1f} MiB ({layer.unzipped_size} bytes)) unzip to {total / 1_048_576:.1f} MiB ({total} bytes), "
        f"not below AWS Lambda's unzipped quota of {total} bytes for a function and its layers, which holds for uploads through S3 too; drop requirements "
        f"the handler does not import or move data files out of code_path (allowed below {total} bytes unzipped when aws is targeted)"
    ]
    monkeypatch.setattr(artifact, "LAMBDA_MAX_UNZIPPED_BYTES", total + 1)
    assert validate("orders", spec)


def test_a_warm_layer_build_reports_the_unzipped_size_of_the_cold_one(offline, consumer, monkeypatch):
    cold = artifact.build_layer(consumer, LAMBDA)
    assert cold.unzipped_size == sum(entry.file_size for entry in zipfile.ZipFile(cold.path).infolist())
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("a warm build opened the layer zip"))
    assert artifact.build_layer(consumer, LAMBDA) == cold
