"""The distribution: `pip install <repo>` gives another program `components` and `cloudqueue_runtime` only."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

from pulumi_mocks import REPO


def test_wheel_ships_the_components_and_runtime_but_not_tests_or_examples(tmp_path):
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(tmp_path), str(source)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("cloudqueue-*.whl")
    listed = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in listed if not name.startswith("cloudqueue-")}
    assert packages == {"components", "cloudqueue_runtime"}
    assert {"components/__init__.py", "components/spec.py", "components/aws.py", "cloudqueue_runtime/aws.py"} <= set(listed)
    assert not [n for n in listed if n.startswith(("tests/", "consumers/", "bench/")) or n == "__main__.py"]
    metadata = zipfile.ZipFile(wheel).read(next(n for n in listed if n.endswith("/METADATA"))).decode()
    assert "Requires-Dist: pulumi<4,>=3.200" in metadata and "Requires-Dist: pulumi-aws<8,>=7.0" in metadata
