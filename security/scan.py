"""Scan what the stacks register with Checkov: `make scan` (or `CHECKOV=<checkov> python security/scan.py [STACK ...]`).

Runs `__main__.py` on the realistic mocks (update mode) for the dev and prod stacks and for
`security/Pulumi.all-options.yaml`, records every provider resource with its inputs and outputs,
converts the record (security/convert.py) into a Terraform plan (pulumi-aws, pulumi-gcp) and an
ARM template (azure-native), and runs Checkov on both. Then every failed check is looked up in
docs/security-scan.md's table: a finding that the table does not explain, or that it marks as
fixed, fails the scan (exit 1), and so does a resource type that convert.py cannot convert.
Prints passed and failed counts per stack. `make scan` installs the pinned Checkov itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from security.convert import convert  # noqa: E402 - after the repository is on the path

STACK_FILES = {"dev": None, "prod": None, "all-options": REPO / "security" / "Pulumi.all-options.yaml"}
CHECKOV_ENV = "CHECKOV"
# docs/security-scan.md table rows: | CKV_AWS_117 | what it asks | Opt-in: ... | ...
_ROW = re.compile(r"^\|\s*(CKV2?_[A-Z]+_\d+)\s*\|[^|]*\|\s*([^|]+?)\s*\|")


@dataclass
class Findings:
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    """(check id, resource, check name) per failed check."""
    passed: list[tuple[str, str]] = field(default_factory=list)
    """(check id, resource) per passed check."""
    errors: list[str] = field(default_factory=list)


def documented() -> dict[str, str]:
    """Check id -> its status in docs/security-scan.md's table (Fixed, Opt-in or Not applicable)."""
    rows = {}
    for line in (REPO / "docs" / "security-scan.md").read_text().splitlines():
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
    """The provider resources `__main__.py` registers for `stack`: camelCase inputs, and outputs for the physical names."""
    from components.tools.cli import read_stack_config
    from components.tools.mocks import Engine
    from components.tools.plan import run_stack_program

    engine = Engine(preview=False, stack=stack)  # update mode: every output is known, as after `pulumi up`
    run_stack_program(engine, REPO, read_stack_config(REPO, stack, STACK_FILES.get(stack)))
    return [{"type": r.type, "name": r.name, "inputs": _plain(r.inputs), "outputs": _plain(r.outputs)} for r in engine.all() if r.custom]


def checkov_command() -> str | None:
    """$CHECKOV (make scan sets it to the pinned install), else a `checkov` on PATH."""
    return os.environ.get(CHECKOV_ENV) or shutil.which("checkov")


def run_checkov(checkov: str, path: Path, framework: str) -> Findings:
    """Checkov's JSON report on one file. --skip-download: the scan needs no network and no account."""
    result = subprocess.run(
        [checkov, "--file", str(path), "--framework", framework, "--output", "json", "--compact", "--skip-download"],
        capture_output=True, text=True, timeout=600,
    )
    findings = Findings()
    if not result.stdout.strip():
        findings.errors.append(f"{framework}: Checkov wrote no report (exit {result.returncode}): {result.stderr.strip()[-400:]}")
        return findings
    (path.parent / f"{path.stem}.checkov.json").write_text(result.stdout)
    reports = json.loads(result.stdout)
    for report in reports if isinstance(reports, list) else [reports]:
        results = report.get("results") or {}
        findings.passed += [(p["check_id"], p.get("resource", "")) for p in results.get("passed_checks") or []]
        findings.failed += [(f["check_id"], f.get("resource", ""), f.get("check_name", "")) for f in results.get("failed_checks") or []]
    return findings


def scan_resources(resources: list[dict], checkov: str, out: Path) -> tuple[Findings, dict]:
    """Convert `resources`, write plan.json and template.json into `out`, and run Checkov on each that has resources."""
    out.mkdir(parents=True, exist_ok=True)
    converted = convert(resources)
    findings = Findings(errors=[f"no conversion for {token} ({name}): add it to security/convert.py" for token, name in converted.unknown])
    jobs = []
    for content, count, filename, framework in (
        (converted.plan, converted.terraform_count, "plan.json", "terraform_plan"),
        (converted.template, converted.arm_count, "template.json", "arm"),
    ):
        if count:
            (out / filename).write_text(json.dumps(content, indent=1))
            jobs.append((out / filename, framework))
    # One Checkov process per file, side by side: each spends most of its time loading its checks.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for found in pool.map(lambda job: run_checkov(checkov, *job), jobs):
            findings.failed += found.failed
            findings.passed += found.passed
            findings.errors += found.errors
    return findings, {"terraform": converted.terraform_count, "arm": converted.arm_count}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stacks", nargs="*", default=list(STACK_FILES))
    parser.add_argument("--out", type=Path, default=None, help="where recordings, converted files and reports go")
    args = parser.parse_args(argv)
    checkov = checkov_command()
    if not checkov:
        print(f"scan: Checkov not found; run `make scan` (it installs the pinned Checkov) or set {CHECKOV_ENV}", file=sys.stderr)
        return 2
    out = args.out or Path(tempfile.mkdtemp(prefix="cloudqueue-scan-"))
    table = documented()
    problems = []
    for stack in args.stacks:
        resources = record(stack)
        (out / stack).mkdir(parents=True, exist_ok=True)
        (out / stack / "recorded.json").write_text(json.dumps({"resources": resources}, indent=1, default=str))
        findings, counts = scan_resources(resources, checkov, out / stack)
        print(f"{stack}: {len(findings.passed)} passed, {len(findings.failed)} failed "
              f"({counts['terraform']} Terraform-plan and {counts['arm']} ARM resources)")
        for check, count in sorted(Counter(check for check, _, _ in findings.failed).items()):
            status = table.get(check)
            print(f"  {check} x{count}: {status or 'NOT IN docs/security-scan.md'}")
            if status is None or status.lower() == "fixed":
                where = ", ".join(sorted({resource for found, resource, _ in findings.failed if found == check}))
                problems.append(f"{stack}: {check} fails on {where} but docs/security-scan.md {'says it is fixed' if status else 'does not explain it'}")
        problems.extend(f"{stack}: {error}" for error in findings.errors)
    print(f"reports: {out}")
    for problem in problems:
        print(f"scan: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
