"""The Grafana dashboards, statically: built from dashboards/build.py and committed up to date,
fixed unique uids, `$datasource` on every panel and target, and no metric name that
monitor/metrics/ does not export (the way dashboards silently rot). tests/test_prometheus.py
runs every query against a real Prometheus."""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from monitor.alerting.prometheus_export import SecretsNotNeeded
from monitor.alerting.rules import parse_alert_rules
from monitor.analytics.series import AnalyticsSeries
from monitor.config import Defaults
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.model import Reason, Status
from monitor.probes.push.metrics import PushMetrics
from monitor.tls import TlsSettings

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = ROOT / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
METRIC = re.compile(r"\b((?:monitor|process|python)_[a-zA-Z0-9_]+)\b")


def load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dashboards_build", DASHBOARDS / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dashboards() -> dict[str, dict[str, Any]]:
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(DASHBOARDS.glob("*.json"))
    }


def panel_queries() -> list[tuple[str, str, str, str]]:
    """(dashboard uid, panel title, refId, expr) of every target of every dashboard."""
    return [
        (board["uid"], panel["title"], target["refId"], target["expr"])
        for board in dashboards().values()
        for panel in board["panels"]
        for target in panel["targets"]
    ]


def exported_names() -> set[str]:
    """Every sample name a fresh daemon registry can expose, by metric family type."""
    registry = CollectorRegistry()
    metrics = MonitorMetrics(registry, "test")
    for labels, detailed in ((("a", "lean", "rpc"), False), (("a", "full", "rpc"), True)):
        metrics.checks.declare(labels, 0.005, detailed)
        metrics.checks.observe(labels, Status.HEALTHY, Reason.OK, 0.001, 1.0, 1.0, True, True)
        metrics.checks.observe_windows(labels, [("5m", 0.001, 0.1)], True)
    metrics.checks.declare_service("a", detailed=True)
    AnalyticsSeries(registry)  # with a `cloudflare:` block
    PushMetrics(registry)  # the push kind's own series, on the daemon's registry
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "info": ("_info",),
        "summary": ("_sum", "_count", "_created"),
    }
    names: set[str] = set()
    for family in registry.collect():
        names |= {family.name + s for s in suffixes.get(family.type, ("",))}
        names |= {s.name for s in family.samples}
    return names


def test_committed_json_is_what_build_py_writes() -> None:
    build = load_build()
    for name, make in build.DASHBOARDS.items():
        committed = (DASHBOARDS / name).read_text(encoding="utf-8")
        assert committed == build.render(make), f"{name} is stale: run python dashboards/build.py"
    assert set(dashboards()) == set(build.DASHBOARDS)


def test_uids_are_fixed_unique_and_schema_current() -> None:
    boards = dashboards()
    uids = [b["uid"] for b in boards.values()]
    assert sorted(uids) == ["fleet-monitor-self", "fleet-overview", "fleet-service"]
    for board in boards.values():
        assert board["schemaVersion"] >= 39
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))


def test_every_panel_and_target_uses_the_datasource_variable() -> None:
    for name, board in dashboards().items():
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        for v in variables.values():
            if v["type"] == "query":
                assert v["datasource"] == DATASOURCE, (name, v["name"])
        for panel in board["panels"]:
            assert panel["datasource"] == DATASOURCE, (name, panel["title"])
            assert panel["targets"], (name, panel["title"])
            for target in panel["targets"]:
                assert target["datasource"] == DATASOURCE, (name, panel["title"])


def test_every_metric_a_query_names_is_exported() -> None:
    known = exported_names()
    assert "monitor_checks_total" in known and "monitor_build_info" in known
    assert "process_resident_memory_bytes" in known
    used = {
        (uid, title, name)
        for uid, title, _, expr in panel_queries()
        for name in METRIC.findall(expr)
    }
    assert used, "no metric names found: the regex or the dashboards are broken"
    unknown = sorted(u for u in used if u[2] not in known)
    assert unknown == []


@pytest.mark.parametrize(
    ("expr", "ok"),
    [
        ("max by (service) (monitor_service_status)", True),
        ("rate(monitor_checks_total[5m])", True),
        ("monitor_check_latency_seconds_bucket", True),
        ("monitor_checks", False),  # a Counter's base name is never a series
        ("monitor_check_latency_seconds", False),  # nor a histogram's
        ("monitor_no_such_metric", False),
    ],
)
def test_the_name_check_itself(expr: str, ok: bool) -> None:
    assert all(n in exported_names() for n in METRIC.findall(expr)) is ok


def test_fleet_queries_aggregate_away_replicas() -> None:
    """Every monitor_* selection sits under an aggregation, so a `replica` label never splits
    or doubles a series; checked on the text: each query starts with an aggregation."""
    aggregations = ("max ", "min ", "sum ", "count ", "clamp_min(", "histogram_quantile(")
    for uid, title, _, expr in panel_queries():
        head = expr.lstrip("(").split("time() - ")[-1]
        assert head.startswith(aggregations), (uid, title, expr)


def test_status_mappings_name_every_status_in_words() -> None:
    build = load_build()
    assert set(build.STATUS_CODES) == {s.value for s in Status}
    order = sorted(build.STATUS_CODES, key=build.STATUS_CODES.get)
    assert order == [s.value for s in sorted(Status, key=lambda s: s.severity)]
    overview = dashboards()["fleet-overview.json"]
    cell = next(p for p in overview["panels"] if p["title"] == "Service status")
    options = cell["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert {o["text"] for o in options.values()} == {s.value for s in Status}


def test_target_lines_are_the_config_defaults() -> None:
    overview = dashboards()["fleet-overview.json"]
    defaults = Defaults()
    lines = {
        p["title"]: p["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"]
        for p in overview["panels"]
        if "p95 vs" in p["title"]
    }
    assert lines == {
        "RPC smoke paths: p95 vs 5 ms target": defaults.rpc_target,
        "HTTP and health checks: p95 vs 50 ms target": defaults.http_target,
    }
    assert defaults.http_target == defaults.health_target


def test_alert_links_open_the_service_dashboard() -> None:
    rules = parse_alert_rules((ROOT / "alerts.yaml").read_text(), env=SecretsNotNeeded())
    match = re.search(r"/d/([^/?]+)/[^?]*\?var-service=\{service\}", rules.config.dashboard_url)
    assert match is not None
    board = next(b for b in dashboards().values() if b["uid"] == match.group(1))
    assert "service" in {v["name"] for v in board["templating"]["list"]}


def test_provisioning_loads_the_dashboards_and_a_prometheus_datasource() -> None:
    provisioning = DASHBOARDS / "provisioning"
    sources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    assert [s["type"] for s in sources["datasources"]] == ["prometheus"]
    providers = yaml.safe_load((provisioning / "dashboards" / "fleet-monitor.yml").read_text())
    path = providers["providers"][0]["options"]["path"]
    readme = (ROOT / "README.md").read_text()
    assert f"dashboards:{path}" in readme, "the README's docker command mounts dashboards/ there"


def test_panels_stay_inside_the_grid_and_never_overlap() -> None:
    """Grafana's 24 columns: the SDK's own placement lets a panel stick out (it wraps only
    when a row reaches 24 exactly), so build.py places them itself."""
    for name, board in dashboards().items():
        taken: set[tuple[int, int]] = set()
        for panel in board["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, (name, panel["title"], pos)
            cells = {
                (x, y)
                for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])
            }
            assert not cells & taken, (name, panel["title"], pos)
            taken |= cells


def service_families(registry: CollectorRegistry) -> set[str]:
    """Names of the metric families in `registry` with a `service` label (a Counter's name
    without `_total`, a Histogram's without `_bucket`)."""
    return {
        family.name
        for family in registry.collect()
        if any("service" in sample.labels for sample in family.samples)
    }


def test_push_and_certificate_series_have_panels() -> None:
    """The kinds with series of their own (push checks, certificates) are on the service
    dashboard, and certificates also on the fleet overview (issue 16)."""
    registry = CollectorRegistry()
    push = PushMetrics(registry)
    job = SimpleNamespace(service="a", name="job")
    push.declare(job)  # type: ignore[arg-type]  # only its service and name are read
    push.ping(job, "success", datetime(2026, 1, 1, tzinfo=UTC), 1.0)  # type: ignore[arg-type]
    families = service_families(registry)
    assert len(families) == 3, families  # last ping, run time, pings by outcome
    read: dict[str, set[str]] = {}
    for uid, _, _, expr in panel_queries():
        read.setdefault(uid, set()).update(METRIC.findall(expr))
    for family in families | {"monitor_tls_not_after_timestamp_seconds"}:
        assert any(name.startswith(family) for name in read["fleet-service"]), family
    assert "monitor_tls_not_after_timestamp_seconds" in read["fleet-overview"]


def test_certificate_colours_are_the_tls_defaults() -> None:
    """Red within critical_before, orange within warn_before, green after: the days at which
    the check turns unhealthy and degraded when a service sets no `tls:` of its own."""
    settings = TlsSettings()
    expected = [
        {"value": None, "color": "red"},
        {"value": settings.critical_before / 86400, "color": "orange"},
        {"value": settings.warn_before / 86400, "color": "green"},
    ]
    titles = set()
    for board in dashboards().values():
        for panel in board["panels"]:
            if any("monitor_tls_" in t["expr"] for t in panel["targets"]):
                titles.add(panel["title"])
                assert panel["fieldConfig"]["defaults"]["thresholds"]["steps"] == expected
                assert panel["fieldConfig"]["defaults"]["unit"] == "suffix: days"
    assert len(titles) == 2
