"""The deploy gate's judgement and reports at their edges (monitor/gate/verdict.py). One fleet
holds every case a report renders (a pass, a degraded service whose name and detail break
Markdown and XML, a multi-check service over its target with a version longer than the table's
column, a service with no version under --expect-version); its table, step summary and JUnit
are compared whole with tests/fixtures/gate/. test_gate.py checks meaning; these pin the words,
widths, cuts and escapes, and which check's figures speak for a service. A report that changes
on purpose: rewrite the file and read its diff in review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.gate import verdict as gate
from monitor.gate.verdict import GateReport, judge
from monitor.model import CheckKind, CheckStatus, LatencySummary, Reason, Status
from tests.test_gate import check, service

D = Status.DEGRADED


def _report() -> GateReport:
    fleet = [
        service("gateway", checks=[check(p95=10.0)], version="2.0.1").model_copy(
            update={"duration_ms": 1500.0}
        ),
        service(
            "a|b<c>&d",
            D,
            Reason.REPORTED_DEGRADED,
            "db\n slow | <b>",
            checks=[check(D, Reason.REPORTED_DEGRADED, p95=9.5)],
            version="2.0.1",
        ),
        service(
            "auth",
            checks=[
                check(p95=10.5, target=10.0, version="w" * 21),
                check(name="login", kind=CheckKind.RPC, p95=None, target=10.0),
            ],
        ),
        service("mailer", checks=[check(p95=None, target=None)]),
    ]
    return judge(fleet, expect_version="2.0.1")


GOLDEN = Path(__file__).parent / "fixtures" / "gate"


def _golden(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


def test_the_table() -> None:
    assert gate.render_table(_report()) == _golden("report-table.txt")


def test_the_github_step_summary() -> None:
    assert gate.render_github_summary(_report()) == _golden("report-summary.md")


def test_the_junit_report() -> None:
    assert gate.render_junit(_report()) == _golden("report-junit.xml")


def test_the_annotations() -> None:
    assert gate.github_annotations(_report()) == [
        "::error title=a|b<c>&d failed deploy verification::"
        "not healthy: degraded (reported_degraded): db%0A slow | <b>",
        "::error title=auth failed deploy verification::"
        "p95 10.5 ms over target 10.0 ms on check health/health%0A"
        "version mismatch: reported wwwwwwwwwwwwwwwwwwwww, expected 2.0.1",
        "::warning title=mailer%3A note from deploy verification::"
        "reports no version; expected 2.0.1 was not verified",
    ]


def test_the_json_report_is_indented_by_two_and_ends_with_the_exit_code() -> None:
    text = gate.render_json(_report())
    assert text.startswith('{\n  "ok": false,\n  "status": "degraded",\n')
    assert text.endswith('  "exit_code": 1\n}\n')
    assert json.loads(text)["services"][3]["notes"] == [
        "reports no version; expected 2.0.1 was not verified"
    ]


def test_an_empty_fleet_in_every_report() -> None:
    report = judge([])
    assert gate.render_table(report) == (
        "SERVICE  STATUS  REASON  P95 / TARGET  VERSION  RESULT\n"
        "\n"
        "FAIL fleet: no services to verify; check the config's services:\n"
        "\n"
        "deploy gate: FAILED (0 of 0 services fail)\n"
    )
    assert gate.github_annotations(report) == [
        "::error title=monitor verify::no services to verify; check the config's services:"
    ]
    assert gate.render_github_summary(report).startswith(
        "### Deploy verification failed ❌\n\n0 of 0 services pass.\n"
    )


def test_a_passing_fleet_in_the_table_and_the_summary() -> None:
    report = judge([service("gateway", checks=[check(p95=3.25)], version="2.0.1")])
    assert gate.render_table(report) == (
        "SERVICE  STATUS   REASON  P95 / TARGET    VERSION  RESULT\n"
        "gateway  healthy  ok      3.25 / 50.0 ms  2.0.1    OK\n"
        "\n"
        "deploy gate: OK (1 services pass)\n"
    )
    assert gate.render_github_summary(report) == (
        "### Deploy verification passed ✅\n"
        "\n"
        "1 of 1 services pass.\n"
        "\n"
        "| Service | Status | Reason | p95 / target | Version | Result |\n"
        "|---|---|---|---|---|---|\n"
        "| `gateway` | healthy | `ok` | 3.25 / 50.0 ms | 2.0.1 | ✅ OK |\n"
    )


def test_a_version_of_exactly_20_characters_is_shown_whole() -> None:
    report = judge([service("gateway", checks=[check(p95=None, target=None)], version="v" * 20)])
    assert gate.render_table(report).splitlines()[
        1
    ] == "gateway  healthy  ok      -             " + ("v" * 20 + "  OK")


def test_an_analytics_check_without_data_is_no_verdict_but_an_unknown_health_check_fails() -> None:
    outage = check(
        Status.UNKNOWN, Reason.UNRECOGNIZED_BODY, name="traffic", kind=CheckKind.ANALYTICS
    )
    unknown = check(Status.UNKNOWN, Reason.UNRECOGNIZED_BODY)
    report = judge([service("a", checks=[outage]), service("b", checks=[unknown])])
    assert [c.failures for s in report.services for c in s.checks] == [
        [],
        ["not healthy: unknown (unrecognized_body)"],
    ]


def test_check_verdicts_carry_version_and_duration_into_json() -> None:
    data = json.loads(gate.render_json(_report()))
    check = data["services"][2]["checks"][0]
    assert (check["version"], check["duration_ms"], check["samples"]) == ("w" * 21, 11.0, 50)


def test_junit_without_a_duration_and_with_control_characters() -> None:
    failing = service("a", D, Reason.TIMEOUT, "bell\x07", checks=[check(D, Reason.TIMEOUT)])
    xml = gate.render_junit(judge([failing]))
    assert '<testcase classname="verify.a" name="a" time="0.000">' in xml
    assert (
        "<system-out>degraded (timeout): bell\ufffd\nurl: https://a.example.workers.dev</system-out>"
        in xml
    )


def test_junit_of_an_empty_fleet() -> None:
    assert gate.render_junit(judge([])) == (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<testsuites name="monitor verify" tests="1" failures="1" errors="0" skipped="0">\n'
        '  <testsuite name="monitor verify" tests="1" failures="1" errors="0" skipped="0">\n'
        '    <testcase classname="verify" name="fleet" time="0.000">\n'
        '      <failure message="no services to verify; check the config\'s services:" '
        'type="deploy-gate">no services to verify; check the config\'s services:</failure>\n'
        "    </testcase>\n"
        "  </testsuite>\n"
        "</testsuites>\n"
    )


def test_junit_check_cases_carry_the_check_detail() -> None:
    slow = service("a", checks=[check(D, Reason.REPORTED_DEGRADED, "queue slow")])
    assert "<system-out>degraded (reported_degraded): queue slow</system-out>" in (
        gate.render_junit(judge([slow]))
    )


def test_a_check_without_latency_has_no_samples() -> None:
    data = json.loads(gate.render_json(_report()))
    assert data["services"][3]["checks"][0]["samples"] == 0


@pytest.mark.parametrize(
    ("checks", "version"),
    [
        ([check(version="1.0"), check(name="q", kind=CheckKind.RPC, version="2.0")], "1.0"),
        ([check(name="q", kind=CheckKind.RPC, version="2.0"), check(version="1.0")], "1.0"),
        (
            [check(name="q", kind=CheckKind.RPC), check(name="r", kind=CheckKind.RPC, version="3")],
            "3",
        ),
    ],
)
def test_the_version_is_the_health_check_s_before_any_other(
    checks: list[CheckStatus], version: str
) -> None:
    assert judge([service("a", checks=checks)]).services[0].version == version


def test_without_a_health_check_the_first_check_speaks_for_latency() -> None:
    rpc_only = service("a", checks=[check(name="q", kind=CheckKind.RPC, p95=7.0, target=5.0)])
    verdict = judge([rpc_only]).services[0]
    assert (verdict.p95_ms, verdict.target_ms) == (7.0, 5.0)


def test_a_service_without_checks_uses_its_own_figures() -> None:
    bare = service("a", checks=[], version=None).model_copy(
        update={"latency_ms": LatencySummary(p95=8.0, count=3), "target_ms": 40.0}
    )
    verdict = judge([bare]).services[0]
    assert (verdict.ok, verdict.version, verdict.p95_ms, verdict.target_ms) == (
        True,
        None,
        8.0,
        40.0,
    )


def test_a_health_check_without_figures_falls_back_to_the_service_s() -> None:
    quiet = service("a", checks=[check(p95=None, target=None)]).model_copy(
        update={"latency_ms": LatencySummary(p95=8.0, count=3), "target_ms": 40.0}
    )
    verdict = judge([quiet]).services[0]
    assert (verdict.p95_ms, verdict.target_ms) == (8.0, 40.0)


def test_long_failures_are_cut_at_300_in_the_table_and_500_in_junit() -> None:
    for width, detail_length in ((300, 257), (301, 258)):
        failing = service("a", D, Reason.REPORTED_DEGRADED, "d" * detail_length, checks=[])
        line = gate.render_table(judge([failing])).splitlines()[3]
        failure = "not healthy: degraded (reported_degraded): " + "d" * detail_length
        assert len(failure) == width
        assert line == "FAIL a: " + (failure if width == 300 else failure[:297] + "...")
    for width, detail_length in ((500, 457), (501, 458)):
        failing = service("a", D, Reason.REPORTED_DEGRADED, "d" * detail_length, checks=[])
        failure = "not healthy: degraded (reported_degraded): " + "d" * detail_length
        message = failure if width == 500 else failure[:497] + "..."
        assert f'<failure message="{message}"' in gate.render_junit(judge([failing]))
