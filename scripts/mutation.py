"""Mutation testing of the pure core, one module at a time with only that module's tests.

`scripts/mutation` runs this with the project's virtualenv. For each module it copies the
package, the tests and pyproject.toml into a scratch directory, narrows `[tool.mutmut]` to
that module and its tests, runs `mutmut run` there (niced: the machine is shared), and prints
`killed/tested score%` per module, then the survivors by name (`mutmut show NAME` in the
scratch directory printed with them shows the diff). Nothing is written into the work tree.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Not test_normalize_properties.py: every normalize test reaches every parser, so each
# surviving mutant runs the whole selection, and the property test alone takes seconds.
NORMALIZE_TESTS = [
    "tests/test_normalize.py",
    "tests/test_normalize_boundaries.py",
    "tests/test_normalize_edges.py",
    "tests/test_normalize_http_status_edges.py",
    "tests/test_normalize_reported_edges.py",
    "tests/test_normalize_findings_edges.py",
    "tests/test_normalize_evidence_edges.py",
    "tests/test_normalize_text_table_edges.py",
    "tests/test_normalize_scrubbed_edges.py",
    "tests/test_normalize_body_edges.py",
    "tests/test_normalize_standby_edges.py",
    "tests/test_normalize_health_json_edges.py",
    "tests/test_normalize_spring_edges.py",
    "tests/test_normalize_plain_text_edges.py",
    "tests/test_normalize_html_page_edges.py",
    "tests/test_normalize_generic_json_edges.py",
    "tests/test_normalize_cloudflare_edges.py",
    "tests/test_normalize_explain_edges.py",
    "tests/test_normalize_vocabulary_edges.py",
]

# Every kind goes through evaluate.py and _base.py: each kind's edge file speaks for them too.
KIND_TESTS = [
    "tests/test_kind_burn_rate_edges.py",
    "tests/test_kind_flapping_edges.py",
    "tests/test_kind_latency_edges.py",
    "tests/test_kind_base_edges.py",
]

# The kinds' private helpers, read alone with the kinds' tests that reach them.
KIND_HELPER_TESTS = {
    "monitor/alerting/kinds/_lag.py": [
        "tests/test_kind_lag_edges.py",
        "tests/test_kind_latency_edges.py",
        "tests/test_rule_kinds.py",
    ],
    "monitor/alerting/kinds/_checks.py": [
        "tests/test_kind_checks_edges.py",
        "tests/test_kind_latency_edges.py",
        "tests/test_kind_burn_rate_edges.py",
        "tests/test_rule_kinds.py",
    ],
    "monitor/alerting/kinds/_promql.py": [
        "tests/test_kind_promql_edges.py",
        "tests/test_kind_latency_edges.py",
        "tests/test_kind_burn_rate_edges.py",
        "tests/test_kind_flapping_edges.py",
        "tests/test_rule_kinds_edges.py",
        "tests/test_prometheus_rules.py",
    ],
}

CONFIG_TESTS = [
    "tests/test_config.py",
    "tests/test_config_refusals.py",
    "tests/test_config_loading.py",
    "tests/test_config_fields_edges.py",
    "tests/test_config_service_edges.py",
    "tests/test_config_checks_edges.py",
    "tests/test_config_cross_check_edges.py",
    "tests/test_config_yaml_lines_edges.py",
]

# The pure core (issue 14) and the tests that speak for each module: small and without real
# binaries or subprocesses, so that every mutant runs in seconds.
CORE: dict[str, list[str]] = {
    "monitor/durations.py": ["tests/test_durations.py", "tests/test_config.py"],
    "monitor/state.py": [
        "tests/test_state.py",
        "tests/test_state_edges.py",
        "tests/test_first_round.py",
    ],
    "monitor/status.py": [
        "tests/test_state.py",
        "tests/test_status_document.py",
        "tests/test_status_edges.py",
    ],
    "monitor/slo.py": ["tests/test_slo.py", "tests/test_slo_edges.py"],
    "monitor/latency.py": [
        "tests/test_latency.py",
        "tests/test_latency_edges.py",
        "tests/test_slo.py",
    ],
    "monitor/server_timing.py": [
        "tests/test_server_timing.py",
        "tests/test_server_timing_edges.py",
    ],
    **{str(p.relative_to(ROOT)): CONFIG_TESTS for p in sorted(ROOT.glob("monitor/config/*.py"))},
    **{
        str(p.relative_to(ROOT)): NORMALIZE_TESTS
        for p in sorted(ROOT.glob("monitor/normalize/*.py"))
    },
    "monitor/alerting/rules.py": [
        "tests/test_alerting_rules_edges.py",
        "tests/test_alerting_rules.py",
        "tests/test_config_refusals.py",
    ],
    "monitor/alerting/state.py": [
        "tests/test_alerting_state_edges.py",
        "tests/test_alerting_rules.py",
        "tests/test_alerting_fingerprint.py",
        "tests/test_alerting_silences.py",
        "tests/test_alerting_dependencies.py",
    ],
    "monitor/alerting/silences.py": [
        "tests/test_alerting_silences.py",
        "tests/test_alerting_silences_edges.py",
    ],
    "monitor/alerting/dependencies.py": [
        "tests/test_alerting_dependencies.py",
        "tests/test_alerting_dependencies_edges.py",
    ],
    "monitor/runtime/first_round.py": ["tests/test_first_round.py"],
    "monitor/fleet/sharding.py": [
        "tests/test_sharding.py",
        "tests/test_sharding_golden.py",
    ],
    "monitor/alerting/grouping.py": [
        "tests/test_alerting_grouping.py",
        "tests/test_alerting_grouping_edges.py",
    ],
    "monitor/alerting/maintenance.py": [
        "tests/test_alerting_maintenance_edges.py",
        "tests/test_alerting_maintenance.py",
    ],
    "monitor/alerting/evaluate.py": [
        "tests/test_alerting_rules.py",
        "tests/test_rule_kinds.py",
        "tests/test_alerting_evaluate_edges.py",
        *KIND_TESTS,
    ],
    **{
        str(p.relative_to(ROOT)): [
            "tests/test_rule_kinds.py",
            "tests/test_rule_kinds_edges.py",
            "tests/test_alerting_rules.py",
            *KIND_TESTS,
        ]
        for p in sorted(ROOT.glob("monitor/alerting/kinds/*.py"))
        if str(p.relative_to(ROOT)) not in KIND_HELPER_TESTS
    },
    **KIND_HELPER_TESTS,
    "monitor/fleet/merge.py": ["tests/test_merge.py", "tests/test_merge_edges.py"],
    "monitor/gate/verdict.py": ["tests/test_gate.py", "tests/test_gate_verdict_edges.py"],
    "monitor/web/history.py": ["tests/test_history.py", "tests/test_history_edges.py"],
    "monitor/web/timeline.py": [
        "tests/test_timeline_edges.py",
        "tests/test_web_summary.py",
        "tests/test_web_view.py",
    ],
}


ALSO_COPY = ["alerts.yaml", "examples"]
"""Files and folders of the repository the selected tests read (test_alerting_rules checks
the shipped rules, test_config_loading the example config): copied into the scratch
directory and, through `also_copy`, into mutmut's."""

KILLED = ("killed", "timeout", "caught by type check")
"""mutmut's outcomes that count as a kill (a timeout is a mutant that looped: the test noticed)."""


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def _narrowed_pyproject(module: str, tests: list[str]) -> str:
    """pyproject.toml with `[tool.mutmut]` pointed at one module and its tests."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    settings = tomllib.loads(text)["tool"]["mutmut"]
    settings["only_mutate"] = [module]
    settings["pytest_add_cli_args_test_selection"] = tests
    settings["also_copy"] = ALSO_COPY
    lines = ["[tool.mutmut]"]
    for key, value in settings.items():
        if isinstance(value, list):
            lines.append(f"{key} = {_toml_list(value)}")
        elif isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        else:
            lines.append(f"{key} = {value}")
    section = re.compile(r"^\[tool\.mutmut\]\n(?:(?!\[).*\n?)*", re.MULTILINE)
    return section.sub("\n".join(lines) + "\n\n", text)


def run_module(module: str, tests: list[str], keep: Path | None) -> tuple[int, int, list[str]]:
    """Mutate one module; (killed, tested, survivor names)."""
    scratch = Path(tempfile.mkdtemp(prefix="mutation-", dir=keep))
    shutil.copytree(
        ROOT / "monitor", scratch / "monitor", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "tests", scratch / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    (scratch / "pyproject.toml").write_text(_narrowed_pyproject(module, tests), encoding="utf-8")
    for name in ALSO_COPY:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, scratch / name)
        else:
            shutil.copy2(ROOT / name, scratch / name)
    mutmut = [sys.executable, "-m", "mutmut"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run(
        ["nice", "-n", "10", *mutmut, "run", "--max-children", "1"],
        cwd=scratch,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    listing = subprocess.run(
        [*mutmut, "results", "--all", "true"],
        cwd=scratch,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    outcomes = dict(line.strip().rsplit(": ", 1) for line in listing.splitlines() if ": " in line)
    tested = [name for name, status in outcomes.items() if status not in ("skipped", "not checked")]
    killed = [
        name for name in tested if outcomes[name] in ("killed", "timeout", "caught by type check")
    ]
    survivors = sorted(f"{name} ({outcomes[name]})" for name in tested if name not in set(killed))
    if keep is None:
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        print(f"  kept in {scratch}", flush=True)
    return len(killed), len(tested), survivors


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="modules of the core (default: all of it)")
    parser.add_argument("--keep", type=Path, help="keep the scratch directories under this one")
    args = parser.parse_args(argv)
    wanted = [str(Path(p)) for p in args.paths] or list(CORE)
    unknown = [p for p in wanted if p not in CORE]
    if unknown:
        print(f"not in the mutation-tested core: {', '.join(unknown)}", file=sys.stderr)
        print(f"the core: {', '.join(CORE)}", file=sys.stderr)
        return 2
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    failing = 0
    for module in wanted:
        killed, tested, survivors = run_module(module, CORE[module], args.keep)
        if not tested:  # mutmut stops before mutating when the tests fail unmutated
            failing += 1
            print(f"{module}: nothing tested: do its tests pass? (--keep, then mutmut run)")
            continue
        score = 100.0 * killed / tested
        failing += score < 90.0
        print(f"{module}: {killed}/{tested} killed, {score:.1f}%", flush=True)
        for name in survivors:
            print(f"  survived: {name}", flush=True)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
