"""The package's layout: the library never imports its tools, and no modules import each other in a circle.

Read from the source with `ast` (every import, at the top of a module or inside a function: a
function-level import closes a circle as surely as a top-level one, only later).
"""

from __future__ import annotations

import ast
from pathlib import Path

from pulumi_mocks import REPO

PACKAGE = REPO / "components"
"""The folder that installs as `cloudqueue`."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(("cloudqueue", *(parts[:-1] if parts[-1] == "__init__" else parts)))


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str) -> set[str]:
    """The package's modules that module `name` imports, relative imports resolved."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from pkg import name`: the submodule pkg.name when there is one, else pkg itself.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            target = "cloudqueue" + target[len("components") :] if target.split(".")[0] == "components" else target
            # `import pkg.mod` also names pkg, which a submodule of pkg imports anyway: only the named module counts.
            if target in MODULES and target != name:
                found.add(target)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_library_never_imports_the_tools():
    tools = {name for name in MODULES if name == "cloudqueue.tools" or name.startswith("cloudqueue.tools.")}
    # `python -m cloudqueue` is the command's entry point, not a module the library imports.
    library = [name for name in MODULES if name not in tools and name != "cloudqueue.__main__"]
    assert len(tools) >= 8 and "cloudqueue.spec.validate" in library
    offending = {name: sorted(imported(name) & tools) for name in library if imported(name) & tools}
    assert offending == {}


def test_no_modules_of_the_package_import_each_other_in_a_circle():
    graph = {name: imported(name) for name in MODULES}
    assert graph["cloudqueue.spec.validate"] >= {"cloudqueue.spec.rules", "cloudqueue.artifact"}  # the reader sees relative imports
    assert circles(graph) == []


def test_the_circle_finder_finds_a_circle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
