"""Every command's exit codes come from `ExitCode`, defined once: CI steps branch on them.

Each command is driven with the inputs that make it exit, and the code it exits with must be
the `ExitCode` the command documents; a source check keeps literal exit numbers out of cli/
and gate/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import monitor
from monitor.cli import cli
from monitor.exit_codes import ExitCode

GOOD = "services:\n  - name: a\n    url: http://127.0.0.1:1\n"
BAD = GOOD + "    colour: red\n"
BAD_ALERTS = "rules:\n  - name: X\n    kind: status\n    route: [nowhere]\n"
UNREACHABLE = "http://127.0.0.1:1"  # port 1 on loopback: refused at once, nothing leaves

CASES = [
    ("config check good.yaml", ExitCode.OK),
    ("config check good.yaml bad.yaml", ExitCode.USAGE_OR_CONFIG),
    ("config check missing.yaml", ExitCode.USAGE_OR_CONFIG),
    ("schema", ExitCode.OK),
    ("run --config bad.yaml", ExitCode.USAGE_OR_CONFIG),
    ("run --config missing.yaml", ExitCode.USAGE_OR_CONFIG),
    ("run --config good.yaml --alerts alerts.yaml", ExitCode.USAGE_OR_CONFIG),
    ("run --config good.yaml --listen nowhere", ExitCode.USAGE_OR_CONFIG),
    ("run --config good.yaml --shard 3/2", ExitCode.USAGE_OR_CONFIG),
    ("verify", ExitCode.USAGE_OR_CONFIG),
    ("verify --config bad.yaml", ExitCode.USAGE_OR_CONFIG),
    (f"verify --from {UNREACHABLE}", ExitCode.USAGE_OR_CONFIG),
    (f"verify --from {UNREACHABLE} --samples 3", ExitCode.USAGE_OR_CONFIG),
    ("discover empty", ExitCode.USAGE_OR_CONFIG),
    ("discover missing", ExitCode.USAGE_OR_CONFIG),
    ("rules export --alerts alerts.yaml", ExitCode.USAGE_OR_CONFIG),
    ("rules export --alerts missing.yaml", ExitCode.USAGE_OR_CONFIG),
    ("rules export --interval never", ExitCode.USAGE_OR_CONFIG),
    (f"status --from {UNREACHABLE} --timeout 1s", ExitCode.GATE_FAILED),
    (f"status --from {UNREACHABLE} --timeout never", ExitCode.USAGE_OR_CONFIG),
    (f"status --from {UNREACHABLE} --config bad.yaml", ExitCode.USAGE_OR_CONFIG),
    ("demo --once --fleet-port 0 --interval never", ExitCode.USAGE_OR_CONFIG),
    ("no-such-command", ExitCode.USAGE_OR_CONFIG),
]


@pytest.mark.parametrize(("line", "code"), CASES, ids=[c[0] for c in CASES])
def test_each_command_exits_with_its_exit_code(
    line: str, code: ExitCode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(BAD)
    (tmp_path / "alerts.yaml").write_text(BAD_ALERTS)
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, line.split(), catch_exceptions=False)
    assert result.exit_code == code, result.output


def test_clicks_usage_errors_exit_with_our_usage_code() -> None:
    """Click answers bad flags itself; its code must be the one we document for bad usage."""
    assert click.UsageError("x").exit_code == ExitCode.USAGE_OR_CONFIG
    assert click.BadParameter("x").exit_code == ExitCode.USAGE_OR_CONFIG


def _literal_exits(tree: ast.Module) -> list[int]:
    """Lines that exit with, or return from an exit-code function, a bare number."""
    found: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"exit", "SystemExit", "Exit"} and isinstance(node.args[0], ast.Constant):
                found.append(node.lineno)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            if "ExitCode" not in ast.unparse(node.returns):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and isinstance(inner.value, ast.Constant):
                    found.append(inner.lineno)
    return found


@pytest.mark.parametrize("folder", ["cli", "gate"])
def test_no_literal_exit_numbers(folder: str) -> None:
    root = Path(monitor.__file__).parent / folder
    found = {
        f"{path.name}:{line}"
        for path in sorted(root.glob("*.py"))
        for line in _literal_exits(ast.parse(path.read_text()))
    }
    assert not found


def test_the_literal_exit_check_catches_one() -> None:
    tree = ast.parse(
        "import sys\ndef f() -> ExitCode:\n    return 2\nsys.exit(1)\nraise SystemExit(2)\n"
    )
    assert sorted(_literal_exits(tree)) == [3, 4, 5]
