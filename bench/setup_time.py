"""Set-up figures: a fresh copy -> `make test` green (this machine's caches) and -> the first plan line (empty
caches); the locked pins by pip and by uv, cold and warm; `cloudqueue[aws]` from the wheel against `[all]`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def uv_command() -> str:
    """The pinned uv that make brought in ($UV, which make exports, or .tools/bin/uv)."""
    found = os.environ.get("UV") or str(REPO / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        raise FileNotFoundError(f"{found}: uv not found; run the bench with `make bench`, which brings uv in")
    return found


def fresh_copy(destination: Path, repo: Path = REPO) -> Path:
    """The work tree as a clone of it would hold it: tracked and untracked files, less what .gitignore ignores."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo, capture_output=True, text=True, check=False)
    if listed.returncode != 0:
        raise RuntimeError(f"{repo} is not a git checkout: the set-up figures copy what a clone of it holds ({listed.stderr.strip()})")
    for name in {name for name in listed.stdout.split("\0") if name and (repo / name).is_file()}:
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, destination / name)
    return destination


def clone_environment() -> dict[str, str]:
    """This environment without the caller's uv, virtualenv or make state: a shell in a new clone, caches as they are."""
    return {key: value for key, value in os.environ.items() if key not in {"UV", "VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}


def cold_environment(scratch: Path) -> dict[str, str]:
    """A new machine's: clone_environment() with empty uv, pip and cloudqueue caches under `scratch`."""
    environment = clone_environment()
    for variable, folder in (("UV_CACHE_DIR", "uv-cache"), ("PIP_CACHE_DIR", "pip-cache"), ("CLOUDQUEUE_CACHE_DIR", "cloudqueue-cache")):
        environment[variable] = str(scratch / folder)
    return environment


def timed(command: list[str], cwd: Path | None, environment: dict[str, str] | None, first_line: str | None = None) -> tuple[float, float | None]:
    """(seconds to exit, seconds to the first output line starting with `first_line`); raises with the output on failure."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen, lines = None, []
    for line in process.stdout:
        lines.append(line)
        if seen is None and first_line and line.startswith(first_line):
            seen = time.perf_counter() - start
    if process.wait() != 0:
        raise RuntimeError(f"{' '.join(command)} in {cwd} exited {process.returncode}:\n{''.join(lines[-30:])}")
    return time.perf_counter() - start, seen


def fresh_make_test(scratch: Path) -> tuple[float, float, Path]:
    """In a fresh copy with this machine's caches (a second clone, CI): (`make install` s: uv brought in, .venv
    filled; `make test` s right after; the copy, kept for the wheel build)."""
    tested, environment = fresh_copy(scratch / "clone-test"), clone_environment()
    return timed(["make", "install"], tested, environment)[0], timed(["make", "test"], tested, environment)[0], tested


def fresh_make_plan(scratch: Path) -> tuple[float, float]:
    """In another fresh copy with empty caches (a new machine): (`make install` s, then `make plan STACK=dev` s to its first line)."""
    planned, environment = fresh_copy(scratch / "clone-plan"), cold_environment(scratch / "plan")
    install_s, _ = timed(["make", "install"], planned, environment)
    _, first_line_s = timed(["make", "plan", "STACK=dev"], planned, environment, first_line="cloudqueue plan:")
    if first_line_s is None:
        raise RuntimeError("make plan STACK=dev printed no 'cloudqueue plan:' line")
    return install_s, first_line_s


def locked_pins(scratch: Path) -> Path:
    """uv.lock's pins for the stack and the tests (every extra, the default groups), as a requirements file."""
    pins = scratch / "pins.txt"
    timed([uv_command(), "export", "--frozen", "--all-extras", "--no-hashes", "--no-emit-project", "--quiet", "--output-file", str(pins)], REPO, None)
    return pins


def pin_count(pins: Path) -> int:
    return sum(1 for line in pins.read_text().splitlines() if "==" in line and not line.lstrip().startswith("#"))


def install_s(installer: str, requirements: list[str], venv: Path, cache: Path) -> float:
    """A new virtualenv and `pip install` (or `uv pip install`) of `requirements` into it with `cache`, timed."""
    environment = {**os.environ, "PIP_CACHE_DIR": str(cache), "UV_CACHE_DIR": str(cache), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    start = time.perf_counter()
    if installer == "pip":
        timed([sys.executable, "-m", "venv", str(venv)], None, environment)
        timed([str(venv / "bin" / "pip"), "install", "--quiet", *requirements], None, environment)
    else:
        timed([uv_command(), "venv", "--quiet", "--python", sys.executable, str(venv)], None, environment)
        timed([uv_command(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *requirements], None, environment)
    return time.perf_counter() - start


def cold_and_warm_s(installer: str, pins: Path, scratch: Path) -> tuple[float, float | None]:
    """(seconds with an empty cache, seconds with the cache the first run filled) of the locked pins.

    pip keeps a download only when the registry's response allows it (Cache-Control); where a proxy
    drops those headers pip stores nothing, a "warm" run would be a second cold one, and it is None.
    """
    cache = scratch / f"{installer}-cache"
    cold = install_s(installer, ["-r", str(pins)], scratch / f"{installer}-cold", cache)
    stored = cache.glob("http*/**/*") if installer == "pip" else cache.rglob("*")  # pip's downloads, not its built wheels
    if not any(path.is_file() for path in stored):
        return cold, None
    return cold, install_s(installer, ["-r", str(pins)], scratch / f"{installer}-warm", cache)


def size_mb(folder: Path) -> float:
    """Bytes on disk under `folder` (allocated blocks, hard links counted once), in MB."""
    seen = {}
    for root, _, files in os.walk(folder):
        for name in files:
            status = os.lstat(os.path.join(root, name))
            seen[(status.st_dev, status.st_ino)] = status.st_blocks * 512
    return sum(seen.values()) / 1e6


def wheel_figures(source: Path, scratch: Path) -> tuple[float, dict[str, tuple[float, float, list[str]]]]:
    """(wheel KB, extra -> (seconds, MB on disk, the Azure and Google Cloud SDKs installed)): the wheel built
    from `source` (a fresh copy: setuptools writes build/ beside the sources), each extra into a new virtualenv, uv, empty cache."""
    timed([uv_command(), "build", "--quiet", "--wheel", "--out-dir", str(scratch / "dist"), str(source)], None, None)
    (wheel,) = (scratch / "dist").glob("cloudqueue-*.whl")
    installs = {}
    for extra in ("aws", "all"):
        venv = scratch / f"wheel-{extra}"
        seconds = install_s("uv", [f"cloudqueue[{extra}] @ {wheel.as_uri()}"], venv, scratch / f"uv-cache-{extra}")
        other_clouds = sorted(path.name for path in venv.glob("lib/python*/site-packages/*") if path.name in ("pulumi_azure_native", "pulumi_gcp"))
        installs[extra] = (seconds, size_mb(venv), other_clouds)
    return wheel.stat().st_size / 1024, installs


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"
