"""The deploy gate's reports written out whole (monitor/gate/verdict.py): one fleet that holds
every case a report renders (a pass, a degraded service whose name and detail break Markdown and
XML, a multi-check service over its target with a version longer than the table's column, a
service with no version under --expect-version) and the text CI shows for it, character for
character (tests/fixtures/gate/). test_gate.py checks meaning; these pin the words, widths and
escapes. A report that changes on purpose: rewrite the file and read its diff in review."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.gate.verdict import (
    GateReport,
    github_annotations,
    judge,
    render_github_summary,
    render_json,
    render_junit,
    render_table,
)
from monitor.model import CheckKind, CheckStatus, LatencySummary, Reason, ServiceStatus, Status

H, D = Status.HEALTHY, Status.DEGRADED


def _check(
    name: str = "health",
    kind: CheckKind = CheckKind.HEALTH,
    status: Status = H,
    reason: Reason = Reason.OK,
    *,
    p95: float | None = None,
    target: float | None = None,
    version: str | None = None,
) -> CheckStatus:
    return CheckStatus(
        name=name,
        kind=kind,
        url=f"https://x.example/{name}",
        status=status,
        reason=reason,
        detail="",
        latency_ms=LatencySummary(p95=p95, count=50) if p95 is not None else None,
        target_ms=target,
        version=version,
        duration_ms=11.0,
    )


def _service(
    name: str,
    checks: list[CheckStatus],
    status: Status = H,
    reason: Reason = Reason.OK,
    detail: str = "",
    version: str | None = None,
) -> ServiceStatus:
    return ServiceStatus(
        name=name,
        status=status,
        reason=reason,
        detail=detail,
        url=f"https://{name}.example",
        version=version,
        checks=checks,
        duration_ms=1500.0,
    )


def _report() -> GateReport:
    fleet = [
        _service("gateway", [_check(p95=10.0, target=50.0)], version="2.0.1"),
        _service(
            "a|b<c>&d",
            [_check(status=D, reason=Reason.REPORTED_DEGRADED, p95=9.5, target=50.0)],
            D,
            Reason.REPORTED_DEGRADED,
            "db\n slow | <b>",
            version="2.0.1",
        ),
        _service(
            "auth",
            [
                _check(p95=10.5, target=10.0, version="w" * 21),
                _check(name="login", kind=CheckKind.RPC, target=10.0),
            ],
        ),
        _service("mailer", [_check()]),
    ]
    return judge(fleet, expect_version="2.0.1")


GOLDEN = Path(__file__).parent / "fixtures" / "gate"


def _golden(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


def test_the_table() -> None:
    assert render_table(_report()) == _golden("report-table.txt")


def test_the_github_step_summary() -> None:
    assert render_github_summary(_report()) == _golden("report-summary.md")


def test_the_junit_report() -> None:
    assert render_junit(_report()) == _golden("report-junit.xml")


def test_the_annotations() -> None:
    assert github_annotations(_report()) == [
        "::error title=a|b<c>&d failed deploy verification::"
        "not healthy: degraded (reported_degraded): db%0A slow | <b>",
        "::error title=auth failed deploy verification::"
        "p95 10.5 ms over target 10.0 ms on check health/health%0A"
        "version mismatch: reported wwwwwwwwwwwwwwwwwwwww, expected 2.0.1",
        "::warning title=mailer%3A note from deploy verification::"
        "reports no version; expected 2.0.1 was not verified",
    ]


def test_the_json_report_is_indented_by_two_and_ends_with_the_exit_code() -> None:
    text = render_json(_report())
    assert text.startswith('{\n  "ok": false,\n  "status": "degraded",\n')
    assert text.endswith('  "exit_code": 1\n}\n')
    assert json.loads(text)["services"][3]["notes"] == [
        "reports no version; expected 2.0.1 was not verified"
    ]


def test_an_empty_fleet_in_every_report() -> None:
    report = judge([])
    assert render_table(report) == (
        "SERVICE  STATUS  REASON  P95 / TARGET  VERSION  RESULT\n"
        "\n"
        "FAIL fleet: no services to verify; check the config's services:\n"
        "\n"
        "deploy gate: FAILED (0 of 0 services fail)\n"
    )
    assert github_annotations(report) == [
        "::error title=monitor verify::no services to verify; check the config's services:"
    ]
    assert render_github_summary(report).startswith(
        "### Deploy verification failed ❌\n\n0 of 0 services pass.\n"
    )


def test_a_passing_fleet_in_the_table_and_the_summary() -> None:
    report = judge([_service("gateway", [_check(p95=3.25, target=50.0)], version="2.0.1")])
    assert render_table(report) == (
        "SERVICE  STATUS   REASON  P95 / TARGET    VERSION  RESULT\n"
        "gateway  healthy  ok      3.25 / 50.0 ms  2.0.1    OK\n"
        "\n"
        "deploy gate: OK (1 services pass)\n"
    )
    assert render_github_summary(report) == (
        "### Deploy verification passed ✅\n"
        "\n"
        "1 of 1 services pass.\n"
        "\n"
        "| Service | Status | Reason | p95 / target | Version | Result |\n"
        "|---|---|---|---|---|---|\n"
        "| `gateway` | healthy | `ok` | 3.25 / 50.0 ms | 2.0.1 | ✅ OK |\n"
    )


def test_a_version_of_exactly_20_characters_is_shown_whole() -> None:
    report = judge([_service("gateway", [_check()], version="v" * 20)])
    assert render_table(report).splitlines()[1] == "gateway  healthy  ok      -             " + (
        "v" * 20 + "  OK"
    )


def test_an_analytics_check_without_data_is_no_verdict_but_an_unknown_health_check_fails() -> None:
    outage = _check("traffic", CheckKind.ANALYTICS, Status.UNKNOWN, Reason.UNRECOGNIZED_BODY)
    unknown = _check("health", CheckKind.HEALTH, Status.UNKNOWN, Reason.UNRECOGNIZED_BODY)
    report = judge([_service("a", [outage]), _service("b", [unknown])])
    assert [c.failures for s in report.services for c in s.checks] == [
        [],
        ["not healthy: unknown (unrecognized_body)"],
    ]


def test_check_verdicts_carry_version_and_duration_into_json() -> None:
    data = json.loads(render_json(_report()))
    check = data["services"][2]["checks"][0]
    assert (check["version"], check["duration_ms"], check["samples"]) == ("w" * 21, 11.0, 50)


def test_junit_without_a_duration_and_with_control_characters() -> None:
    service = _service("a", [_check(status=D, reason=Reason.REPORTED_DEGRADED)], D, Reason.TIMEOUT)
    service = service.model_copy(update={"duration_ms": None, "detail": "bell\x07"})
    xml = render_junit(judge([service]))
    assert '<testcase classname="verify.a" name="a" time="0.000">' in xml
    assert "<system-out>degraded (timeout): bell\ufffd\nurl: https://a.example</system-out>" in xml
