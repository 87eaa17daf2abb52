"""Every third-party distribution that `monitor/` imports is declared in pyproject.toml (the
package's dependencies, or the `fast` extra for the optional loop), and every one the tests import
is in the `test` extra: an undeclared import works here only because something else pulled it in."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _name(requirement: str) -> str:
    """PEP 503 normalized name of a requirement such as `PyYAML>=6.0; sys_platform != 'x'`."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group()).lower()


def imported_distributions(folder: str, own: set[str]) -> dict[str, set[str]]:
    """Distribution name -> the files of `folder` that import one of its top-level modules."""
    dists = packages_distributions()
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top in sys.stdlib_module_names or top in own:
                    continue
                for dist in dists.get(top, [top]):
                    found.setdefault(_name(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_package_import_is_declared() -> None:
    declared = {_name(r) for r in PROJECT["dependencies"]}
    declared |= {_name(r) for r in PROJECT["optional-dependencies"]["fast"]}
    used = imported_distributions("monitor", {"monitor"})
    missing = {d: sorted(files) for d, files in used.items() if d not in declared}
    assert not missing, f"imported by monitor/ but not declared in pyproject.toml: {missing}"


def test_every_test_import_is_declared() -> None:
    declared = {_name(r) for r in PROJECT["dependencies"]}
    declared |= {_name(r) for r in PROJECT["optional-dependencies"]["test"]}
    used = imported_distributions("tests", {"monitor", "tests"})
    missing = {d: sorted(files) for d, files in used.items() if d not in declared}
    assert not missing, f"imported by tests/ but not in the test extra: {missing}"
