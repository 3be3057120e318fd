"""Set-up figures: what a new user waits for before the first plan, the first green test run and a deploy.

- a fresh copy of this work tree (what a clone of it would hold) -> `make test` green, and ->
  the first line of `make plan STACK=dev`, each with empty uv, pip and cloudqueue caches: the
  copy brings in uv itself, fills .venv from uv.lock, then tests or plans;
- the locked pins (`uv export` of uv.lock) into a new virtualenv, by pip and by uv, each with an
  empty cache and then the cache its first run filled (pip only where it stores anything);
- an AWS-only user's install of `cloudqueue[aws]` from the built wheel against `cloudqueue[all]`:
  time and size on disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
UV_ENV = "UV"


def uv_command() -> str:
    """The pinned uv that make brought in ($UV, which make exports, or .tools/bin/uv)."""
    found = os.environ.get(UV_ENV) or str(REPO / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        raise FileNotFoundError(f"{found}: uv not found; run the bench with `make bench`, which brings uv in")
    return found


def work_tree_files(repo: Path = REPO) -> list[str]:
    """What a commit of the work tree would hold: tracked and untracked files, less what .gitignore ignores."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo, capture_output=True, text=True)
    if listed.returncode != 0:
        raise RuntimeError(f"{repo} is not a git checkout: the set-up figures copy what a clone of it holds ({listed.stderr.strip()})")
    listed = listed.stdout
    return sorted(name for name in set(listed.split("\0")) if name and (repo / name).is_file())


def fresh_copy(destination: Path, repo: Path = REPO) -> Path:
    """A copy of the work tree as a fresh clone would have it: no .venv, no .tools, no caches."""
    for name in work_tree_files(repo):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, target)
    return destination


def cold_environment(scratch: Path) -> dict[str, str]:
    """This environment with empty uv, pip and cloudqueue caches, and no uv, virtualenv or make state from the caller."""
    environment = {key: value for key, value in os.environ.items() if key not in {UV_ENV, "VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    for variable, folder in (("UV_CACHE_DIR", "uv-cache"), ("PIP_CACHE_DIR", "pip-cache"), ("CLOUDQUEUE_CACHE_DIR", "cloudqueue-cache")):
        environment[variable] = str(scratch / folder)
    return environment


def timed(command: list[str], cwd: Path, environment: dict[str, str], first_line: str | None = None) -> tuple[float, float | None]:
    """(seconds to exit, seconds to the first stdout line starting with `first_line`); raises on failure."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen, lines = None, []
    for line in process.stdout:
        lines.append(line)
        if seen is None and first_line and line.startswith(first_line):
            seen = time.perf_counter() - start
    process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} in {cwd} exited {process.returncode}:\n{''.join(lines[-30:])}")
    return time.perf_counter() - start, seen


@dataclass
class FreshTest:
    install_s: float
    """`make install` in the fresh copy: uv brought in, .venv filled."""
    suite_s: float
    """`make test` right after: the tests (and a uv sync with nothing to do)."""
    copy: Path
    """The copy it ran in, kept for the wheel build."""

    @property
    def test_s(self) -> float:
        return self.install_s + self.suite_s


def fresh_make_test(scratch: Path) -> FreshTest:
    tested = fresh_copy(scratch / "clone-test")
    environment = cold_environment(scratch / "test")
    install_s, _ = timed(["make", "install"], tested, environment)
    suite_s, _ = timed(["make", "test"], tested, environment)
    return FreshTest(install_s, suite_s, tested)


def fresh_make_plan(scratch: Path) -> tuple[float, float]:
    """(seconds to the plan's first line, seconds to its end) of `make plan STACK=dev` in another fresh copy."""
    planned = fresh_copy(scratch / "clone-plan")
    plan_s, first_line_s = timed(["make", "plan", "STACK=dev"], planned, cold_environment(scratch / "plan"), first_line="cloudqueue plan:")
    if first_line_s is None:
        raise RuntimeError("make plan STACK=dev printed no 'cloudqueue plan:' line")
    return first_line_s, plan_s


def locked_pins(scratch: Path) -> Path:
    """uv.lock's pins for the stack and the tests (every extra, the default groups), as a requirements file."""
    pins = scratch / "pins.txt"
    run([uv_command(), "export", "--frozen", "--all-extras", "--no-hashes", "--no-emit-project", "--quiet", "--output-file", str(pins)], cwd=REPO)
    return pins


def pin_count(pins: Path) -> int:
    return sum(1 for line in pins.read_text().splitlines() if "==" in line and not line.lstrip().startswith("#"))


def run(command: list[str], environment: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    """Run `command` quietly (pip warns about this machine's own index settings); its output only when it fails."""
    result = subprocess.run(command, env=environment, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}:\n{(result.stdout + result.stderr)[-3000:]}")


def pip_install_s(pins: Path, folder: Path, cache: Path) -> float:
    """A new virtualenv and `pip install -r pins` into it, with `cache` as pip's cache, timed."""
    environment = {**os.environ, "PIP_CACHE_DIR": str(cache), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    start = time.perf_counter()
    run([sys.executable, "-m", "venv", str(folder)], environment)
    run([str(folder / "bin" / "pip"), "install", "--quiet", "-r", str(pins)], environment)
    return time.perf_counter() - start


def cache_files(cache: Path) -> int:
    """How many files a package installer left in its cache."""
    return sum(1 for path in cache.rglob("*") if path.is_file()) if cache.exists() else 0


@dataclass
class PipFigures:
    cold_s: float
    warm_s: float | None
    """None when pip stored nothing in its cache, so a second run would download everything again."""


def pip_figures(pins: Path, scratch: Path) -> PipFigures:
    """pip into new virtualenvs: an empty cache, then the cache the first run filled.

    pip keeps a download only when the registry's response allows it (Cache-Control); where a proxy
    drops those headers pip stores nothing, and a "warm" run would be a second cold one.
    """
    cache = scratch / "pip-cache"
    cold_s = pip_install_s(pins, scratch / "pip-cold", cache)
    if not cache_files(cache / "http") and not cache_files(cache / "http-v2"):
        return PipFigures(cold_s, None)
    return PipFigures(cold_s, pip_install_s(pins, scratch / "pip-warm", cache))


def uv_install_s(requirements: list[str], venv: Path, cache: Path) -> float:
    """A new virtualenv and `uv pip install` into it, timed."""
    environment = {**os.environ, "UV_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    run([uv_command(), "venv", "--quiet", "--python", sys.executable, str(venv)], environment)
    run([uv_command(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *requirements], environment)
    return time.perf_counter() - start


def uv_figures(pins: Path, scratch: Path) -> tuple[float, float]:
    """(seconds with an empty cache, seconds with the cache the first run filled): uv installing the same pins."""
    cache = scratch / "uv-cache"
    return uv_install_s(["-r", str(pins)], scratch / "uv-cold", cache), uv_install_s(["-r", str(pins)], scratch / "uv-warm", cache)


def size_mb(folder: Path) -> float:
    """Bytes on disk under `folder` (allocated blocks, hard links counted once), in MB."""
    seen, total = set(), 0
    for root, _, files in os.walk(folder):
        for name in files:
            status = os.lstat(os.path.join(root, name))
            if (status.st_dev, status.st_ino) not in seen:
                seen.add((status.st_dev, status.st_ino))
                total += status.st_blocks * 512
    return total / 1e6


@dataclass
class WheelFigures:
    wheel_kb: float
    installs: dict[str, tuple[float, float, list[str]]]
    """extra -> (seconds, MB on disk of the virtualenv, the Azure and Google Cloud SDKs in it), each into
    a new virtualenv with an empty uv cache."""


def wheel_figures(source: Path, scratch: Path) -> WheelFigures:
    """Build the wheel from `source` (a fresh copy: setuptools writes build/ next to the sources) and install it."""
    run([uv_command(), "build", "--quiet", "--wheel", "--out-dir", str(scratch / "dist"), str(source)])
    (wheel,) = (scratch / "dist").glob("cloudqueue-*.whl")
    installs = {}
    for extra in ("aws", "all"):
        venv = scratch / f"wheel-{extra}"
        seconds = uv_install_s([f"cloudqueue[{extra}] @ {wheel.as_uri()}"], venv, scratch / f"uv-cache-{extra}")
        other_clouds = sorted(path.name for path in venv.glob("lib/python*/site-packages/*") if path.name in ("pulumi_azure_native", "pulumi_gcp"))
        installs[extra] = (seconds, size_mb(venv), other_clouds)
    return WheelFigures(wheel.stat().st_size / 1024, installs)


def scratch_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="cloudqueue-setup-"))


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"

