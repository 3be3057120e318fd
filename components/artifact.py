"""Function artifacts: the user's consumer code plus the stdlib-only cloudqueue runtime, zipped.

Clouds whose function host needs an entry point of its own (Azure's `function_app.py` and
`host.json`, Google Cloud's `main.py`) pass those as generated files; they sit at the root
next to the user's code. The zip is deterministic (sorted entries, fixed timestamps and modes), so the same code
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
from typing import Mapping

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

    @property
    def sha256_hex(self) -> str:
        """Hex SHA-256 of the zip, the form content-addressed names and deploy checks use."""
        return base64.b64decode(self.sha256_base64).hex()


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


def build_bytes(code_path: Path, generated: Mapping[str, str] | None = None) -> bytes:
    """Zip `code_path` at the archive root, the runtime as `cloudqueue_runtime/`, and `generated` files.

    A generated file replaces a user file of the same name; the spec rejects such a clash
    before anything is built, so here it only guards the archive against duplicate entries.
    """
    contents = {arcname.removeprefix("./"): source.read_bytes() for arcname, source in _files(code_path, ".") + _files(RUNTIME_DIR, "cloudqueue_runtime")}
    contents.update({arcname: text.encode("utf-8") for arcname, text in (generated or {}).items()})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for arcname in sorted(contents):
            info = zipfile.ZipInfo(arcname, date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16  # readable by the function's runtime user
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, contents[arcname])
    return buffer.getvalue()


_built: dict[tuple, Artifact] = {}


def build(code_path: Path, out_dir: Path | None = None, generated: Mapping[str, str] | None = None) -> Artifact:
    """Build (once per process and content) the artifact for `code_path`; return where it is.

    The zip is content-addressed, so queues that share code share one file, and a rebuild of
    unchanged code rewrites nothing.
    """
    code_path = code_path.resolve()
    out_dir = out_dir or Path(tempfile.gettempdir()) / "cloudqueue-artifacts"
    stamp = tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size) for _, p in _files(code_path, ".") + _files(RUNTIME_DIR, "rt")
    )
    generated_items = tuple(sorted((generated or {}).items()))
    key = (str(out_dir), stamp, generated_items)
    if key in _built and _built[key].path.exists():
        return _built[key]
    data = build_bytes(code_path, dict(generated_items))
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
