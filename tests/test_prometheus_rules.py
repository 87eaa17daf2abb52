"""monitor/alerting/prometheus_export.py: thresholds, template translation, refusals, the
CLI. The rules' behaviour is tested by promtool in tests/test_prometheus.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitor.alerting.kinds import Threshold
from monitor.alerting.prometheus_export import (
    SecretsNotNeeded,
    UnsupportedRule,
    duration,
    export_rules,
    translate,
)
from monitor.alerting.rules import parse_alert_rules
from monitor.cli import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("threshold", "interval", "expected"),
    [
        (Threshold(checks=3), 30.0, "1m"),
        (Threshold(checks=1), 30.0, "0s"),
        (Threshold(checks=2), 10.0, "10s"),
        (Threshold(seconds=300.0), 30.0, "5m"),
        (Threshold(checks=3, seconds=10.0), 30.0, "1m"),  # both must hold: the longer
        (Threshold(checks=3, seconds=300.0), 30.0, "5m"),
    ],
)
def test_thresholds_become_durations(threshold: Threshold, interval: float, expected: str) -> None:
    assert duration(threshold, interval) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{service} is down", "{{ $labels.service }} is down"),
        ("{{literal}} {check}", "{literal} {{ $labels.check }}"),
        ("{team}{runbook}", ""),  # not in the metrics: empty, as the daemon renders None
    ],
)
def test_templates_translate(template: str, expected: str) -> None:
    fields = {"service": "{{ $labels.service }}", "check": "{{ $labels.check }}"}
    assert translate(template, fields) == expected


def test_match_labels_is_refused_not_widened() -> None:
    config = parse_alert_rules(
        """
route: [log]
receivers: [{name: log, type: log}]
rules:
  - {name: EdgeDown, kind: status, match: {labels: {tier: edge}}}
""",
        env=SecretsNotNeeded(),
    ).config
    with pytest.raises(UnsupportedRule, match=r"EdgeDown: match\.labels"):
        export_rules(config)


def test_every_shipped_rule_is_exported_with_its_name_and_severity() -> None:
    shipped = parse_alert_rules((ROOT / "alerts.yaml").read_text(), env=SecretsNotNeeded())
    groups = export_rules(shipped.config)["groups"]
    alerts = {r["alert"]: r for r in groups[1]["rules"]}
    assert list(alerts) == [r.name for r in shipped.config.rules]
    for rule in shipped.config.rules:
        assert alerts[rule.name]["labels"]["severity"] == rule.severity
    assert alerts["CoreServiceDown"]["for"] == "1m"
    assert 'service=~"do-gateway|do-db|auth|deploy|dispatcher"' in alerts["CoreServiceDown"]["expr"]
    records = {r["record"] for r in groups[0]["rules"]}
    assert "check:monitor_checks_bad:ratio_rate6h" in records  # the slow burn's long window


def test_cli_writes_to_stdout_and_refuses_a_bad_file(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["rules", "export", "--alerts", str(ROOT / "alerts.yaml")])
    assert out.exit_code == 0, out.output
    assert yaml.safe_load(out.output)["groups"][1]["name"] == "monitor-alerts"
    bad = tmp_path / "alerts.yaml"
    bad.write_text("rules: [{name: X, kind: nope}]\n")
    refused = runner.invoke(cli, ["rules", "export", "--alerts", str(bad)])
    assert refused.exit_code == 2
    assert "monitor rules export" in refused.output
