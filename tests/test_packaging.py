"""The distribution: `pip install <repo>` gives another program `cloudqueue` and `cloudqueue_runtime` only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

from pulumi_mocks import REPO

SITE_PACKAGES = sysconfig.get_paths()["purelib"]

# One worker runs this file, so what it builds once (module-scoped) is built once.
pytestmark = pytest.mark.xdist_group("wheel")



@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from a copy (setuptools writes build/ and *.egg-info next to the sources)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", "venv", ".git", "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(work), str(source)], check=True, cwd=work
    )
    (built,) = work.glob("cloudqueue-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a folder of its own, as `pip install` would lay it out."""
    target = tmp_path_factory.mktemp("target")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)], check=True)
    return target


def run_isolated(code: str, installed: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Python with the installed wheel first and the test venv's third-party packages after it,
    but not this repository (no editable install, no repo on the path)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(cwd), str(installed), SITE_PACKAGES])}
    return subprocess.run([sys.executable, "-S", "-c", textwrap.dedent(code)], cwd=cwd, env=env, capture_output=True, text=True)


def test_wheel_ships_cloudqueue_and_the_runtime_but_no_generic_name_tests_or_examples(wheel):
    listed = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in listed if not name.startswith("cloudqueue-")}
    assert packages == {"cloudqueue", "cloudqueue_runtime"}
    assert {"cloudqueue/__init__.py", "cloudqueue/spec.py", "cloudqueue/aws.py", "cloudqueue/cli.py", "cloudqueue_runtime/aws.py"} <= set(listed)
    assert not [n for n in listed if n.startswith(("components/", "tests/", "consumers/", "bench/", "policy/", "provider/")) or n == "__main__.py"]


def test_wheel_metadata_needs_only_pulumi_and_offers_an_extra_per_cloud(wheel):
    from components import __version__

    listed = zipfile.ZipFile(wheel).namelist()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in listed if n.endswith("/METADATA"))).decode()
    requires = [line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist: ")]
    assert [r for r in requires if "extra ==" not in r] == ["pulumi<4,>=3.200"]
    for extra, package in (("aws", "pulumi-aws"), ("azure", "pulumi-azure-native"), ("gcp", "pulumi-gcp")):
        assert any(r.startswith(package) and f'extra == "{extra}"' in r for r in requires), extra
    assert {"Provides-Extra: aws", "Provides-Extra: azure", "Provides-Extra: gcp", "Provides-Extra: all"} <= set(metadata.splitlines())
    assert f"Version: {__version__}" in metadata.splitlines()
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in listed if n.endswith("/entry_points.txt"))).decode()
    assert "cloudqueue = cloudqueue.cli:main" in entry_points


def test_installed_cloudqueue_works_beside_a_programs_own_components_package(installed, tmp_path):
    program = tmp_path / "program"
    (program / "components").mkdir(parents=True)
    (program / "components" / "__init__.py").write_text("OWN = 'the program\\'s own components'\n")
    result = run_isolated(
        """
        import components, cloudqueue
        from cloudqueue import Queue, AwsQueue, AzureQueue, GcpQueue, validate_all, QueueArgs
        print(components.OWN)
        print(cloudqueue.__file__)
        print(cloudqueue.__version__, AwsQueue.__module__, Queue.__module__)
        """,
        installed,
        program,
    )
    assert result.returncode == 0, result.stderr
    own, location, modules = result.stdout.splitlines()
    assert own == "the program's own components"
    assert Path(location).is_relative_to(installed)
    assert modules.split()[1:] == ["cloudqueue.aws", "cloudqueue.queue"]


def test_importing_the_aws_component_loads_no_azure_or_gcp_provider(installed, tmp_path):
    result = run_isolated(
        """
        import sys
        from cloudqueue import AwsQueue
        from cloudqueue.queue import component_class
        component_class("aws")
        print(sorted(m for m in sys.modules if m.startswith(("pulumi_azure_native", "pulumi_gcp"))))
        print("pulumi_aws" in sys.modules)
        """,
        installed,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "True"]


def test_targeting_a_cloud_whose_provider_cannot_be_imported_names_the_extra(installed, tmp_path):
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "handler.py").write_text("def handle(message):\n    pass\n")
    result = run_isolated(
        f"""
        import sys

        class Missing:  # pulumi_gcp is not installed
            @staticmethod
            def find_spec(name, path=None, target=None):
                if name.split(".")[0] == "pulumi_gcp":
                    raise ModuleNotFoundError(name)

        sys.meta_path.insert(0, Missing)
        from cloudqueue import SpecError, validate
        try:
            validate("orders", {{"clouds": ["aws", "gcp"], "consumer": {{"code_path": {str(consumer)!r}, "handler": "handler.handle"}}}})
        except SpecError as error:
            print(error.issues)
        """,
        installed,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(
        [
            "queues.orders.clouds: 'gcp' needs the Google Cloud provider SDK (pulumi_gcp), which is not installed; "
            "install the extra: pip install 'cloudqueue[gcp]'"
        ]
    )
