"""The package's layout, checked from the source without importing it: no import cycles, a
short top level (shared domain modules only; every feature has its folder), and README's
layout map naming exactly the modules and folders that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "monitor"
MAX_TOP_LEVEL_MODULES = 15  # besides __init__ and __main__


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Every module of the package -> the package's modules it imports (anywhere in the file,
    type-checking imports included: a cycle there is a tangle even if Python tolerates it)."""
    files = {module_name(p, package.parent): p for p in sorted(package.rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor if is_package else anchor[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                while target and target not in files:  # `import monitor.x.y` as attribute
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan; the package is small enough for recursion
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_within(set(c), graph) for c in components]


def _cycle_within(members: set[str], graph: dict[str, set[str]]) -> list[str]:
    start = min(members)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first: the shortest way back to start
        nxt = []
        for node in frontier:
            for successor in sorted(graph[node] & members):
                if successor == start:
                    return [*paths[node], start]
                if successor not in paths:
                    paths[successor] = [*paths[node], successor]
                    nxt.append(successor)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")  # unreachable for a real component


def test_the_package_has_no_import_cycle() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_cycle_finder_names_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "monitor"
    (pkg / "http").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "http" / "__init__.py").write_text("")
    (pkg / "http" / "app.py").write_text("from monitor.http import api\n")
    (pkg / "http" / "api.py").write_text("def f():\n    from .app import build\n")
    (pkg / "alone.py").write_text("import monitor.http.app\nimport http\n")
    graph = import_graph(pkg)
    assert graph["monitor.alone"] == {"monitor.http.app"}  # stdlib http is not the package
    assert find_cycles(graph) == [["monitor.http.api", "monitor.http.app", "monitor.http.api"]]


def test_the_top_level_holds_only_a_few_shared_modules() -> None:
    modules = sorted(
        p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")
    )
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, (
        f"{len(modules)} top-level modules (at most {MAX_TOP_LEVEL_MODULES}): give the feature "
        f"a folder instead. {modules}"
    )


def layout_map(readme: str) -> set[str]:
    """The names README's layout block gives under `monitor/`. An entry line (two spaces in)
    names top-level modules (`config.py`) and folders (`cli/`); the lines below a folder, and
    the rest of its entry line, name that folder's modules (`run.py` there is `cli/run.py`)."""
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    inside = block.split("\nmonitor/\n", 1)[1]
    names: set[str] = set()
    folder = ""
    for line in inside.splitlines():
        if line and not line.startswith(" "):
            break  # the next top-level entry (dashboards/, tests/, ...)
        if line.startswith("  ") and not line.startswith("   "):
            entry, _, line = line.strip().partition("  ")
            if entry.endswith("/"):
                folder = entry
                names.add(entry)
            else:
                folder = ""
                names.add(entry)
        for name in re.findall(r"(?<![\w/.-])([a-z_]+\.py|[a-z_]+/)(?![\w.-])", line):
            if folder and name.endswith(".py"):
                names.add(folder + name)
            elif not folder and name.endswith(".py"):
                names.add(name)
    return names


def package_tree() -> set[str]:
    """Top-level modules and folders, and the public modules of each folder."""
    found: set[str] = set()
    for path in PACKAGE.iterdir():
        if path.suffix == ".py" and path.name != "__init__.py":
            found.add(path.name)
        elif (path / "__init__.py").exists():
            found.add(f"{path.name}/")
            found.update(
                f"{path.name}/{p.name}"
                for p in path.glob("*.py")
                if p.name != "__init__.py" and not p.name.startswith("_")
            )
    return found


def test_readme_layout_map_matches_the_tree() -> None:
    described = layout_map((ROOT / "README.md").read_text(encoding="utf-8"))
    tree = package_tree()
    assert not tree - described, f"in monitor/ but not in README's layout map: {tree - described}"
    assert not described - tree, f"in README's layout map but not in monitor/: {described - tree}"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["  config.py  errors.py   the domain"], {"config.py", "errors.py"}),
        (["  cli/        run.py demo.py: commands"], {"cli/", "cli/run.py", "cli/demo.py"}),
        (
            ["  gate/       verdict.py (docs/deploy-gate.md)", "      rounds.py"],
            {"gate/", "gate/verdict.py", "gate/rounds.py"},
        ),
        (
            ["  web/        templates/ view.py", "  logs.py   structlog"],
            {"web/", "web/view.py", "logs.py"},
        ),
    ],
)
def test_layout_map_reads_names_not_doc_paths(lines: list[str], expected: set[str]) -> None:
    body = "\n".join(lines)
    readme = f"## Layout\n\n```\nmonitor/\n{body}\ntests/   x.py\n```\n"
    assert layout_map(readme) == expected
