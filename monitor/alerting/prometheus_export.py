"""`monitor rules export`: alerts.yaml as a Prometheus rules file, for teams that alert in
Prometheus + Alertmanager instead of in the daemon (docs/prometheus.md: page from one side only).

Pure: alerts.yaml models in, a rules document out. Recording rules compute p95 and burn rates
from the counters and histograms the daemon exports, so they work over any window Prometheus
keeps (the daemon's own gauges cover only its 1m/5m/1h windows):

- the slow share is read at the histogram bucket whose `le` equals the check's target: the
  target series carries it as `bucket`, and a lean check's bounds always include its target (a
  `metrics: detailed` check's fleet-wide bounds hold 5 ms and 50 ms; another target gets no
  slow share in Prometheus, the daemon still judges it);
- a check is bad when it failed (status not healthy) or was slower than its target, as in the
  daemon's `burn_rate` rule; the two shares are added (capped at 1), which counts a check both
  failed and slow twice: the error is on the side of paging early.

Thresholds written as a number of checks (`for: 3`) become durations: N checks take N - 1
intervals after the first failing one, so `for: 3` at a 30 s interval is `for: 1m`. The daemon
re-checks a failing service at its fast interval and pages sooner; Prometheus cannot.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from monitor.alerting.kinds import (
    CHECK,
    P95,
    UnsupportedRule,
    duration,
    kind_of,
    recording_rules,
)
from monitor.alerting.rules import AlertsConfig, Rule
from monitor.alerting.template import render

RECORDED_WINDOWS = (300.0, 1800.0, 3600.0, 21600.0)
"""5m, 30m, 1h, 6h: the SRE workbook's page (1h/5m) and ticket (6h/30m) pairs."""

__all__ = [
    "SecretsNotNeeded",
    "UnsupportedRule",
    "alert_annotations",
    "alerting_rule",
    "duration",
    "export_rules",
    "recording_rules",
    "render_rules",
    "translate",
]


class SecretsNotNeeded(Mapping[str, str]):
    """An environment in which every variable is set: exporting rules reads no secret, so
    alerts.yaml's receivers are validated without the deployment's `${VAR}`s."""

    def __getitem__(self, key: str) -> str:
        return "http://unused.invalid"

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


# --------------------------------------------------------------------------- annotations


def _query(expr: str, args: str, body: str) -> str:
    """A template fragment running `expr` (printf with `args`) and rendering `body` per row."""
    return f"{{{{ range printf `{expr}` {args} | query }}}}{body}{{{{ end }}}}"


_SVC = 'service="%s"'
_SVC_CHECK = 'service="%s", check="%s"'
_ARGS_SVC = "$labels.service"
_ARGS_CHECK = "$labels.service $labels.check"
_REASONS = (  # detailed checks: the reason family; lean ones: a label of their status
    f"max by (reason) (monitor_check_reason{{{_SVC}}} == 1 "
    f'and on ({CHECK}) monitor_check_status{{status!="healthy"}} == 1 '
    f'or monitor_check_status{{{_SVC}, status!="healthy", reason!=""}} == 1)'
)


def _fields(rule: Rule, config: AlertsConfig) -> dict[str, str]:
    """Each alerts.yaml template field as a Prometheus template (empty: not in the metrics)."""
    status_url = f"{config.external_url.rstrip('/')}/status/{{{{ $labels.service }}}}"
    fields = {
        "alertname": "{{ $labels.alertname }}",
        "rule": rule.name,
        "severity": "{{ $labels.severity }}",
        "service": "{{ $labels.service }}",
        "check": "{{ $labels.check }}",
        "external_url": config.external_url,
        "status": _query(
            f"max by (status) (monitor_service_status{{{_SVC}}} == 1)",
            _ARGS_SVC,
            "{{ .Labels.status }}",
        ),
        "reason": "{{ range $i, $r := printf `" + _REASONS + "` $labels.service "
        "$labels.service | query }}"
        "{{ if $i }}, {{ end }}{{ $r.Labels.reason }}{{ end }}",
        "detail": f"details at {status_url}" if config.external_url else "details in /status",
        "since": _query(
            f'min(monitor_check_status_since_timestamp_seconds{{{_SVC}, kind="health"}})',
            _ARGS_SVC,
            "{{ .Value | humanizeTimestamp }}",
        ),
        "kind": _query(
            f"max by (kind) (monitor_check_latency_target_seconds{{{_SVC_CHECK}}})",
            _ARGS_CHECK,
            "{{ .Labels.kind }}",
        ),
        "target_ms": _query(
            f"1000 * max(monitor_check_latency_target_seconds{{{_SVC_CHECK}}})",
            _ARGS_CHECK,
            '{{ printf "%.1f" .Value }}',
        ),
        "p95_ms": _query(
            f"1000 * max({P95}{{{_SVC_CHECK}}})", _ARGS_CHECK, '{{ printf "%.1f" .Value }}'
        ),
        "value": "{{ $value }}",
    }
    kind = kind_of(rule)
    if kind.about_monitor:
        fields["service"] = "monitor"  # a rule label, which Prometheus leaves out of $labels
    kind.export_fields(rule, fields)
    return fields


def translate(text: str, fields: dict[str, str]) -> str:
    """An alerts.yaml `{name}` template as a Prometheus (Go) template."""
    return render(text, fields)


def alert_annotations(rule: Rule, config: AlertsConfig) -> dict[str, str]:
    fields = _fields(rule, config)
    if config.dashboard_url:
        fields["dashboard_url"] = translate(config.dashboard_url, fields)
    templates = {**kind_of(rule).annotations, **rule.annotations}
    if config.dashboard_url and "dashboard_url" not in templates:
        templates["dashboard_url"] = "{dashboard_url}"
    return {k: translate(t, fields).strip() for k, t in templates.items()}


# --------------------------------------------------------------------------- alerts


def alerting_rule(rule: Rule, config: AlertsConfig, interval: float) -> dict[str, Any]:
    kind = kind_of(rule)
    out: dict[str, Any] = {"alert": rule.name, "expr": kind.expr(rule)}
    out.update(kind.export_timing(rule, interval))
    labels = {**rule.labels, "severity": rule.severity}
    if kind.about_monitor:
        labels["service"] = "monitor"
    out["labels"] = labels
    out["annotations"] = alert_annotations(rule, config)
    return out


def export_rules(config: AlertsConfig, interval: float = 30.0) -> dict[str, Any]:
    """The rules document: one recording group, one alerting group."""
    windows = set(RECORDED_WINDOWS)
    for rule in config.rules:
        windows |= set(kind_of(rule).burn_windows(rule) or ())
    return {
        "groups": [
            {"name": "monitor-recording", "rules": recording_rules(windows)},
            {
                "name": "monitor-alerts",
                "rules": [alerting_rule(r, config, interval) for r in config.rules],
            },
        ]
    }


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)

HEADER = (
    "# Generated by `monitor rules export` from alerts.yaml; do not edit by hand.\n"
    "# Page from Prometheus or from the daemon, never both: docs/prometheus.md.\n"
)


def render_rules(document: dict[str, Any]) -> str:
    return HEADER + yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=1_000_000)
