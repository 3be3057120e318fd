"""`cloudqueue validate`: reads a stack file as Pulumi does and checks it without the engine."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml

from components.tools import cli
from pulumi_mocks import REPO


@pytest.fixture
def project(tmp_path):
    """A copy of this project's Pulumi.yaml, stacks and example consumer, to break at will."""
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "consumers", tmp_path / "consumers")
    return tmp_path


def test_a_clean_stack_exits_zero_and_lists_each_queue(project, capsys):
    assert cli.main(["validate", "--stack", "prod", "--cwd", str(project)]) == 0
    assert capsys.readouterr().out.splitlines() == ["queues.orders: valid on aws, azure, gcp", "queues.payments: valid on aws, azure, gcp"]


def test_a_broken_stack_exits_two_naming_field_value_cloud_and_range(project, capsys):
    document = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())
    document["config"]["cloudqueue:queues"]["orders"]["max_delivery_attempts"] = 3
    document["config"]["cloudqueue:queues"]["orders"]["consumer"]["memory_mb"] = 64
    (project / "Pulumi.broken.yaml").write_text(yaml.safe_dump(document))
    assert cli.main(["validate", "-s", "broken", "-C", str(project)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "Pulumi.broken.yaml: 3 problem(s)"
    assert "  queues.orders.max_delivery_attempts: 3 is below Google Cloud Pub/Sub's minimum of 5 (allowed 5..100 when gcp is targeted)" in err
    assert "  queues.orders.consumer.memory_mb: 64 is below AWS Lambda's minimum of 128 (allowed 128..10240 when aws is targeted)" in err


def test_a_missing_stack_file_is_a_clear_error(project, capsys):
    assert cli.main(["validate", "--stack", "staging", "--cwd", str(project)]) == 2
    assert capsys.readouterr().err.strip() == f"cloudqueue validate: {project / 'Pulumi.staging.yaml'}: no such stack file (stacks here: dev, prod)"


def test_a_folder_without_a_pulumi_project_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["validate", "--stack", "dev", "--cwd", str(tmp_path)]) == 2
    assert "Pulumi.yaml: not found; run from the Pulumi project folder or pass --cwd" in capsys.readouterr().err


def test_project_keys_without_a_namespace_belong_to_the_project(project, capsys):
    (project / "Pulumi.yaml").write_text("name: cloudqueue\nruntime: python\nconfig:\n  protect:\n    type: boolean\n    default: false\n")
    document = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())
    document["config"]["queues"] = document["config"].pop("cloudqueue:queues")
    (project / "Pulumi.bare.yaml").write_text(yaml.safe_dump(document))
    assert cli.read_stack_config(project, "bare")["cloudqueue:protect"] is False
    assert cli.main(["validate", "--stack", "bare", "--cwd", str(project)]) == 0


def test_the_command_runs_as_python_dash_m_cloudqueue_from_the_venv():
    result = subprocess.run([sys.executable, "-m", "cloudqueue", "validate", "--stack", "dev"], cwd=REPO, capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "queues.orders: valid on aws, azure, gcp\n"), result.stderr
