"""The status page's view model: wording, root causes, reason phrases, latency lines, bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.model import (
    CheckKind,
    CheckStatus,
    FleetStatus,
    LatencySummary,
    Reason,
    ServiceStatus,
    Status,
)
from monitor.web.graph import causes, graph
from monitor.web.history import Bucket
from monitor.web.timeline import bar
from monitor.web.view import latency_line
from monitor.web.words import PHRASES, banner, duration, percent, phrase
from tests.check_builders import check_status

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
H, D, U, K = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY, Status.UNKNOWN


def svc(name: str, status: Status, depends_on: tuple[str, ...] = ()) -> ServiceStatus:
    return ServiceStatus(
        name=name,
        status=status,
        reason=Reason.OK if status is H else Reason.TIMEOUT,
        detail="",
        url="http://x",
        depends_on=list(depends_on),
    )


def fleet(*services: ServiceStatus) -> FleetStatus:
    worst = max((s.status for s in services), key=lambda s: s.severity, default=H)
    counts = {st: sum(1 for s in services if s.status is st) for st in Status}
    return FleetStatus(status=worst, generated_at=NOW, counts=counts, services=list(services))


@pytest.mark.parametrize(
    ("statuses", "text", "status"),
    [
        ([H, H, H], "All 3 services healthy", H),
        ([H], "Healthy", H),
        ([H, D, H], "1 degraded · 2 of 3 healthy", D),
        ([U, D, D, H], "1 down, 2 degraded · 1 of 4 healthy", U),
        ([U, U, K], "2 down, 1 unknown · 0 of 3 healthy", U),
        ([], "No services configured", K),
    ],
)
def test_banner_wording(statuses: list[Status], text: str, status: Status) -> None:
    shown = fleet(*(svc(f"s{i}", s) for i, s in enumerate(statuses)))
    result = banner(shown.counts, shown.status)
    assert result.text == text
    assert result.status is status


def test_banner_counts_a_big_fleet_with_separators() -> None:
    result = banner({H: 98_766, U: 1_200, D: 34, K: 0}, U)
    assert result.text == "1,200 down, 34 degraded · 98,766 of 100,000 healthy"
    assert banner({H: 10_000}, H).text == "All 10,000 services healthy"


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_a_short_phrase(reason: Reason) -> None:
    text = PHRASES[reason]
    assert text and len(text) <= 50 and "_" not in text
    assert phrase(reason.value) == text


def test_unknown_reason_codes_pass_through_readably() -> None:
    assert phrase("some_future_code") == "some future code"


def test_phrases_are_distinct() -> None:
    assert len(set(PHRASES.values())) == len(PHRASES)


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        # gateway down because auth is down because db is down: db is the root for both
        (
            [svc("gw", U, ("auth",)), svc("auth", U, ("db",)), svc("db", U)],
            {"gw": ("root", ("db",)), "auth": ("root", ("db",))},
        ),
        # a down service whose dependency is fine explains itself
        ([svc("gw", U, ("db",)), svc("db", H)], {}),
        # a degraded dependency is only a suspect
        ([svc("auth", U, ("db",)), svc("db", D)], {"auth": ("suspect", ("db",))}),
        # two independent down dependencies
        (
            [svc("gw", U, ("a", "b")), svc("a", U), svc("b", U)],
            {"gw": ("root", ("a", "b"))},
        ),
        # a cycle of down services names nobody, as the pager pages both (test_root_cause.py)
        ([svc("a", U, ("b",)), svc("b", U, ("a",))], {}),
        # a healthy dependent of a down service has nothing to explain
        ([svc("gw", H, ("db",)), svc("db", U)], {}),
    ],
)
def test_root_cause(
    services: list[ServiceStatus], expected: dict[str, tuple[str, tuple[str, ...]]]
) -> None:
    found = causes(services)
    assert {k: (v.kind, v.services) for k, v in found.items()} == expected


def test_root_cause_text_and_graph_highlight() -> None:
    services = [svc("gw", U, ("auth",)), svc("auth", U, ("db",)), svc("db", U), svc("lone", H)]
    found = causes(services)
    assert found["gw"].text == "Likely caused by db, which is down"
    drawn = graph(services, found)
    assert {n.name for n in drawn.nodes if n.root_cause} == {"db"}
    assert drawn.alone == ["lone"]
    assert {(e.source, e.target) for e in drawn.edges} == {("gw", "auth"), ("auth", "db")}
    ys = {n.name: n.y for n in drawn.nodes}
    assert ys["gw"] < ys["auth"] < ys["db"]  # dependents above what they depend on
    assert "gw depends on auth (down)" in drawn.label


def test_causes_of_different_status_are_named_one_by_one() -> None:
    found = causes([svc("gw", D, ("a", "b")), svc("a", U), svc("b", D)])
    assert found["gw"].text == "Likely caused by a (down) and b (degraded)"
    found = causes([svc("gw", U, ("a", "b")), svc("a", D), svc("b", D)])
    assert found["gw"].text == "Depends on a and b, which are degraded"


def test_graph_without_dependencies() -> None:
    drawn = graph([svc("a", H), svc("b", H)], {})
    assert drawn.nodes == [] and drawn.alone == ["a", "b"]
    assert drawn.label == "No service declares dependencies"


def check(
    kind: CheckKind,
    *,
    p95: float | None = None,
    last: float | None = None,
    target: float | None = 5.0,
    within: bool | None = None,
) -> CheckStatus:
    return check_status(
        "health" if kind is CheckKind.HEALTH else "db",
        kind,
        duration_ms=last,
        latency_ms=LatencySummary(p95=p95, count=100) if p95 is not None else None,
        target_ms=target,
        within_target=within,
    )


@pytest.mark.parametrize(
    ("c", "label", "text", "over"),
    [
        (check(CheckKind.RPC, p95=4.2, within=True), "rpc db", "p95 4.2 ms / target 5.0 ms", False),
        (check(CheckKind.RPC, p95=7.0, within=False), "rpc db", "p95 7.0 ms / target 5.0 ms", True),
        (
            check(CheckKind.HTTP, p95=70.0, target=50.0),
            "http db",
            "p95 70.0 ms / target 50.0 ms",
            True,
        ),
        # one round trip is not a percentile: shown, never judged
        (check(CheckKind.HEALTH, last=9.0), "health", "last 9.0 ms · target 5.0 ms", False),
        (check(CheckKind.HEALTH), "health", "no measurement yet", False),
        (check(CheckKind.HEALTH, p95=123.4, target=None), "health", "p95 123 ms", False),
    ],
)
def test_latency_against_target(c: CheckStatus, label: str, text: str, over: bool) -> None:
    line = latency_line(c)
    assert (line.label, line.latency, line.over_target) == (label, text, over)


@pytest.mark.parametrize(
    ("share", "text"),
    [(None, "no data"), (1.0, "100 %"), (0.99999, "99.99 %"), (0.5, "50 %"), (0.0, "0 %")],
)
def test_percent_never_rounds_up_to_100(share: float | None, text: str) -> None:
    assert percent(share) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (59, "59 s"),
        (60, "1 min"),
        (3600, "1 h"),
        (3660, "1 h 1 min"),
        (90000, "1 d 1 h"),
    ],
)
def test_duration_words(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_bar_hover_text() -> None:
    start = NOW - timedelta(minutes=16)
    assert bar(Bucket(start, NOW, None)).title == "11:44 to 12:00 UTC: no data"
    healthy = bar(Bucket(start, NOW, H, "ok", ""))
    assert (healthy.css, healthy.title) == ("healthy", "11:44 to 12:00 UTC: Healthy")
    down = bar(Bucket(start, NOW, U, "timeout", "no answer in 2s"))
    assert down.css == "unhealthy"
    assert down.title == "11:44 to 12:00 UTC: Down — Not answering in time (no answer in 2s)"


@pytest.mark.parametrize(
    ("status", "detail", "text", "over"),
    [
        (
            H,
            "real traffic: 0.4 % errors over the last 5m (12 of 3,000 requests)",
            "0.4 % errors over the last 5m (12 of 3,000 requests)",
            False,
        ),
        (
            Status.UNHEALTHY,
            "real traffic: 100 % errors over the last 1m",
            "100 % errors over the last 1m",
            True,
        ),
        (Status.UNKNOWN, "", "no measurement yet", True),
    ],
)
def test_an_analytics_check_shows_real_traffic_not_a_round_trip(
    status: Status, detail: str, text: str, over: bool
) -> None:
    c = check(CheckKind.ANALYTICS, last=120.0).model_copy(
        update={"status": status, "detail": detail}
    )
    line = latency_line(c)
    assert (line.label, line.latency, line.over_target) == ("real traffic", text, over)
