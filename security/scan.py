"""Scan what the stacks register with Checkov: `make scan` (or `python security/scan.py [STACK ...]`).

Runs `__main__.py` on the realistic mocks (update mode) for the dev and prod stacks and for
`security/Pulumi.all-options.yaml`, records every provider resource with its inputs, and hands
the record to the shared `checkov-scan` tool (CHECKOV_SCAN, default
../shared/tools/checkov-scan/run), which converts it to a Terraform plan (aws, gcp) and an ARM
template (azure-native) and runs Checkov. Then every failed check is looked up in README.md's
"Security scan" table: a finding that the table does not explain, or that it marks as fixed,
fails the scan (exit 1). Prints passed and failed counts per stack.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STACK_FILES = {"dev": None, "prod": None, "all-options": REPO / "security" / "Pulumi.all-options.yaml"}
DEFAULT_TOOL = REPO.parent / "shared" / "tools" / "checkov-scan" / "run"
# README table rows: | CKV_AWS_117 | what it asks | Opt-in: ... | ...
_ROW = re.compile(r"^\|\s*(CKV2?_[A-Z]+_\d+)\s*\|[^|]*\|\s*([^|]+?)\s*\|")


def documented() -> dict[str, str]:
    """Check id -> its status in README.md's security table (Fixed, Opt-in or Not applicable)."""
    rows = {}
    for line in (REPO / "README.md").read_text().splitlines():
        match = _ROW.match(line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def _plain(value):
    import pulumi

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "__provider"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (pulumi.Asset, pulumi.Archive)):
        return {"__archive__": getattr(value, "path", "")}
    return value


def record(stack: str) -> list[dict]:
    """The provider resources `__main__.py` registers for `stack`, with their camelCase inputs."""
    from components.cli import read_stack_config
    from components.mocks import Engine
    from components.plan import run_stack_program

    engine = Engine(preview=False, stack=stack)  # update mode: every output is known, as after `pulumi up`
    run_stack_program(engine, REPO, read_stack_config(REPO, stack, STACK_FILES.get(stack)))
    return [{"type": r.type, "name": r.name, "inputs": _plain(r.inputs)} for r in engine.all() if r.custom]


def scan(stack: str, tool: Path, out: Path) -> dict:
    recording = out / f"{stack}.json"
    recording.write_text(json.dumps({"resources": record(stack)}))
    result = subprocess.run([str(tool), str(recording), str(out / stack)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stacks", nargs="*", default=list(STACK_FILES))
    parser.add_argument("--out", type=Path, default=None, help="where recordings, converted files and reports go")
    args = parser.parse_args(argv)
    tool = Path(os.environ.get("CHECKOV_SCAN", DEFAULT_TOOL))
    if not tool.exists():
        print(f"scan: {tool} not found; set CHECKOV_SCAN to the checkov-scan tool's run script", file=sys.stderr)
        return 2
    out = args.out or Path(tempfile.mkdtemp(prefix="cloudqueue-scan-"))
    out.mkdir(parents=True, exist_ok=True)
    table = documented()
    problems = []
    for stack in args.stacks:
        result = scan(stack, tool, out)
        failed = result["failed"]
        print(f"{stack}: {result['passed']} passed, {len(failed)} failed "
              f"({result['resources']['terraform']} Terraform-plan and {result['resources']['arm']} ARM resources)")
        for check, count in sorted(Counter(check for check, _, _ in failed).items()):
            status = table.get(check)
            print(f"  {check} x{count}: {status or 'NOT IN THE README TABLE'}")
            if status is None or status.lower() == "fixed":
                problems.append(f"{stack}: {check} fails but README.md's security table {'says it is fixed' if status else 'does not explain it'}")
        problems.extend(f"{stack}: checkov error: {error}" for error in result.get("errors", []))
    print(f"reports: {out}")
    for problem in problems:
        print(f"scan: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
