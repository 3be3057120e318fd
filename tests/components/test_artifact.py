"""The function artifact: the user's code at the root, the runtime beside it, nothing else."""

from __future__ import annotations

import io
import zipfile

from components import artifact
from pulumi_mocks import REPO


def names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_artifact_holds_user_code_at_the_root_and_the_runtime_package(consumer_dir):
    (consumer_dir / "lib").mkdir()
    (consumer_dir / "lib" / "util.py").write_text("X = 1\n")
    listed = names(artifact.build_bytes(consumer_dir))
    assert "handler.py" in listed and "lib/util.py" in listed
    assert {"cloudqueue_runtime/__init__.py", "cloudqueue_runtime/aws.py", "cloudqueue_runtime/message.py", "cloudqueue_runtime/_handler.py"} <= set(listed)


def test_artifact_leaves_out_caches_tests_and_virtualenvs(consumer_dir):
    for folder in ("__pycache__", "tests", ".venv"):
        (consumer_dir / folder).mkdir()
        (consumer_dir / folder / "junk.py").write_text("")
    (consumer_dir / "handler.pyc").write_bytes(b"\0")
    listed = names(artifact.build_bytes(consumer_dir))
    assert not [n for n in listed if n.startswith(("__pycache__", "tests", ".venv")) or n.endswith(".pyc") or "/__pycache__/" in n]


def test_artifact_bytes_are_deterministic_so_unchanged_code_shows_no_diff(consumer_dir, tmp_path):
    first = artifact.build_bytes(consumer_dir)
    (consumer_dir / "handler.py").touch()  # a new mtime alone must not change the zip
    assert artifact.build_bytes(consumer_dir) == first
    built = artifact.build(consumer_dir, tmp_path / "out")
    assert built.path.read_bytes() == first and built.size == len(first)


def test_artifact_changes_when_the_code_changes(consumer_dir, tmp_path):
    before = artifact.build(consumer_dir, tmp_path / "out")
    (consumer_dir / "handler.py").write_text("def handle(message):\n    return None\n")
    after = artifact.build(consumer_dir, tmp_path / "out")
    assert after.sha256_base64 != before.sha256_base64 and after.path != before.path


def test_example_consumer_artifact_contains_its_handler():
    assert "handler.py" in names(artifact.build_bytes(REPO / "consumers" / "orders"))
