"""Build the Grafana dashboards of the fleet monitor: `python dashboards/build.py` rewrites the
JSON files beside it (committed; tests/test_dashboards.py fails when they are stale).

Grafana's typed builders (grafana-foundation-sdk, the `dashboards` extra, pinned to its
Grafana 11.6 schema): panel options and field config are checked names, not dictionary keys
that Grafana silently ignores when misspelt. Every PromQL expression still sits in this one
file, where the tests also find it.

Query rules: every series the fleet panels read is aggregated by its own labels
(`max by (service, check, ...)`), so the external `replica` label of HA monitors never splits
or doubles a line; histograms are summed across replicas before `histogram_quantile`, which
merges their samples into one distribution. Self-health panels keep `instance` (one line per
monitor process) and drop only `replica`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from grafana_foundation_sdk.builders import (
    bargauge,
    prometheus,
    stat,
    statetimeline,
    table,
    timeseries,
)
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models import prometheus as prometheus_models

HERE = Path(__file__).resolve().parent
DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "$__rate_interval"
COLUMNS = 24

# Status as a number, best to worst (monitor.model.Status order): with HA replicas that
# disagree, `max` shows the worse one. Text and colour, never colour alone.
STATUS_CODES = {"healthy": 1, "unknown": 2, "degraded": 3, "unhealthy": 4}
STATUS_COLOURS = {"healthy": "green", "unknown": "text", "degraded": "orange", "unhealthy": "red"}
RPC_TARGET_S = 0.005
HTTP_TARGET_S = 0.05
OBJECTIVE = 0.95
DAY_S = 86400
TLS_CRITICAL_DAYS = 3  # monitor.tls.TlsSettings' defaults: unhealthy within, degraded within
TLS_WARN_DAYS = 14
TLS = "monitor_tls_not_after_timestamp_seconds"


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


def percentile_targets(metric: str, selector: str, by: str) -> list[Query]:
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


def days_left(by: str, selector: str = "") -> str:
    """Days until the certificate expires, per `by`; a negative number: expired."""
    series = f"{TLS}{{{selector}}}" if selector else TLS
    return f"(min by ({by}) ({series}) - time()) / {DAY_S}"


def certificate_panel(title: str, description: str, query: Query, **field: Any) -> Any:
    """Days left coloured as the check judges them: red within critical_before, orange
    within warn_before (the defaults; a service's own `tls:` may differ)."""
    return bars(
        title,
        description,
        [query],
        unit="suffix: days",
        base_colour="red",
        steps=((TLS_CRITICAL_DAYS, "orange"), (TLS_WARN_DAYS, "green")),
        **field,
    )


def own(metric: str, selector: str = "") -> str:
    """A process-level series of the monitor only (other exporters have process_* too)."""
    inner = f"{metric}{{{selector}}}" if selector else metric
    return f"max without (replica) ({inner} and on (instance, job) monitor_build_info)"


# --------------------------------------------------------------------------- panels

Query = prometheus.Dataquery
PanelBuilder = TypeVar(
    "PanelBuilder", timeseries.Panel, stat.Panel, bargauge.Panel, statetimeline.Panel, table.Panel
)
LAST = common_builders.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False)


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> Query:
    query = (
        Query()
        .datasource(DATASOURCE)
        .ref_id(ref)
        .expr(expr)
        .legend_format(legend or "__auto")
        .editor_mode(prometheus_models.QueryEditorMode.CODE)
    )
    return query.instant() if instant else query.range()


def targets(*pairs: tuple[str, str]) -> list[Query]:
    return [target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(pairs)]


def thresholds(*steps: tuple[float, str], base: str = "green") -> builders.ThresholdsConfig:
    """`base` below the first step, each step's colour from its value up."""
    first = [models.Threshold(value=None, color=base)]
    return (
        builders.ThresholdsConfig()
        .mode(models.ThresholdsMode.ABSOLUTE)
        .steps(first + [models.Threshold(value=value, color=colour) for value, colour in steps])
    )


def value_mappings(texts: dict[int, tuple[str, str]]) -> list[models.ValueMapping]:
    """A number shown as words in a colour (text and colour, never colour alone)."""
    options = {
        str(code): models.ValueMappingResult(text=text, color=colour, index=i)
        for i, (code, (text, colour)) in enumerate(texts.items())
    }
    return [models.ValueMap(options=options)]


def status_mappings() -> list[models.ValueMapping]:
    return value_mappings(
        {code: (status, STATUS_COLOURS[status]) for status, code in STATUS_CODES.items()}
    )


def panel(
    builder: PanelBuilder,
    title: str,
    description: str,
    queries: list[Query],
    *,
    width: int = 12,
    height: int = 8,
    unit: str | None = None,
    steps: tuple[tuple[float, str], ...] = (),
    base_colour: str = "green",
    mappings: list[models.ValueMapping] | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    no_value: str | None = None,
) -> PanelBuilder:
    """What every panel sets: text, queries on `$datasource`, size, unit, thresholds."""
    builder = (
        builder.title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(list(queries))
        .span(width)
        .height(height)
        .thresholds(thresholds(*steps, base=base_colour))
    )
    if unit:
        builder = builder.unit(unit)
    if mappings:
        builder = builder.mappings(mappings)
    if min_value is not None:
        builder = builder.min(min_value)
    if max_value is not None:
        builder = builder.max(max_value)
    if no_value is not None:
        builder = builder.no_value(no_value)
    return builder


def graph(
    title: str, description: str, queries: list[Query], *, line_thresholds: bool = False,
    **field: Any,
) -> timeseries.Panel:  # fmt: skip
    """A time series; `line_thresholds` draws the thresholds as dashed lines (targets)."""
    builder = timeseries.Panel().color_scheme(
        builders.FieldColor().mode(models.FieldColorModeId.PALETTE_CLASSIC)
    )
    if line_thresholds:
        builder = builder.thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(
                common_models.GraphThresholdsStyleMode.DASHED
            )
        )
    return panel(builder, title, description, queries, **field)


def single(title: str, description: str, queries: list[Query], **field: Any) -> stat.Panel:
    """A stat per series, coloured background, value and name."""
    builder = (
        stat.Panel()
        .reduce_options(LAST)
        .color_mode(common_models.BigValueColorMode.BACKGROUND)
        .graph_mode(common_models.BigValueGraphMode.NONE)
        .text_mode(common_models.BigValueTextMode.VALUE_AND_NAME)
        .justify_mode(common_models.BigValueJustifyMode.AUTO)
        .orientation(common_models.VizOrientation.AUTO)
    )
    return panel(builder, title, description, queries, **field)


def bars(title: str, description: str, queries: list[Query], **field: Any) -> bargauge.Panel:
    """Horizontal bars, one per series, the unfilled part shown."""
    builder = (
        bargauge.Panel()
        .reduce_options(LAST)
        .orientation(common_models.VizOrientation.HORIZONTAL)
        .display_mode(common_models.BarGaugeDisplayMode.BASIC)
        .show_unfilled(True)
    )
    return panel(builder, title, description, queries, **field)


def timeline(
    title: str, description: str, queries: list[Query], **field: Any
) -> statetimeline.Panel:
    legend = (
        common_builders.VizLegendOptions()
        .show_legend(True)
        .display_mode(common_models.LegendDisplayMode.LIST)
        .placement(common_models.LegendPlacement.BOTTOM)
    )
    builder = (
        statetimeline.Panel()
        .show_value(common_models.VisibilityMode.AUTO)
        .merge_values(True)
        .row_height(0.9)
        .align_value(common_models.TimelineValueAlignment.LEFT)
        .legend(legend)
    )
    return panel(builder, title, description, queries, **field)


def grid(title: str, description: str, queries: list[Query], **field: Any) -> table.Panel:
    return panel(table.Panel().show_header(True), title, description, queries, **field)


def datasource_variable() -> builders.DatasourceVariable:
    return builders.DatasourceVariable("datasource").label("Data source").type("prometheus")


def service_variable() -> builders.QueryVariable:
    query = "label_values(monitor_service_status, service)"
    return (
        builders.QueryVariable("service")
        .label("Service")
        .datasource(DATASOURCE)
        .query({"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"})
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.ALPHABETICAL_ASC)
        .multi(False)
        .include_all(False)
    )


def dashboard(
    uid: str,
    title: str,
    description: str,
    panels: list[Any],
    variables: Sequence[builders.QueryVariable] = (),
) -> models.Dashboard:
    """Panels in the order given, ids in that order, laid out by `layout`."""
    board = (
        builders.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["fleet-monitor"])
        .timezone("browser")
        .editable()
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .version(1)
        .refresh("30s")
        .time("now-6h", "now")
        .with_variable(datasource_variable())
    )
    for variable in variables:
        board = board.with_variable(variable)
    for index, p in enumerate(panels, start=1):
        board = board.with_panel(p.id(index))
    built = board.build()
    layout([p for p in built.panels or [] if isinstance(p, models.Panel)])
    return built


def layout(panels: list[models.Panel]) -> None:
    """Left to right, a panel that would cross Grafana's 24 columns starts the next row. Not
    the builder's own placement: it wraps only once a row reaches 24 exactly, so a 12 after
    a 12 and an 8 would stick out at x = 20."""
    x = y = row_height = 0
    for p in panels:
        assert p.grid_pos is not None
        if x + p.grid_pos.w > COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        p.grid_pos.x, p.grid_pos.y = x, y
        x += p.grid_pos.w
        row_height = max(row_height, p.grid_pos.h)


# --------------------------------------------------------------------------- dashboards


def fleet_overview() -> models.Dashboard:
    return dashboard(
        "fleet-overview",
        "Fleet overview",
        "Every service's status, p95 latency against target, error budget, alerts, checks/s.",
        [
            single(
                "Service status",
                "One cell per service: its current status (the worst of its checks).",
                [target(status_code("monitor_service_status", "service"), "{{service}}")],
                width=24,
                height=5,
                mappings=status_mappings(),
            ),
            graph(
                "RPC smoke paths: p95 vs 5 ms target",
                "p95 from the latency histogram (bounds around each check's target); dashed "
                "line: the target.",
                targets((p95('kind="rpc"', "service, check"), "{{service}}/{{check}}")),
                unit="s",
                steps=((RPC_TARGET_S, "red"),),
                line_thresholds=True,
                min_value=0,
            ),
            graph(
                "HTTP and health checks: p95 vs 50 ms target",
                "p95 of http and health checks from the histogram; dashed line: the 50 ms target.",
                targets((p95('kind=~"http|health"', "service, check"), "{{service}}/{{check}}")),
                unit="s",
                steps=((HTTP_TARGET_S, "red"),),
                line_thresholds=True,
                min_value=0,
            ),
            bars(
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
            ),
            graph(
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
            graph(
                "Over-target share (5 m)",
                "Exact share of samples slower than the target (not from the sketch).",
                targets((over_target("5m"), "{{service}}/{{check}}")),
                unit="percentunit",
                steps=((round(1 - OBJECTIVE, 6), "red"),),
                line_thresholds=True,
                min_value=0,
            ),
            single(
                "Alerts firing",
                "Alerts the daemon's rules have firing, by rule (alerts.yaml).",
                [target("max by (alertname) (monitor_alerts_firing) > 0", "{{alertname}}")],
                width=8,
                steps=((1.0, "red"),),
                no_value="none firing",
            ),
            single(
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
                no_value="0",
            ),
            graph(
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
            certificate_panel(
                "Certificates: days left",
                "Every https and tls check: days until the earliest certificate in the "
                "presented chain expires (leaf or intermediate: the one the check is judged on).",
                target(days_left("service, check"), "{{service}}/{{check}}", instant=True),
                width=24,
            ),
        ],
    )


def service_detail() -> models.Dashboard:
    svc = 'service="$service"'
    sketch = "monitor_check_latency_p95_seconds"
    smoke_p95 = p95(f'{svc}, kind=~"rpc|http"', "check, kind", "5m")
    return dashboard(
        "fleet-service",
        "Service detail",
        "One service: status, latency percentiles, reasons, smoke paths, real traffic, status "
        "changes.",
        [
            timeline(
                "Service status",
                "The service's status over time (worst of its checks).",
                [target(status_code("monitor_service_status", "service", svc), "{{service}}")],
                width=24,
                height=4,
                mappings=status_mappings(),
            ),
            timeline(
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
            ),
            graph(
                "Judged latency p50 / p95 / p99 (histogram)",
                "The latency judged against the target: the service's Server-Timing for rpc "
                "checks when given, else the round trip. Bounds sit around each check's target.",
                percentile_targets("monitor_check_latency_seconds", svc, "check"),
                unit="s",
                min_value=0,
            ),
            graph(
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
            graph(
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
            graph(
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
            timeline(
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
            ),
            grid(
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
            ),
            graph(
                "Real traffic: error ratio (Cloudflare analytics)",
                "Errors over requests of the service's Worker in each analytics interval, as "
                "its analytics check judges it (docs/cloudflare.md).",
                targets(
                    (f"max by (service) (monitor_worker_error_ratio{{{svc}}})", "error ratio"),
                ),
                unit="percentunit",
                min_value=0,
            ),
            graph(
                "Real traffic: requests and errors per interval",
                "What Cloudflare counted for the Worker in the last complete interval.",
                targets(
                    (f"max by (service) (monitor_worker_requests{{{svc}}})", "requests"),
                    (f"max by (service) (monitor_worker_errors{{{svc}}})", "errors"),
                ),
                min_value=0,
            ),
            graph(
                "Real traffic: CPU time per request p50 / p99",
                "The Worker's CPU time quantiles as Cloudflare reports them.",
                targets(
                    (f"max by (service) (monitor_worker_cpu_p50_seconds{{{svc}}})", "p50"),
                    (f"max by (service) (monitor_worker_cpu_p99_seconds{{{svc}}})", "p99"),
                ),
                unit="s",
                min_value=0,
            ),
            graph(
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
            single(
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
            ),
            graph(
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
            graph(
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
            graph(
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
            graph(
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
            certificate_panel(
                "Certificates: days left, leaf and chain",
                "Per https or tls check: days until the leaf certificate expires, and until the "
                "earliest in the presented chain does (an intermediate can expire first).",
                target(days_left("check, cert", svc), "{{check}} {{cert}}", instant=True),
                width=24,
                height=6,
            ),
        ],
        variables=[service_variable()],
    )


def self_health() -> models.Dashboard:
    return dashboard(
        "fleet-monitor-self",
        "Monitor self-health",
        "The monitor process itself: loop lag, scheduling, throughput, alert delivery, memory.",
        [
            graph(
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
            graph(
                "Scheduling jitter",
                "How late checks start against their schedule.",
                percentile_targets("monitor_schedule_lag_seconds", "", "instance"),
                unit="s",
                min_value=0,
            ),
            graph(
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
            graph(
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
            graph(
                "Alert outbox depth",
                "Notifications waiting in the durable outbox; growing means a receiver fails.",
                targets(("max without (replica) (monitor_alert_outbox_depth)", "{{instance}}")),
                width=8,
                min_value=0,
            ),
            graph(
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
            single(
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
            ),
            single(
                "Config reload",
                "Whether the last config load or reload succeeded.",
                [
                    target(
                        "min without (replica) (monitor_config_last_reload_successful)",
                        "{{instance}}",
                    )
                ],
                width=6,
                mappings=value_mappings({0: ("reload failed", "red"), 1: ("ok", "green")}),
            ),
            graph(
                "Resident memory",
                "RSS of the monitor process.",
                targets((own("process_resident_memory_bytes"), "{{instance}}")),
                width=8,
                unit="bytes",
                min_value=0,
            ),
            graph(
                "Open file descriptors",
                "Sockets and files held open, against the process limit.",
                targets(
                    (own("process_open_fds"), "{{instance}} open"),
                    (own("process_max_fds"), "{{instance}} limit"),
                ),
                width=8,
                min_value=0,
            ),
            grid(
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
            ),
        ],
    )


DASHBOARDS = {
    "fleet-overview.json": fleet_overview,
    "service-detail.json": service_detail,
    "monitor-self-health.json": self_health,
}


def render(build: Callable[[], models.Dashboard]) -> str:
    board = json.loads(JSONEncoder().encode(build()))
    return json.dumps(board, indent=2) + "\n"


def main() -> None:
    for name, build in DASHBOARDS.items():
        (HERE / name).write_text(render(build), encoding="utf-8")
        print(f"wrote dashboards/{name}")


if __name__ == "__main__":
    main()
