"""The function artifact: the user's code at the root, the runtime beside it, nothing else."""

from __future__ import annotations

import io
import zipfile

import pytest

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


def test_artifact_reports_what_its_entries_take_unzipped(consumer_dir, tmp_path):
    (consumer_dir / "data.bin").write_bytes(b"\0" * 100_000)  # compresses to almost nothing
    built = artifact.build(consumer_dir, tmp_path / "out")
    archive = zipfile.ZipFile(built.path)
    assert built.unzipped_size == sum(entry.file_size for entry in archive.infolist())
    assert built.unzipped_size > 100_000 > built.size


def test_a_function_zip_above_lambdas_direct_upload_limit_is_a_spec_error_and_registers_nothing(consumer_dir, monkeypatch):
    import os

    from components import Queue, SpecError
    from pulumi_mocks import Engine

    (consumer_dir / "model.bin").write_bytes(os.urandom(64 * 1024))  # random bytes do not compress
    # The real limit is 50 MiB; lowered so that a 64 KiB fixture exceeds it, headroom kept as shipped.
    monkeypatch.setattr(artifact, "LAMBDA_MAX_ZIPPED_BYTES", 32 * 1024 + artifact.LAMBDA_REQUEST_HEADROOM_BYTES)
    size = artifact.build(consumer_dir).size
    engine = Engine(preview=False)
    with pytest.raises(SpecError) as caught:
        engine.run(lambda: Queue("orders", {"clouds": ["aws"], "consumer": {"code_path": str(consumer_dir), "handler": "handler.handle"}}))
    assert caught.value.issues == [
        f"queues.orders.consumer.code_path: the function zip (code_path and the cloudqueue runtime) is {size / 1_048_576:.1f} MiB ({size} bytes), "
        f"above the 32768 bytes AWS Lambda takes in a direct upload (its 50 MB quota, less 8 KiB for the rest of the request); move data files out of "
        f"code_path (allowed up to 32768 bytes zipped when aws is targeted)"
    ]
    assert engine.all() == []


def test_a_function_zip_within_lambdas_limits_passes_and_other_clouds_are_not_held_to_them(consumer_dir, monkeypatch):
    from components.spec import validate

    monkeypatch.setattr(artifact, "LAMBDA_MAX_ZIPPED_BYTES", artifact.build(consumer_dir).size + artifact.LAMBDA_REQUEST_HEADROOM_BYTES)
    assert validate("orders", {"clouds": ["aws"], "consumer": {"code_path": str(consumer_dir), "handler": "handler.handle"}})
    monkeypatch.setattr(artifact, "LAMBDA_MAX_ZIPPED_BYTES", artifact.LAMBDA_REQUEST_HEADROOM_BYTES)  # nothing fits
    assert validate("orders", {"clouds": ["gcp"], "consumer": {"code_path": str(consumer_dir), "handler": "handler.handle"}})
