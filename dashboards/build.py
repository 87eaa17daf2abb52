"""Build the Grafana dashboards of the fleet monitor: `python dashboards/build.py` rewrites the
JSON files beside it (committed; tests/test_dashboards.py fails when they are stale).

Plain dictionaries rather than grafanalib or grafana-foundation-sdk: the dashboards need five
panel types and one layout rule, a dependency would pin a Grafana schema for that, and here
every PromQL expression sits in one readable place, where the tests also find it.

Query rules: every series the fleet panels read is aggregated by its own labels
(`max by (service, check, ...)`), so the external `replica` label of HA monitors never splits
or doubles a line; histograms are summed across replicas before `histogram_quantile`, which
merges their samples into one distribution. Self-health panels keep `instance` (one line per
monitor process) and drop only `replica`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"

# Status as a number, best to worst (monitor.model.Status order): with HA replicas that
# disagree, `max` shows the worse one. Text and colour, never colour alone.
STATUS_CODES = {"healthy": 1, "unknown": 2, "degraded": 3, "unhealthy": 4}
STATUS_COLOURS = {"healthy": "green", "unknown": "text", "degraded": "orange", "unhealthy": "red"}
RPC_TARGET_S = 0.005
HTTP_TARGET_S = 0.05
OBJECTIVE = 0.95

Json = dict[str, Any]


# --------------------------------------------------------------------------- expressions


def status_code(metric: str, by: str, selector: str = "") -> str:
    """One series per `by` whose value is the current status's code (see STATUS_CODES)."""
    sep = "," if selector else ""
    parts = [
        f'{metric}{{{selector}{sep}status="{status}"}} * {code}'
        for status, code in STATUS_CODES.items()
    ]
    return f"max by ({by}) (\n    " + "\n  or ".join(parts) + "\n)"


def quantile(q: float, metric: str, selector: str, by: str) -> str:
    series = f"{metric}_bucket{{{selector}}}" if selector else f"{metric}_bucket"
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({series}[{RATE}])))"


def percentile_targets(metric: str, selector: str, by: str) -> list[Json]:
    """p50, p95 and p99 of one histogram, one line per `by` value."""
    return targets(
        *(
            (quantile(q, metric, selector, by), f"{{{{{by}}}}} p{round(q * 100)}")
            for q in (0.5, 0.95, 0.99)
        )
    )


def mean(metric: str, selector: str) -> str:
    return (
        f"sum by (check) (rate({metric}_sum{{{selector}}}[{RATE}]))\n"
        f"  / sum by (check) (rate({metric}_count{{{selector}}}[{RATE}]))"
    )


LATENCY = "monitor_check_latency_seconds"
TARGET = "monitor_check_latency_target_seconds"
SINCE = "monitor_check_status_since_timestamp_seconds"


def p95(selector: str, by: str, window: str = RATE) -> str:
    """p95 of the judged latency from the histogram: every check has it (lean bounds sit
    around the check's own target, detailed ones at the fleet's 5 and 50 ms)."""
    return (
        f"histogram_quantile(0.95, sum by ({by}, le) "
        f"(rate({LATENCY}_bucket{{{selector}}}[{window}])))"
    )


def over_target(window: str, selector: str = "") -> str:
    """Share of judged samples over target in `window`, per check: the histogram bucket whose
    `le` the target series names (exact, not interpolated), as the recording rules do."""
    sel = f"{{{selector}}}" if selector else ""
    return (
        f"max by (service, check) (1 - sum by (service, check, kind) (rate({LATENCY}_bucket{sel}"
        f"[{window}]) and on (service, check, kind, le)\n  "
        f'label_replace({TARGET}, "le", "$1", "bucket", "(.+)"))\n'
        f"  / (sum by (service, check, kind) (rate({LATENCY}_count{sel}[{window}])) > 0))"
    )


def round_trip(selector: str) -> str:
    """Round-trip buckets: the duration histogram of detailed checks, else the judged one of
    checks judged on the round trip (lean checks have one histogram; rpc: detailed only)."""
    return (
        f"rate(monitor_check_duration_seconds_bucket{{{selector}}}[{RATE}])\n"
        f'  or rate({LATENCY}_bucket{{{selector}, kind!="rpc"}}[{RATE}])'
    )


def round_trip_mean(selector: str) -> str:
    duration, judged = "monitor_check_duration_seconds", f'{selector}, kind!="rpc"'
    return (
        f"sum by (check) (rate({duration}_sum{{{selector}}}[{RATE}])\n"
        f"  or rate({LATENCY}_sum{{{judged}}}[{RATE}]))\n"
        f"  / sum by (check) (rate({duration}_count{{{selector}}}[{RATE}])\n"
        f"  or rate({LATENCY}_count{{{judged}}}[{RATE}]))"
    )


def own(metric: str, selector: str = "") -> str:
    """A process-level series of the monitor only (other exporters have process_* too)."""
    inner = f"{metric}{{{selector}}}" if selector else metric
    return f"max without (replica) ({inner} and on (instance, job) monitor_build_info)"


# --------------------------------------------------------------------------- panels


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> Json:
    return {
        "datasource": DATASOURCE,
        "refId": ref,
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
        "editorMode": "code",
    }


def targets(*pairs: tuple[str, str]) -> list[Json]:
    return [target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(pairs)]


def thresholds(*steps: tuple[float, str]) -> Json:
    return {
        "mode": "absolute",
        "steps": [{"color": "green", "value": None}]
        + [{"color": colour, "value": value} for value, colour in steps],
    }


def status_mappings() -> list[Json]:
    return [
        {
            "type": "value",
            "options": {
                str(code): {"text": status, "color": STATUS_COLOURS[status], "index": i}
                for i, (status, code) in enumerate(STATUS_CODES.items())
            },
        }
    ]


def panel(
    kind: str,
    title: str,
    description: str,
    queries: list[Json],
    *,
    width: int = 12,
    height: int = 8,
    unit: str | None = None,
    steps: tuple[tuple[float, str], ...] = (),
    line_thresholds: bool = False,
    mappings: list[Json] | None = None,
    options: Json | None = None,
    custom: Json | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    no_value: str | None = None,
) -> Json:
    defaults: Json = {"thresholds": thresholds(*steps), "custom": dict(custom or {})}
    if unit:
        defaults["unit"] = unit
    if mappings:
        defaults["mappings"] = mappings
    if min_value is not None:
        defaults["min"] = min_value
    if max_value is not None:
        defaults["max"] = max_value
    if no_value is not None:
        defaults["noValue"] = no_value
    if line_thresholds:
        defaults["custom"]["thresholdsStyle"] = {"mode": "dashed"}
    if kind == "timeseries":
        defaults["color"] = {"mode": "palette-classic"}
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": queries,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options or {},
        "gridPos": {"w": width, "h": height, "x": 0, "y": 0},
    }


def stat_options(text_mode: str = "value_and_name") -> Json:
    return {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "background",
        "graphMode": "none",
        "textMode": text_mode,
        "justifyMode": "auto",
        "orientation": "auto",
    }


def timeline_options() -> Json:
    return {
        "showValue": "auto",
        "mergeValues": True,
        "rowHeight": 0.9,
        "alignValue": "left",
        "legend": {"showLegend": True, "displayMode": "list", "placement": "bottom"},
    }


def layout(panels: list[Json]) -> list[Json]:
    """Left to right, wrapping at Grafana's 24 columns; ids in order."""
    x = y = row_height = 0
    for index, p in enumerate(panels, start=1):
        pos = p["gridPos"]
        if x + pos["w"] > 24:
            x, y, row_height = 0, y + row_height, 0
        pos["x"], pos["y"] = x, y
        x += pos["w"]
        row_height = max(row_height, pos["h"])
        p["id"] = index
    return panels


def datasource_variable() -> Json:
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "options": [],
    }


def service_variable() -> Json:
    query = "label_values(monitor_service_status, service)"
    return {
        "name": "service",
        "label": "Service",
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "current": {},
        "hide": 0,
        "refresh": 2,
        "sort": 1,
        "multi": False,
        "includeAll": False,
        "options": [],
        "regex": "",
    }


def dashboard(uid: str, title: str, description: str, panels: list[Json], **extra: Any) -> Json:
    variables = [datasource_variable(), *extra.get("variables", [])]
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["fleet-monitor"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": variables},
        "annotations": {"list": []},
        "links": [],
        "panels": layout(panels),
    }


# --------------------------------------------------------------------------- dashboards


def fleet_overview() -> Json:
    return dashboard(
        "fleet-overview",
        "Fleet overview",
        "Every service's status, p95 latency against target, error budget, alerts, checks/s.",
        [
            panel(
                "stat",
                "Service status",
                "One cell per service: its current status (the worst of its checks).",
                [target(status_code("monitor_service_status", "service"), "{{service}}")],
                width=24,
                height=5,
                mappings=status_mappings(),
                options=stat_options(),
            ),
            panel(
                "timeseries",
                "RPC smoke paths: p95 vs 5 ms target",
                "p95 from the latency histogram (bounds around each check's target); dashed "
                "line: the target.",
                targets((p95('kind="rpc"', "service, check"), "{{service}}/{{check}}")),
                unit="s",
                steps=((RPC_TARGET_S, "red"),),
                line_thresholds=True,
                min_value=0,
            ),
            panel(
                "timeseries",
                "HTTP and health checks: p95 vs 50 ms target",
                "p95 of http and health checks from the histogram; dashed line: the 50 ms target.",
                targets((p95('kind=~"http|health"', "service, check"), "{{service}}/{{check}}")),
                unit="s",
                steps=((HTTP_TARGET_S, "red"),),
                line_thresholds=True,
                min_value=0,
            ),
            panel(
                "bargauge",
                "Error budget remaining (1 h, 95 % under target)",
                "1 - burn rate over the last hour: the share of the hour's 5 % budget of slow "
                "samples not yet spent. 0: spent.",
                [
                    target(
                        f"clamp_min(1 - {over_target('1h')} / {round(1 - OBJECTIVE, 6)}, 0)",
                        "{{service}}/{{check}}",
                        instant=True,
                    )
                ],
                unit="percentunit",
                steps=((0.0, "red"), (0.25, "orange"), (0.5, "green")),
                min_value=0,
                max_value=1,
                options={
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "orientation": "horizontal",
                    "displayMode": "basic",
                    "showUnfilled": True,
                },
            ),
            panel(
                "timeseries",
                "Error budget burn rate (5 m and 1 h)",
                "Share of samples over target / 5 %. 1 spends the budget exactly; 6 and 14.4 "
                "are the ticket and page thresholds (a 95 % objective burns at most 20).",
                targets(
                    *(
                        (
                            f"{over_target(w)} / {round(1 - OBJECTIVE, 6)}",
                            f"{{{{service}}}}/{{{{check}}}} {w}",
                        )
                        for w in ("5m", "1h")
                    )
                ),
                steps=((6.0, "orange"), (14.4, "red")),
                line_thresholds=True,
                min_value=0,
            ),
            panel(
                "timeseries",
                "Over-target share (5 m)",
                "Exact share of samples slower than the target (not from the sketch).",
                targets((over_target("5m"), "{{service}}/{{check}}")),
                unit="percentunit",
                steps=((round(1 - OBJECTIVE, 6), "red"),),
                line_thresholds=True,
                min_value=0,
            ),
            panel(
                "stat",
                "Alerts firing",
                "Alerts the daemon's rules have firing, by rule (alerts.yaml).",
                [target("max by (alertname) (monitor_alerts_firing) > 0", "{{alertname}}")],
                width=8,
                steps=((1.0, "red"),),
                options=stat_options(),
                no_value="none firing",
            ),
            panel(
                "stat",
                "Services by status",
                "How many services are in each status now.",
                [
                    target(
                        "count by (status) (max by (service, status) "
                        "(monitor_service_status) == 1)",
                        "{{status}}",
                    )
                ],
                width=8,
                options=stat_options(),
                no_value="0",
            ),
            panel(
                "timeseries",
                "Checks per second",
                "Completed checks per second, by kind.",
                targets(
                    (
                        "sum by (kind) (max by (service, check, kind, status) "
                        f"(rate(monitor_checks_total[{RATE}])))",
                        "{{kind}}",
                    ),
                ),
                width=8,
                unit="ops",
                min_value=0,
            ),
        ],
    )


def service_detail() -> Json:
    svc = 'service="$service"'
    sketch = "monitor_check_latency_p95_seconds"
    smoke_p95 = p95(f'{svc}, kind=~"rpc|http"', "check, kind", "5m")
    return dashboard(
        "fleet-service",
        "Service detail",
        "One service: status, latency percentiles, reasons, smoke paths, real traffic, status "
        "changes.",
        [
            panel(
                "state-timeline",
                "Service status",
                "The service's status over time (worst of its checks).",
                [target(status_code("monitor_service_status", "service", svc), "{{service}}")],
                width=24,
                height=4,
                mappings=status_mappings(),
                options=timeline_options(),
            ),
            panel(
                "state-timeline",
                "Check status",
                "Each check's status over time.",
                [
                    target(
                        status_code("monitor_check_status", "check, kind", svc),
                        "{{check}} ({{kind}})",
                    )
                ],
                width=24,
                height=6,
                mappings=status_mappings(),
                options=timeline_options(),
            ),
            panel(
                "timeseries",
                "Judged latency p50 / p95 / p99 (histogram)",
                "The latency judged against the target: the service's Server-Timing for rpc "
                "checks when given, else the round trip. Bounds sit around each check's target.",
                percentile_targets("monitor_check_latency_seconds", svc, "check"),
                unit="s",
                min_value=0,
            ),
            panel(
                "timeseries",
                "Round trip p50 / p95 / p99 (histogram)",
                "Request start to body read as the monitor measured it.",
                targets(
                    *(
                        (
                            f"histogram_quantile({q}, sum by (check, le) "
                            f"(\n  {round_trip(svc)}\n))",
                            f"{{{{check}}}} p{round(q * 100)}",
                        )
                        for q in (0.5, 0.95, 0.99)
                    )
                ),
                unit="s",
                min_value=0,
            ),
            panel(
                "timeseries",
                "Rolling p95 (sketch) and target",
                "The daemon's rolling p95 per window, as /status and the alert rules see it "
                "(checks with `metrics: detailed`; others: the 5 m histogram p95).",
                targets(
                    (
                        f"max by (check, window) ({sketch}{{{svc}}})\n  or label_replace("
                        f'{p95(svc, "check", "5m")}, "window", "5m histogram", "", "")',
                        "{{check}} p95 {{window}}",
                    ),
                    (
                        f"max by (check) (monitor_check_latency_target_seconds{{{svc}}})",
                        "{{check}} target",
                    ),
                ),
                unit="s",
                min_value=0,
            ),
            panel(
                "timeseries",
                "Phase breakdown: service's own time vs round trip (mean)",
                "Mean judged latency (the service's Server-Timing for rpc) against the mean "
                "round trip; the gap is network and monitor overhead.",
                targets(
                    (mean("monitor_check_latency_seconds", svc), "{{check}} judged"),
                    (round_trip_mean(svc), "{{check}} round trip"),
                ),
                unit="s",
                min_value=0,
            ),
            panel(
                "state-timeline",
                "Reasons over time",
                "The reason code of each check's status (docs/reasons.md).",
                [
                    target(
                        f"max by (check, reason) (monitor_check_reason{{{svc}}} == 1\n"
                        f'  or monitor_check_status{{{svc}, reason!=""}})',
                        "{{check}}: {{reason}}",
                    )
                ],
                width=24,
                height=6,
                options=timeline_options(),
            ),
            panel(
                "table",
                "Smoke paths",
                "RPC and HTTP smoke checks: 5 m p95, target, within target (1 yes, 0 no).",
                [
                    target(
                        f"max by (check, kind) ({smoke_p95})",
                        "p95",
                        "A",
                        instant=True,
                    ),
                    target(
                        "max by (check, kind) (monitor_check_latency_target_seconds"
                        f'{{{svc}, kind=~"rpc|http"}})',
                        "target",
                        "B",
                        instant=True,
                    ),
                    target(
                        f"max by (check, kind) ({smoke_p95}"
                        f"\n  <= bool on (check, kind) max by (check, kind) ({TARGET}{{{svc}}}))",
                        "within",
                        "C",
                        instant=True,
                    ),
                ],
                options={"showHeader": True},
            ),
            panel(
                "timeseries",
                "Real traffic: error ratio (Cloudflare analytics)",
                "Errors over requests of the service's Worker in each analytics interval, as "
                "its analytics check judges it (docs/cloudflare.md).",
                targets(
                    (f"max by (service) (monitor_worker_error_ratio{{{svc}}})", "error ratio"),
                ),
                unit="percentunit",
                min_value=0,
            ),
            panel(
                "timeseries",
                "Real traffic: requests and errors per interval",
                "What Cloudflare counted for the Worker in the last complete interval.",
                targets(
                    (f"max by (service) (monitor_worker_requests{{{svc}}})", "requests"),
                    (f"max by (service) (monitor_worker_errors{{{svc}}})", "errors"),
                ),
                min_value=0,
            ),
            panel(
                "timeseries",
                "Real traffic: CPU time per request p50 / p99",
                "The Worker's CPU time quantiles as Cloudflare reports them.",
                targets(
                    (f"max by (service) (monitor_worker_cpu_p50_seconds{{{svc}}})", "p50"),
                    (f"max by (service) (monitor_worker_cpu_p99_seconds{{{svc}}})", "p99"),
                ),
                unit="s",
                min_value=0,
            ),
            panel(
                "timeseries",
                "Queue backlog",
                "Average messages waiting in each queue the service lists.",
                targets(
                    (
                        f"max by (queue) (monitor_queue_backlog_messages{{{svc}}})",
                        "{{queue}}",
                    ),
                ),
                min_value=0,
            ),
            panel(
                "stat",
                "Status changes in the time range",
                "How often each check changed status over the dashboard's time range.",
                [
                    target(
                        f"max by (check) (changes({SINCE}{{{svc}}}[$__range]))",
                        "{{check}}",
                        instant=True,
                    )
                ],
                width=6,
                steps=((1.0, "orange"),),
                options=stat_options(),
            ),
            panel(
                "timeseries",
                "Status changes over time",
                "Status changes per check over time: spikes are flapping.",
                targets(
                    (
                        f"max by (check) (changes({SINCE}{{{svc}}}[{RATE}]))",
                        "{{check}}",
                    ),
                ),
                width=6,
                min_value=0,
            ),
            panel(
                "timeseries",
                "Push checks: time since the last ping",
                "Seconds since each push check (heartbeat) last reported in; it turns late once "
                "the expected ping is overdue by its grace.",
                targets(
                    (
                        f"time() - max by (check) (monitor_push_last_ping_timestamp_seconds"
                        f"{{{svc}}})",
                        "{{check}}",
                    ),
                ),
                width=8,
                unit="s",
                min_value=0,
            ),
            panel(
                "timeseries",
                "Push checks: run time p95",
                "How long each job runs, from its /start to its finish.",
                targets(
                    (
                        quantile(0.95, "monitor_push_run_duration_seconds", svc, "check"),
                        "{{check}}",
                    ),
                ),
                width=8,
                unit="s",
                min_value=0,
            ),
            panel(
                "timeseries",
                "Push checks: pings by outcome",
                "Pings per second by outcome: success, fail, start, rate_limited.",
                targets(
                    (
                        "sum by (check, outcome) (rate(monitor_push_pings_total"
                        f"{{{svc}}}[{RATE}]))",
                        "{{check}} {{outcome}}",
                    ),
                ),
                width=8,
                unit="reqps",
                min_value=0,
            ),
        ],
        variables=[service_variable()],
    )


def self_health() -> Json:
    return dashboard(
        "fleet-monitor-self",
        "Monitor self-health",
        "The monitor process itself: loop lag, scheduling, throughput, alert delivery, memory.",
        [
            panel(
                "timeseries",
                "Event loop lag",
                "Latest delay in waking a timer, and p99 of all delays; every measured "
                "latency is inflated by this much.",
                targets(
                    (
                        "max without (replica) (monitor_event_loop_lag_seconds)",
                        "{{instance}} latest",
                    ),
                    (
                        "histogram_quantile(0.99, sum by (instance, le) "
                        f"(rate(monitor_event_loop_delay_seconds_bucket[{RATE}])))",
                        "{{instance}} p99",
                    ),
                ),
                unit="s",
                steps=((0.1, "red"),),
                line_thresholds=True,
                min_value=0,
            ),
            panel(
                "timeseries",
                "Scheduling jitter",
                "How late checks start against their schedule.",
                percentile_targets("monitor_schedule_lag_seconds", "", "instance"),
                unit="s",
                min_value=0,
            ),
            panel(
                "timeseries",
                "Check throughput and skips",
                "Checks completed and runs skipped because the previous one was still going.",
                targets(
                    (
                        f"sum by (instance) (rate(monitor_checks_total[{RATE}]))",
                        "{{instance}} completed",
                    ),
                    (
                        f"sum by (instance) (rate(monitor_checks_skipped_total[{RATE}]))",
                        "{{instance}} skipped",
                    ),
                ),
                width=8,
                unit="ops",
                min_value=0,
            ),
            panel(
                "timeseries",
                "Checks in flight and configured",
                "In flight near configured means checks are queueing behind slow ones.",
                targets(
                    ("max without (replica) (monitor_checks_in_flight)", "{{instance}} in flight"),
                    (
                        "max without (replica) (monitor_checks_configured)",
                        "{{instance}} configured",
                    ),
                ),
                width=8,
                min_value=0,
            ),
            panel(
                "timeseries",
                "Alert outbox depth",
                "Notifications waiting in the durable outbox; growing means a receiver fails.",
                targets(("max without (replica) (monitor_alert_outbox_depth)", "{{instance}}")),
                width=8,
                min_value=0,
            ),
            panel(
                "timeseries",
                "Alert notifications by outcome",
                "Per receiver: sent, retried (failed, will retry) and dead (given up).",
                targets(
                    (
                        "sum by (receiver, outcome) "
                        f"(rate(monitor_alert_notifications_total[{RATE}]))",
                        "{{receiver}} {{outcome}}",
                    ),
                ),
                unit="ops",
                min_value=0,
            ),
            panel(
                "stat",
                "Notification failures in the time range",
                "Retried and dead notifications over the dashboard's time range.",
                [
                    target(
                        "sum by (receiver, outcome) (increase(monitor_alert_notifications_total"
                        '{outcome=~"retried|dead"}[$__range]))',
                        "{{receiver}} {{outcome}}",
                        instant=True,
                    )
                ],
                width=6,
                steps=((1.0, "red"),),
                options=stat_options(),
            ),
            panel(
                "stat",
                "Config reload",
                "Whether the last config load or reload succeeded.",
                [
                    target(
                        "min without (replica) (monitor_config_last_reload_successful)",
                        "{{instance}}",
                    )
                ],
                width=6,
                mappings=[
                    {
                        "type": "value",
                        "options": {
                            "0": {"text": "reload failed", "color": "red", "index": 0},
                            "1": {"text": "ok", "color": "green", "index": 1},
                        },
                    }
                ],
                options=stat_options(),
            ),
            panel(
                "timeseries",
                "Resident memory",
                "RSS of the monitor process.",
                targets((own("process_resident_memory_bytes"), "{{instance}}")),
                width=8,
                unit="bytes",
                min_value=0,
            ),
            panel(
                "timeseries",
                "Open file descriptors",
                "Sockets and files held open, against the process limit.",
                targets(
                    (own("process_open_fds"), "{{instance}} open"),
                    (own("process_max_fds"), "{{instance}} limit"),
                ),
                width=8,
                min_value=0,
            ),
            panel(
                "table",
                "Build and config age",
                "Version of each monitor process and seconds since the last successful "
                "config load.",
                [
                    target(
                        "max by (instance, version) (monitor_build_info)",
                        "version",
                        "A",
                        instant=True,
                    ),
                    target(
                        "time() - max without (replica) "
                        "(monitor_config_last_reload_success_timestamp_seconds)",
                        "since config load",
                        "B",
                        instant=True,
                    ),
                ],
                width=8,
                options={"showHeader": True},
            ),
        ],
    )


DASHBOARDS = {
    "fleet-overview.json": fleet_overview,
    "service-detail.json": service_detail,
    "monitor-self-health.json": self_health,
}


def render(build: Any) -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


def main() -> None:
    for name, build in DASHBOARDS.items():
        (HERE / name).write_text(render(build), encoding="utf-8")
        print(f"wrote dashboards/{name}")


if __name__ == "__main__":
    main()
