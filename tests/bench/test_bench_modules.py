"""The benchmark's own pieces: its modules import in one direction, and its set-up and stack figures
are computed from what they measure (the figures themselves are printed by `make bench`, never asserted)."""

from __future__ import annotations

import ast
import os
import subprocess

import setup_time
import stack_time
import workloads
from pulumi_mocks import REPO

BENCH = REPO / "bench"


def bench_imports() -> dict[str, set[str]]:
    """Module -> the bench modules it imports, anywhere in it (functions included)."""
    modules = {path.stem for path in BENCH.glob("*.py")}
    graph = {}
    for path in BENCH.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
        graph[path.stem] = imported & modules - {path.stem}
    return graph


def test_the_benchmark_modules_import_each_other_without_a_circle():
    graph = bench_imports()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import circle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
    assert graph["bench"] >= {"setup_time", "stack_time", "runtime_cost"}
    assert "bench" not in set().union(*graph.values())  # nothing imports the entry point


def test_a_fresh_copy_holds_tracked_and_untracked_files_but_nothing_git_ignores(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "--quiet"], cwd=repo, check=True)
    (repo / ".gitignore").write_text(".venv/\n.tools/\n")
    (repo / "tracked.py").write_text("x = 1\n")
    subprocess.run(["git", "add", ".gitignore", "tracked.py"], cwd=repo, check=True)
    (repo / "new.py").write_text("y = 2\n")  # not yet committed: a clone of the work tree would have it
    for ignored in (".venv/bin/python", ".tools/bin/uv"):
        (repo / ignored).parent.mkdir(parents=True, exist_ok=True)
        (repo / ignored).write_text("")
    (repo / "tracked.py").unlink()  # deleted in the work tree: gone from the copy too

    copy = setup_time.fresh_copy(tmp_path / "copy", repo)
    assert sorted(str(path.relative_to(copy)) for path in copy.rglob("*") if path.is_file()) == [".gitignore", "new.py"]


def test_a_cold_environment_has_empty_caches_of_its_own_and_no_uv_of_the_caller(tmp_path, monkeypatch):
    monkeypatch.setenv("UV", "/somewhere/uv")
    monkeypatch.setenv("MAKEFLAGS", "-j2")
    environment = setup_time.cold_environment(tmp_path)
    assert "UV" not in environment and "MAKEFLAGS" not in environment
    assert {environment[name] for name in ("UV_CACHE_DIR", "PIP_CACHE_DIR", "CLOUDQUEUE_CACHE_DIR")} == {
        str(tmp_path / "uv-cache"), str(tmp_path / "pip-cache"), str(tmp_path / "cloudqueue-cache")}
    assert environment["PATH"] == os.environ["PATH"]


def test_timed_reports_when_a_command_printed_its_first_line_and_fails_loudly(tmp_path):
    seconds, first = setup_time.timed(["sh", "-c", "sleep 0.1; echo 'cloudqueue plan: stack dev'; sleep 0.1"], tmp_path, dict(os.environ), "cloudqueue plan:")
    assert 0.08 < first < seconds and seconds >= 0.2
    try:
        setup_time.timed(["sh", "-c", "echo broken; exit 3"], tmp_path, dict(os.environ))
    except RuntimeError as error:
        assert "exited 3" in str(error) and "broken" in str(error)
    else:
        raise AssertionError("a failing command must raise")


def test_size_on_disk_counts_hard_linked_files_once(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 100_000)
    os.link(tmp_path / "a", tmp_path / "b")  # uv links installed files from its cache
    single = setup_time.size_mb(tmp_path)
    (tmp_path / "c").write_bytes(b"y" * 100_000)
    assert 0.09 < single < 0.2
    assert setup_time.size_mb(tmp_path) > single + 0.09


def test_the_pin_count_counts_pinned_lines_only(tmp_path):
    pins = tmp_path / "pins.txt"
    pins.write_text("# generated\npulumi==3.272.0\n    # via cloudqueue\npulumi-aws==7.51.1\n")
    assert setup_time.pin_count(pins) == 2


def test_the_cost_of_each_added_queue_comes_from_successive_stacks():
    rows = [stack_time.StackRow(None, 59, 0.3, 3.0), stack_time.StackRow(10, 374, 0.4, 8.0),
            stack_time.StackRow(50, 1814, 0.6, 28.0), stack_time.StackRow(100, 3614, 0.7, 53.0)]
    assert stack_time.marginal_ms_per_queue(rows) == [(10, 50, 500.0), (50, 100, 500.0)]


def test_a_generated_stack_validates_through_the_command_line_from_its_own_folder():
    folder = workloads.generated_project(2)
    seconds, printed = stack_time.cli_seconds(folder, "bench", "validate")
    assert seconds > 0
    assert printed.splitlines() == ["queues.q0: valid on aws, azure, gcp", "queues.q1: valid on aws, azure, gcp"]


def test_the_plans_resource_count_is_read_from_its_first_line():
    printed = "cloudqueue plan: stack bench of project cloudqueue, 3614 resources\nOffline plan from Pulumi's mock engine\n"
    assert stack_time.planned_resources(printed) == 3614
    try:
        stack_time.planned_resources("Traceback (most recent call last):")
    except RuntimeError as error:
        assert "no resource count" in str(error)
    else:
        raise AssertionError("a plan without its first line must raise")
