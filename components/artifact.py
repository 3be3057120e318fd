"""Function artifacts: the user's consumer code plus the stdlib-only cloudqueue runtime, zipped.

The zip is deterministic (sorted entries, fixed timestamps and modes), so the same code
always yields the same bytes and hash, and `pulumi up` shows no change until the code does.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cloudqueue_runtime

RUNTIME_DIR = Path(cloudqueue_runtime.__file__).resolve().parent

# Never shipped: caches, virtualenvs, VCS data and tests are not consumer code.
_SKIP_DIRS = frozenset({"__pycache__", ".git", ".venv", "venv", ".pytest_cache", ".mypy_cache", "tests", "node_modules"})
_SKIP_SUFFIXES = (".pyc", ".pyo")
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


@dataclass(frozen=True)
class Artifact:
    """A built function package."""

    path: Path
    """Where the zip was written."""
    sha256_base64: str
    """Base64 SHA-256 of the zip, the form Lambda's source_code_hash uses."""
    size: int
    """Size of the zip in bytes."""


def _files(root: Path, arcroot: str) -> list[tuple[str, Path]]:
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part in _SKIP_DIRS for part in relative.parts) or not path.is_file():
            continue
        if path.suffix in _SKIP_SUFFIXES:
            continue
        found.append(((Path(arcroot) / relative).as_posix(), path))
    return found


def build_bytes(code_path: Path) -> bytes:
    """Zip `code_path` at the archive root and the runtime as `cloudqueue_runtime/`."""
    entries = _files(code_path, ".") + _files(RUNTIME_DIR, "cloudqueue_runtime")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for arcname, source in sorted(entries):
            info = zipfile.ZipInfo(arcname.removeprefix("./"), date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16  # readable by the function's runtime user
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, source.read_bytes())
    return buffer.getvalue()


_built: dict[tuple, Artifact] = {}


def build(code_path: Path, out_dir: Path | None = None) -> Artifact:
    """Build (once per process and content) the artifact for `code_path`; return where it is.

    The zip is content-addressed, so queues that share code share one file, and a rebuild of
    unchanged code rewrites nothing.
    """
    code_path = code_path.resolve()
    out_dir = out_dir or Path(tempfile.gettempdir()) / "cloudqueue-artifacts"
    stamp = tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size) for _, p in _files(code_path, ".") + _files(RUNTIME_DIR, "rt")
    )
    key = (str(out_dir), stamp)
    if key in _built and _built[key].path.exists():
        return _built[key]
    data = build_bytes(code_path)
    digest = hashlib.sha256(data).digest()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{digest.hex()}.zip"
    if not target.exists():
        partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(target)  # atomic, so a concurrent run never reads half a zip
    artifact = Artifact(path=target, sha256_base64=base64.b64encode(digest).decode(), size=len(data))
    _built[key] = artifact
    return artifact
