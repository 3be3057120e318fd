"""The distribution: `pip install <repo>` or `uv add <repo>` gives another program `cloudqueue` and
`cloudqueue_runtime` only; and the project's own set-up: one .venv for make, the tests and Pulumi."""

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
import yaml

from pulumi_mocks import REPO

SITE_PACKAGES = sysconfig.get_paths()["purelib"]

# One worker runs this file, so what it builds once (module-scoped) is built once.
pytestmark = pytest.mark.xdist_group("wheel")



def uv() -> str:
    """The pinned uv make brought in: $UV (make exports it), else .tools/bin/uv."""
    found = os.environ.get("UV") or str(REPO / ".tools" / "bin" / "uv")
    assert Path(found).exists(), f"{found}: no uv; `make install` brings the pinned uv into .tools/"
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built as `uv build` does, with the build backend pyproject.toml names, from a
    copy (setuptools writes build/ and *.egg-info next to the sources)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    # What .gitignore keeps out of a clone (.e2e holds ministack's virtualenv once `make e2e` ran).
    ignored = (".venv", ".tools", ".e2e", "venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", ".cloudqueue")
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*ignored))
    subprocess.run([uv(), "build", "--wheel", "--quiet", "--out-dir", str(work), str(source)], check=True, cwd=work)
    (built,) = work.glob("cloudqueue-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a folder of its own, as `pip install --target` would lay it out."""
    target = tmp_path_factory.mktemp("target")
    subprocess.run([uv(), "pip", "install", "--no-deps", "--quiet", "--python", sys.executable, "--target", str(target), str(wheel)], check=True)
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
    assert {"cloudqueue/__init__.py", "cloudqueue/spec/__init__.py", "cloudqueue/aws.py", "cloudqueue/tools/cli.py", "cloudqueue_runtime/aws.py"} <= set(listed)
    assert not [n for n in listed if n.startswith(("components/", "tests/", "consumers/", "bench/", "policy/", "provider/")) or n == "__main__.py"]


def test_wheel_ships_every_package_under_components_as_a_cloudqueue_subpackage(wheel):
    listed = set(zipfile.ZipFile(wheel).namelist())
    folders = sorted(path.parent.relative_to(REPO / "components") for path in (REPO / "components").rglob("__init__.py"))
    missing = [str(folder) for folder in folders if (Path("cloudqueue") / folder / "__init__.py").as_posix() not in listed]
    assert not missing, f"add cloudqueue.<name> to [tool.setuptools] packages in pyproject.toml for {missing}"


def test_wheel_metadata_needs_only_pulumi_and_pip_and_offers_an_extra_per_cloud(wheel):
    from components import __version__

    listed = zipfile.ZipFile(wheel).namelist()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in listed if n.endswith("/METADATA"))).decode()
    requires = [line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist: ")]
    # pip: the components install a consumer's requirements.txt with `python -m pip`, and an
    # environment made by uv has no pip unless a package asks for it.
    assert sorted(r for r in requires if "extra ==" not in r) == ["pip>=23", "pulumi<4,>=3.200"]
    for extra, package in (("aws", "pulumi-aws"), ("azure", "pulumi-azure-native"), ("gcp", "pulumi-gcp")):
        assert any(r.startswith(package) and f'extra == "{extra}"' in r for r in requires), extra
    assert {"Provides-Extra: aws", "Provides-Extra: azure", "Provides-Extra: gcp", "Provides-Extra: all"} <= set(metadata.splitlines())
    assert f"Version: {__version__}" in metadata.splitlines()
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in listed if n.endswith("/entry_points.txt"))).decode()
    assert "cloudqueue = cloudqueue.tools.cli:main" in entry_points


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


def test_make_the_tests_and_pulumi_share_one_virtualenv_through_the_uv_toolchain():
    """Pulumi's uv toolchain runs `uv sync` with UV_PROJECT_ENVIRONMENT set to `virtualenv` (relative
    to the project folder; pulumi/pulumi sdk/python/toolchain/uv.go): the .venv make fills."""
    makefile = (REPO / "Makefile").read_text()
    assert "VENV := .venv" in makefile and "sync --locked" in makefile
    stack = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["runtime"]
    plugin = yaml.safe_load((REPO / "provider" / "PulumiPlugin.yaml").read_text())["runtime"]
    assert stack == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}
    assert plugin["name"] == "python" and plugin["options"]["toolchain"] == "uv"
    assert (REPO / "provider" / plugin["options"]["virtualenv"]).resolve() == (REPO / ".venv").resolve()


def test_pyproject_keeps_the_extras_and_puts_the_test_tools_in_a_default_dependency_group():
    """A plain `uv sync` (what `pulumi install` runs) installs the default groups: every cloud and the test tools."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert set(project["project"]["optional-dependencies"]) == {"aws", "azure", "gcp", "plan", "local", "ops", "all"}
    assert project["tool"]["uv"]["default-groups"] == ["test"]
    test_group = project["dependency-groups"]["test"]
    assert "cloudqueue[all]" in test_group and any(line.startswith("pytest") for line in test_group)
    assert not (REPO / "requirements.txt").exists()  # uv.lock pins everything; nothing to keep in step by hand
