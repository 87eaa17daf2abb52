"""The deploy gate: verdicts over reports built from model objects, and every renderer."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from monitor.exit_codes import ExitCode
from monitor.gate.verdict import (
    GateReport,
    escape_data,
    escape_property,
    github_annotations,
    judge,
    render_github_summary,
    render_json,
    render_junit,
    render_table,
)
from monitor.model import CheckKind, CheckStatus, LatencySummary, Reason, ServiceStatus, Status
from tests.check_builders import check_status

H, D, U = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY


def check(
    status: Status = H,
    reason: Reason = Reason.OK,
    detail: str = "",
    *,
    name: str = "health",
    kind: CheckKind = CheckKind.HEALTH,
    p95: float | None = 12.0,
    target: float | None = 50.0,
    version: str | None = None,
    within: bool | None = None,
) -> CheckStatus:
    return check_status(
        name,
        kind,
        status,
        reason,
        url=f"https://x.example/{name}",
        detail=detail,
        latency_ms=LatencySummary(p95=p95, count=50) if p95 is not None else None,
        target_ms=target,
        within_target=within,
        version=version,
        duration_ms=11.0,
    )


def service(
    name: str,
    status: Status = H,
    reason: Reason = Reason.OK,
    detail: str = "",
    *,
    checks: list[CheckStatus] | None = None,
    version: str | None = None,
) -> ServiceStatus:
    return ServiceStatus(
        name=name,
        status=status,
        reason=reason,
        detail=detail,
        url=f"https://{name}.example.workers.dev",
        version=version,
        checks=checks if checks is not None else [check(status, reason, detail)],
    )


SEED_FLEET = [
    service("do-gateway"),
    service("do-schedule"),
    service("queue"),
    service("do-db", D, Reason.REPORTED_DEGRADED, "postgres: DATABASE_URL not configured"),
    service("webhooks", D, Reason.NOT_FOUND, "HTTP 404 on /health"),
    service("auth", U, Reason.WORKER_EXCEPTION, "Worker threw exception"),
    service("do-mcp", U, Reason.WORKER_EXCEPTION, "Worker threw exception"),
    service("email", U, Reason.WORKER_EXCEPTION, "error code: 1101"),
]

SMOKE = [
    check(),
    check(name="db-query", kind=CheckKind.RPC, p95=7.25, target=5.0),
]


@pytest.mark.parametrize(
    ("services", "expect_version", "ok", "failing"),
    [
        pytest.param([service("a"), service("b")], None, True, {}, id="all-healthy"),
        pytest.param(
            SEED_FLEET,
            None,
            False,
            {
                "do-db": "not healthy: degraded (reported_degraded): postgres: DATABASE_URL",
                "webhooks": "not healthy: degraded (not_found)",
                "auth": "not healthy: unhealthy (worker_exception): Worker threw exception",
                "do-mcp": "not healthy: unhealthy (worker_exception)",
                "email": "not healthy: unhealthy (worker_exception): error code: 1101",
            },
            id="seed-fleet-as-deployed",
        ),
        pytest.param(
            [service("a", checks=[check(p95=62.5)])],
            None,
            False,
            {"a": "p95 62.5 ms over target 50.0 ms on check health/health"},
            id="p95-over-target",
        ),
        pytest.param(
            [service("a", checks=[check(p95=50.0)])], None, True, {}, id="p95-at-target-passes"
        ),
        pytest.param(
            [service("a", checks=SMOKE)],
            None,
            False,
            {"a": "p95 7.25 ms over target 5.00 ms on check rpc/db-query"},
            id="smoke-rpc-over-target",
        ),
        pytest.param(
            [service("a", checks=[check(p95=None, within=False)])],
            None,
            False,
            {"a": "latency over target on check health/health"},
            id="within-target-false-without-p95",
        ),
        pytest.param(
            [service("a", checks=[check(p95=None)])],
            None,
            True,
            {},
            id="no-latency-samples-is-not-a-failure",
        ),
        pytest.param(
            [service("a", version="1.4.1")],
            "1.4.2",
            False,
            {"a": "version mismatch: reported 1.4.1, expected 1.4.2"},
            id="version-mismatch",
        ),
        pytest.param([service("a", version="1.4.2")], "1.4.2", True, {}, id="version-match"),
        pytest.param(
            [service("a", checks=[check(version="1.4.2")])],
            "1.4.2",
            True,
            {},
            id="version-from-health-check",
        ),
        pytest.param([service("a")], "1.4.2", True, {}, id="no-version-reported-passes"),
        pytest.param(
            [service("a", Status.UNKNOWN, Reason.NOT_CHECKED, "")],
            None,
            False,
            {"a": "not healthy: unknown (not_checked)"},
            id="never-checked-fails",
        ),
    ],
)
def test_judge(
    services: list[ServiceStatus], expect_version: str | None, ok: bool, failing: dict[str, str]
) -> None:
    report = judge(services, expect_version=expect_version)
    assert report.ok is ok
    assert report.exit_code is (ExitCode.OK if ok else ExitCode.GATE_FAILED)
    assert {s.name for s in report.failed} == set(failing)
    for verdict in report.failed:
        assert any(f.startswith(failing[verdict.name]) for f in verdict.failures), verdict.failures


def test_exit_codes_are_stable() -> None:
    assert [(c.name, int(c)) for c in ExitCode] == [
        ("OK", 0),
        ("GATE_FAILED", 1),
        ("USAGE_OR_CONFIG", 2),
    ]


def test_empty_fleet_fails() -> None:
    report = judge([])
    assert not report.ok
    assert report.failures == ["no services to verify; check the config's services:"]


def test_service_without_version_says_so() -> None:
    [verdict] = judge([service("a")], expect_version="2.0.0").services
    assert verdict.ok
    assert verdict.notes == ["reports no version; expected 2.0.0 was not verified"]


def test_check_rows_carry_their_own_verdict() -> None:
    report = judge(
        [
            service(
                "a",
                D,
                Reason.SERVER_ERROR,
                "rpc check db-query: HTTP 500",
                checks=[
                    check(),
                    check(
                        D,
                        Reason.SERVER_ERROR,
                        "HTTP 500",
                        name="db-query",
                        kind=CheckKind.RPC,
                        p95=3.0,
                        target=5.0,
                    ),
                ],
            )
        ]
    )
    health, rpc = report.services[0].checks
    assert health.ok and health.failures == []
    assert not rpc.ok
    assert rpc.failures == ["not healthy: degraded (server_error): HTTP 500"]
    assert (rpc.p95_ms, rpc.target_ms, rpc.samples) == (3.0, 5.0, 50)


def test_table_names_every_failure() -> None:
    text = render_table(judge(SEED_FLEET))
    lines = text.splitlines()
    assert lines[0].split() == [
        "SERVICE",
        "STATUS",
        "REASON",
        "P95",
        "/",
        "TARGET",
        "VERSION",
        "RESULT",
    ]
    row = next(line for line in lines if line.startswith("auth "))
    assert row.split()[:3] == ["auth", "unhealthy", "worker_exception"]
    assert row.rstrip().endswith("FAIL")
    gateway = next(line for line in lines if line.startswith("do-gateway "))
    assert "12.0 / 50.0 ms" in gateway and gateway.rstrip().endswith("OK")
    fails = [line for line in lines if line.startswith("FAIL ")]
    assert [f.split(":")[0] for f in fails] == [
        "FAIL do-db",
        "FAIL webhooks",
        "FAIL auth",
        "FAIL do-mcp",
        "FAIL email",
    ]
    assert lines[-1] == "deploy gate: FAILED (5 of 8 services fail)"
    # fixed width: the RESULT column starts at the same offset on every row
    offsets = {line.rstrip().rfind(" ") for line in lines[:9]}
    assert len(offsets) == 1


def test_table_shows_check_rows_for_services_with_smoke_checks() -> None:
    text = render_table(judge([service("a", checks=SMOKE)]))
    assert any(
        line.startswith("  rpc/db-query") and line.endswith("fail") for line in text.splitlines()
    )
    assert text.endswith("deploy gate: FAILED (1 of 1 services fail)\n")


def test_json_has_status_fields_plus_ok() -> None:
    data = json.loads(render_json(judge(SEED_FLEET, expect_version="1.0")))
    assert data["ok"] is False and data["exit_code"] == 1
    by_name = {s["name"]: s for s in data["services"]}
    assert by_name["do-db"]["status"] == "degraded"
    assert by_name["do-db"]["reason"] == "reported_degraded"
    assert by_name["do-db"]["detail"] == "postgres: DATABASE_URL not configured"
    assert by_name["queue"]["ok"] is True and by_name["email"]["ok"] is False
    data.pop("exit_code")
    assert GateReport.model_validate(data).ok is False


@pytest.mark.parametrize(
    ("services", "tests", "failures"),
    [
        pytest.param([service("a"), service("b")], 4, 0, id="healthy"),
        # 8 services + 8 health checks; 5 failing services, each with a failing health check
        pytest.param(SEED_FLEET, 16, 10, id="seed-fleet"),
        # service fails on the rpc p95; its health check passes, the rpc check fails
        pytest.param([service("a", checks=SMOKE)], 3, 2, id="smoke-latency"),
        pytest.param([], 1, 1, id="empty"),
    ],
)
def test_junit_parses_and_counts_failures(
    services: list[ServiceStatus], tests: int, failures: int
) -> None:
    root = ET.fromstring(render_junit(judge(services)))
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == tests == int(suite.get("tests", "-1")) == int(root.get("tests", "-1"))
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == failures == int(suite.get("failures", "-1"))


def test_junit_failure_message_and_hostile_text() -> None:
    hostile = 'bad <tag> & "quote" \x00\x1b[31m'
    xml = render_junit(judge([service("auth", U, Reason.WORKER_EXCEPTION, hostile)]))
    root = ET.fromstring(xml)
    case = root.find("testsuite/testcase[@name='auth']")
    assert case is not None and case.get("classname") == "verify.auth"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith(
        'not healthy: unhealthy (worker_exception): bad <tag> & "quote"'
    )
    assert "\x00" not in (failure.text or "")


def test_github_summary_table() -> None:
    text = render_github_summary(judge([*SEED_FLEET, service("x|y", detail="a|b")]))
    assert text.startswith("### Deploy verification failed")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == 9
    assert all(row.count(" | ") == 5 for row in rows)  # escaped pipes keep 6 cells
    assert "| `auth` | unhealthy | `worker_exception` |" in text
    assert "- **email**: not healthy: unhealthy (worker_exception): error code: 1101" in text


@pytest.mark.parametrize(
    ("raw", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("50% done", "50%25 done", "50%25 done"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("x: y, z", "x: y, z", "x%3A y%2C z"),
        ("%0A", "%250A", "%250A"),
    ],
)
def test_workflow_command_escaping(raw: str, data: str, prop: str) -> None:
    assert escape_data(raw) == data
    assert escape_property(raw) == prop


def test_github_annotations() -> None:
    lines = github_annotations(
        judge(
            [
                service("do-db", D, Reason.REPORTED_DEGRADED, "100% broken\nreally", version="1"),
                service("ok", version=None),
                service("fine", version="2"),
            ],
            expect_version="2",
        )
    )
    assert lines == [
        "::error title=do-db failed deploy verification::"
        "not healthy: degraded (reported_degraded): 100%25 broken%0Areally"
        "%0Aversion mismatch: reported 1, expected 2",
        "::warning title=ok%3A note from deploy verification::"
        "reports no version; expected 2 was not verified",
    ]
    assert all("\n" not in line for line in lines)


def _unescape(text: str) -> str:
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


@given(st.text())
def test_escaping_is_single_line_and_reversible(text: str) -> None:
    for escaped in (escape_data(text), escape_property(text)):
        assert "\r" not in escaped and "\n" not in escaped
        assert _unescape(escaped) == text
    assert ":" not in escape_property(text) and "," not in escape_property(text)


@given(st.text(), st.text(min_size=1))
def test_junit_always_parses(detail: str, version: str) -> None:
    assume(version.strip() != "x")
    report = judge([service("a", U, Reason.WORKER_EXCEPTION, detail, version=version)], "x")
    suite = ET.fromstring(render_junit(report)).find("testsuite")
    assert suite is not None and suite.get("failures") == "2"
