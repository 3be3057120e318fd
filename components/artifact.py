"""Function artifacts: the user's consumer code plus the stdlib-only cloudqueue runtime, zipped.

Clouds whose function host needs an entry point of its own (Azure's `function_app.py` and
`host.json`, Google Cloud's `main.py`) pass those as generated files; they sit at the root
next to the user's code. The zip is deterministic (sorted entries, fixed timestamps and modes), so the same code
always yields the same bytes and hash, and `pulumi up` shows no change until the code does.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
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
    unzipped_size: int
    """Bytes of every entry once extracted, what Lambda's unzipped quota counts."""

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


# --- Third-party requirements, installed for the function's own platform ------------------------

REQUIREMENTS = "requirements.txt"
CACHE_ENV = "CLOUDQUEUE_CACHE_DIR"
COMPLETE_MARK = ".complete"  # written last into a cached install: it is whole
LAYER_FORMAT = "layer-v2"  # part of a cached layer's name, so a new layout never reads an old zip or digest
_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*===?\s*[^,;\s]+(\s*;.*)?$")


@dataclass(frozen=True)
class Platform:
    """Where a function runs, as pip names it."""

    description: str
    """For errors: the service, the platform and the interpreter."""
    pip_platforms: tuple[str, ...]
    """Platform tags pip may take binary wheels for."""
    python_version: str
    """`3.12` for python3.12."""


def lambda_platform(runtime: str, architecture: str) -> Platform:
    """AWS Lambda's platform: Amazon Linux (glibc 2.26 and later) on the function's architecture."""
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[architecture]
    version = runtime.removeprefix("python")
    return Platform(f"AWS Lambda (manylinux {machine}, CPython {version}, binary wheels only)", (f"manylinux2014_{machine}", f"manylinux_2_28_{machine}"), version)


def requirement_lines(code_path: Path) -> list[str]:
    """The requirement lines of the consumer's requirements.txt (comments and blanks dropped)."""
    path = code_path / REQUIREMENTS
    if not path.is_file():
        return []
    lines = (line.split(" #", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def unpinned(code_path: Path) -> list[str]:
    """Requirements without an exact `==` pin: a later deploy may get other code than this one."""
    return [line for line in requirement_lines(code_path) if not line.startswith("-") and not _PINNED.match(line)]


def merged_requirements(code_path: Path, package: str, requirement: str) -> str:
    """The consumer's requirements.txt plus `requirement`, which the generated entry point needs.

    A consumer that names `package` itself keeps its own line; `conflicting_pin` rejects a pin
    outside what the entry point supports before anything is built.
    """
    lines = requirement_lines(code_path)
    if not any(_requirement_name(line) == _normalise(package) for line in lines):
        lines.append(requirement)
    return "\n".join(lines) + "\n"


def conflicting_pin(code_path: Path, requirement: str) -> str | None:
    """The consumer's line for `requirement`'s package when its pinned version falls outside it."""
    from packaging.requirements import Requirement

    wanted = Requirement(requirement)
    for line in requirement_lines(code_path):
        if _requirement_name(line) != _normalise(wanted.name):
            continue
        pins = [spec.version for spec in Requirement(line.split(";")[0]).specifier if spec.operator in ("==", "===")]
        if pins and not any(wanted.specifier.contains(pin, prereleases=True) for pin in pins):
            return line
    return None


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(line: str) -> str:
    match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return _normalise(match.group(1)) if match else ""


class RequirementsError(Exception):
    """A requirement pip cannot install for the function's platform."""

    def __init__(self, package: str, detail: str):
        self.package, self.detail = package, detail
        super().__init__(f"{package}: {detail}")


def cache_dir() -> Path:
    """Where installed requirements are kept between runs: $CLOUDQUEUE_CACHE_DIR or the user cache."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cloudqueue" / "requirements"


def install_requirements(code_path: Path, platform: Platform) -> Path | None:
    """Install the consumer's requirements for `platform`, once per requirements, platform and Python.

    Binary wheels only: nothing is compiled on this machine for another one. The result is cached
    by a hash of all three and reused, so a second program run installs nothing.
    """
    lines = requirement_lines(code_path)
    if not lines:
        return None
    key = hashlib.sha256("\n".join([*sorted(lines), *platform.pip_platforms, platform.python_version]).encode()).hexdigest()[:32]
    target = cache_dir() / key
    if (target / COMPLETE_MARK).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=target.parent))
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(staging), "--python-version", platform.python_version, "--implementation", "cp", "--only-binary=:all:",
    ]
    for tag in platform.pip_platforms:
        command += ["--platform", tag]
    result = subprocess.run([*command, *lines], capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
        missing = next((m.group(1) for line in errors if (m := re.search(r"No matching distribution found for (\S+)", line))), None)
        raise RequirementsError(missing or "requirements.txt", errors[-1] if errors else result.stderr.strip()[-300:])
    (staging / COMPLETE_MARK).write_text(key)
    try:
        staging.rename(target)  # atomic: concurrent runs never see half an install
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another run finished first
    return target


def build_bytes(code_path: Path, generated: Mapping[str, str] | None = None) -> bytes:
    """Zip `code_path` at the archive root, the runtime as `cloudqueue_runtime/`, and `generated` files.

    A generated file replaces a user file of the same name; the spec rejects such a clash
    before anything is built, so here it only guards the archive against duplicate entries.
    """
    contents = {arcname.removeprefix("./"): source for arcname, source in _files(code_path, ".") + _files(RUNTIME_DIR, "cloudqueue_runtime")}
    contents.update({arcname: text.encode("utf-8") for arcname, text in (generated or {}).items()})
    return _zip(sorted(contents.items()))


def _zip(entries: list[tuple[str, Path | bytes]]) -> bytes:
    """A deterministic zip: sorted entries, fixed times and modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for arcname, source in sorted(entries, key=lambda entry: entry[0]):
            info = zipfile.ZipInfo(arcname, date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16  # readable by the function's runtime user
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, source if isinstance(source, bytes) else source.read_bytes())
    return buffer.getvalue()


_built: dict[tuple, Artifact] = {}


def _stamp(root: Path) -> tuple:
    """Every file under `root` with its modification time and size: a changed file changes it."""
    stamps = []
    for _, path in _files(root, "."):
        stat = path.stat()
        stamps.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(stamps)


@functools.lru_cache(maxsize=1)
def _runtime_stamp() -> tuple:
    """The shipped runtime does not change while a program runs: stat it once."""
    return _stamp(RUNTIME_DIR)


def build(code_path: Path, out_dir: Path | None = None, generated: Mapping[str, str] | None = None) -> Artifact:
    """Build (once per process and content) the artifact for `code_path`; return where it is.

    The zip is content-addressed, so queues that share code share one file, and a rebuild of
    unchanged code rewrites nothing.
    """
    code_path = code_path.resolve()
    out_dir = out_dir or Path(tempfile.gettempdir()) / "cloudqueue-artifacts"
    stamp = _stamp(code_path) + _runtime_stamp()
    generated_items = tuple(sorted((generated or {}).items()))
    key = (str(out_dir), stamp, generated_items)
    if key in _built and _built[key].path.exists():
        return _built[key]
    data = build_bytes(code_path, dict(generated_items))
    artifact = _store(data, out_dir)
    _built[key] = artifact
    return artifact


def _store(data: bytes, out_dir: Path) -> Artifact:
    """Write `data` under its own hash (atomically, so a concurrent run never reads half a zip)."""
    digest = hashlib.sha256(data).digest()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{digest.hex()}.zip"
    if not target.exists():
        partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(target)
    return Artifact(path=target, sha256_base64=base64.b64encode(digest).decode(), size=len(data), unzipped_size=_unzipped_size(data))


def _unzipped_size(data: bytes) -> int:
    """What the zip's entries take once extracted (read from its central directory only)."""
    return sum(entry.file_size for entry in zipfile.ZipFile(io.BytesIO(data)).infolist())


def build_layer(code_path: Path, platform: Platform) -> Artifact | None:
    """The Lambda layer of the consumer's requirements (`python/...`), or None without requirements.

    Built once per requirements, platform and Python, next to the cached install, so a warm build
    only looks it up; the function zip keeps just the consumer's code.
    """
    installed = install_requirements(code_path, platform)
    if installed is None:
        return None
    layer = installed.parent / f"{installed.name}.{LAYER_FORMAT}.zip"
    digest_file = layer.with_suffix(".sha256")
    if not digest_file.exists():
        entries = [(f"python/{arcname}", source) for arcname, source in _files(installed, ".") if arcname != COMPLETE_MARK]
        built = _store(_zip(entries), installed.parent)
        built.path.replace(layer)
        # Written last: a warm build reads the digest and the unzipped size, never the zip.
        partial = digest_file.with_name(f"{digest_file.name}.{os.getpid()}.tmp")
        partial.write_text(f"{built.sha256_base64} {built.unzipped_size}")
        partial.replace(digest_file)
    digest, unzipped = digest_file.read_text().split()
    return Artifact(path=layer, sha256_base64=digest, size=layer.stat().st_size, unzipped_size=int(unzipped))


# --- Lambda's code size quotas ----------------------------------------------------------------
# The provider uploads a FileArchive directly (the ZipFile of CreateFunction, UpdateFunctionCode
# and PublishLayerVersion). Lambda quotas: 50 MB zipped for a direct upload, 250 MB unzipped for
# the function and all its layers; GetAccountSettings reports them in bytes (CodeSizeZipped,
# CodeSizeUnzipped), and the errors read "Request must be smaller than 69905067 bytes for the
# PublishLayerVersion operation" and "Unzipped size must be smaller than 262144000 bytes".
LAMBDA_MAX_ZIPPED_BYTES = 52_428_800
LAMBDA_MAX_UNZIPPED_BYTES = 262_144_000
# 69905067 is 4/3 of 50 MiB: the request carries the zip base64-encoded, next to the rest of the
# configuration (an environment of up to 4 KB, tags, layers), so 8 KiB are kept for that.
LAMBDA_REQUEST_HEADROOM_BYTES = 8192


def _mib(size: int) -> str:
    return f"{size / 1_048_576:.1f} MiB ({size} bytes)"


def lambda_size_problems(function: Artifact, layer: Artifact | None) -> list[str]:
    """Why Lambda would refuse a direct upload of `function` and its dependency `layer`, with the fix."""
    problems = []
    zipped_limit = LAMBDA_MAX_ZIPPED_BYTES - LAMBDA_REQUEST_HEADROOM_BYTES
    for what, built, fix in (
        ("the function zip (code_path and the cloudqueue runtime)", function, "move data files out of code_path"),
        ("the dependency layer zip (requirements.txt)", layer, "drop requirements the handler does not import (boto3 is in the Lambda runtime already)"),
    ):
        if built is not None and built.size > zipped_limit:
            problems.append(
                f"{what} is {_mib(built.size)}, above the {zipped_limit} bytes AWS Lambda takes in a direct upload "
                f"(its 50 MB quota, less {LAMBDA_REQUEST_HEADROOM_BYTES // 1024} KiB for the rest of the request); {fix} "
                f"(allowed up to {zipped_limit} bytes zipped when aws is targeted)"
            )
    unzipped = function.unzipped_size + (layer.unzipped_size if layer else 0)
    if unzipped >= LAMBDA_MAX_UNZIPPED_BYTES:
        parts = f"the function ({_mib(function.unzipped_size)})" + (f" and its dependency layer ({_mib(layer.unzipped_size)})" if layer else "")
        problems.append(
            f"{parts} unzip to {_mib(unzipped)}, not below AWS Lambda's unzipped quota of {LAMBDA_MAX_UNZIPPED_BYTES} bytes for a "
            f"function and its layers, which holds for uploads through S3 too; drop requirements the handler does not "
            f"import or move data files out of code_path (allowed below {LAMBDA_MAX_UNZIPPED_BYTES} bytes unzipped when aws is targeted)"
        )
    return problems
