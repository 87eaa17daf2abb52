"""The deploy gate's judgement and its reports: statuses in, a verdict and an exit code out.

`judge` is pure: the probing (waiting, sampling) belongs to `gate.rounds`, which
hands the resulting `ServiceStatus` list here. A service passes when it is healthy, every check's
p95 is within its target and, if a version is expected, it reports that version (a service that
reports none passes and says so). The renderers return text so CI can keep whichever it reads:
a terminal table, JSON shaped like `/status`, JUnit XML, a GitHub step summary, annotations.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from pydantic import BaseModel, Field

from monitor.exit_codes import ExitCode
from monitor.model import CheckKind, CheckStatus, Reason, ServiceStatus, Status, worst


class CheckVerdict(BaseModel):
    """One check of one service, as the gate saw it."""

    service: str
    name: str
    kind: CheckKind
    status: Status
    reason: Reason
    detail: str
    p95_ms: float | None = None
    target_ms: float | None = None
    samples: int = 0
    version: str | None = None
    duration_ms: float | None = None
    ok: bool
    failures: list[str] = Field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.kind.value}/{self.name}"


class ServiceVerdict(BaseModel):
    """One service: the `/status` fields plus `ok` and the reasons it fails the gate."""

    name: str
    status: Status
    reason: Reason
    detail: str
    url: str = ""
    version: str | None = None
    p95_ms: float | None = None
    target_ms: float | None = None
    duration_ms: float | None = None
    ok: bool
    failures: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    checks: list[CheckVerdict] = Field(default_factory=list)


class GateReport(BaseModel):
    """The whole verdict. `failures` holds problems of the run itself (no services at all)."""

    ok: bool
    status: Status
    expect_version: str | None = None
    failures: list[str] = Field(default_factory=list)
    services: list[ServiceVerdict] = Field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.ok else ExitCode.GATE_FAILED

    @property
    def failed(self) -> list[ServiceVerdict]:
        return [s for s in self.services if not s.ok]


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _latency_failure(check: CheckStatus) -> str | None:
    """Why the check's latency fails its target, or None."""
    p95 = check.latency_ms.p95 if check.latency_ms is not None else None
    where = f"on check {check.kind.value}/{check.name}"
    if p95 is not None and check.target_ms is not None:
        if p95 > check.target_ms:
            return f"p95 {_ms(p95)} ms over target {_ms(check.target_ms)} ms {where}"
        return None
    if check.within_target is False:
        return f"latency over target {where}"
    return None


def _judge_check(service: str, check: CheckStatus) -> CheckVerdict:
    failures: list[str] = []
    analytics_down = check.kind is CheckKind.ANALYTICS and check.status is Status.UNKNOWN
    if check.status is not Status.HEALTHY and not analytics_down:  # an API outage is no verdict
        failures.append(f"not healthy: {_status_line(check.status, check.reason, check.detail)}")
    latency = _latency_failure(check)
    if latency:
        failures.append(latency)
    summary = check.latency_ms
    return CheckVerdict(
        service=service,
        name=check.name,
        kind=check.kind,
        status=check.status,
        reason=check.reason,
        detail=check.detail,
        p95_ms=summary.p95 if summary is not None else None,
        target_ms=check.target_ms,
        samples=summary.count if summary is not None else 0,
        version=check.version,
        duration_ms=check.duration_ms,
        ok=not failures,
        failures=failures,
    )


def _main_check(service: ServiceStatus) -> CheckStatus | None:
    return next(
        (c for c in service.checks if c.kind is CheckKind.HEALTH),
        service.checks[0] if service.checks else None,
    )


def _judge_service(service: ServiceStatus, expect_version: str | None) -> ServiceVerdict:
    failures: list[str] = []
    notes: list[str] = []
    if service.status is not Status.HEALTHY:
        failures.append(
            f"not healthy: {_status_line(service.status, service.reason, service.detail)}"
        )
    for check in service.checks:
        latency = _latency_failure(check)
        if latency:
            failures.append(latency)
    main = _main_check(service)
    version = (
        service.version
        or (main.version if main else None)
        or next((c.version for c in service.checks if c.version), None)
    )
    if expect_version is not None:
        if version is None:
            notes.append(f"reports no version; expected {expect_version} was not verified")
        elif version.strip() != expect_version.strip():
            failures.append(f"version mismatch: reported {version}, expected {expect_version}")
    p95 = (
        main.latency_ms.p95
        if main and main.latency_ms
        else (service.latency_ms.p95 if service.latency_ms else None)
    )
    return ServiceVerdict(
        name=service.name,
        status=service.status,
        reason=service.reason,
        detail=service.detail,
        url=service.url,
        version=version,
        p95_ms=p95,
        target_ms=main.target_ms if main and main.target_ms is not None else service.target_ms,
        duration_ms=service.duration_ms,
        ok=not failures,
        failures=failures,
        notes=notes,
        checks=[_judge_check(service.name, c) for c in service.checks],
    )


def judge(services: Sequence[ServiceStatus], expect_version: str | None = None) -> GateReport:
    """The gate's verdict. An empty fleet fails: verifying nothing is a config mistake."""
    verdicts = [_judge_service(s, expect_version) for s in services]
    failures = [] if services else ["no services to verify; check the config's services:"]
    return GateReport(
        ok=not failures and all(v.ok for v in verdicts),
        status=worst(s.status for s in services),
        expect_version=expect_version,
        failures=failures,
        services=verdicts,
    )


# --- renderers ---------------------------------------------------------------------------


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _failures(report: GateReport) -> list[tuple[str, str]]:
    """(service, failure) pairs, run-level problems first under the name `fleet`."""
    return [("fleet", f) for f in report.failures] + [
        (s.name, f) for s in report.services for f in s.failures
    ]


def _notes(report: GateReport) -> list[tuple[str, str]]:
    return [(s.name, n) for s in report.services for n in s.notes]


def _status_line(status: Status, reason: Reason, detail: str) -> str:
    return f"{status.value} ({reason.value})" + (f": {detail}" if detail else "")


def _p95_cell(p95: float | None, target: float | None) -> str:
    if p95 is None and target is None:
        return "-"
    return f"{_ms(p95)} / {_ms(target)} ms"


def render_table(report: GateReport) -> str:
    """A fixed-width table for a terminal or a CI log, then one line per failure."""
    header = ("SERVICE", "STATUS", "REASON", "P95 / TARGET", "VERSION", "RESULT")
    rows: list[tuple[str, ...]] = []
    for s in report.services:
        rows.append(
            (
                s.name,
                s.status.value,
                s.reason.value,
                _p95_cell(s.p95_ms, s.target_ms),
                _cut(s.version or "-", 20),
                "OK" if s.ok else "FAIL",
            )
        )
        if len(s.checks) > 1:
            for c in s.checks:
                rows.append(
                    (
                        f"  {c.id}",
                        c.status.value,
                        c.reason.value,
                        _p95_cell(c.p95_ms, c.target_ms),
                        _cut(c.version or "-", 20),
                        "ok" if c.ok else "fail",
                    )
                )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    problems = [f"FAIL {name}: {_cut(f, 300)}" for name, f in _failures(report)]
    problems += [f"NOTE {name}: {n}" for name, n in _notes(report)]
    if problems:
        lines += ["", *problems]
    failed = len(report.failed)
    verdict = (
        f"deploy gate: OK ({len(report.services)} services pass)"
        if report.ok
        else f"deploy gate: FAILED ({failed} of {len(report.services)} services fail)"
    )
    return "\n".join([*lines, "", verdict]) + "\n"


def render_json(report: GateReport) -> str:
    """JSON with `/status`'s per-service fields (name, status, reason, detail, ...) plus `ok`."""
    data = report.model_dump(mode="json")
    data["exit_code"] = int(report.exit_code)
    return json.dumps(data, indent=2) + "\n"


_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """XML 1.0 cannot carry most control characters, and bodies sometimes hold them."""
    return _XML_INVALID.sub("\ufffd", text)


def _testcase(
    suite: ET.Element,
    classname: str,
    name: str,
    duration_ms: float | None,
    failures: list[str],
    out: str,
) -> None:
    case = ET.SubElement(suite, "testcase", classname=_xml_text(classname), name=_xml_text(name))
    case.set("time", f"{(duration_ms or 0.0) / 1000:.3f}")
    if failures:
        failure = ET.SubElement(
            case, "failure", message=_xml_text(_cut(failures[0], 500)), type="deploy-gate"
        )
        failure.text = _xml_text("\n".join(failures))
    if out:
        ET.SubElement(case, "system-out").text = _xml_text(out)


def render_junit(report: GateReport) -> str:
    """JUnit XML: one testsuite; one testcase per service and one per check."""
    suite_failures = len(report.failures) + sum(
        (not s.ok) + sum(not c.ok for c in s.checks) for s in report.services
    )
    tests = len(report.failures) + sum(1 + len(s.checks) for s in report.services)
    attrs = {
        "name": "monitor verify",
        "tests": str(tests),
        "failures": str(suite_failures),
        "errors": "0",
        "skipped": "0",
    }
    root = ET.Element("testsuites", attrs)
    suite = ET.SubElement(root, "testsuite", attrs)
    for problem in report.failures:
        _testcase(suite, "verify", "fleet", None, [problem], "")
    for s in report.services:
        out = "\n".join([_status_line(s.status, s.reason, s.detail), f"url: {s.url}", *s.notes])
        _testcase(suite, f"verify.{s.name}", s.name, s.duration_ms, s.failures, out)
        for c in s.checks:
            _testcase(
                suite,
                f"verify.{s.name}",
                f"{s.name} {c.id}",
                c.duration_ms,
                c.failures,
                _status_line(c.status, c.reason, c.detail),
            )
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _md(text: str) -> str:
    """A Markdown table cell: one line, no pipes or HTML breaking the table."""
    text = " ".join(text.split())
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def render_github_summary(report: GateReport) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: a verdict line, a table, the failures."""
    title = "passed" if report.ok else "failed"
    lines = [
        f"### Deploy verification {title} {'✅' if report.ok else '❌'}",
        "",
        f"{len(report.services) - len(report.failed)} of {len(report.services)} services pass"
        + (f"; expected version `{_md(report.expect_version)}`" if report.expect_version else "")
        + ".",
        "",
        "| Service | Status | Reason | p95 / target | Version | Result |",
        "|---|---|---|---|---|---|",
    ]
    for s in report.services:
        lines.append(
            f"| `{_md(s.name)}` | {s.status.value} | `{s.reason.value}` | "
            f"{_p95_cell(s.p95_ms, s.target_ms)} | {_md(s.version or '-')} | "
            f"{'✅ OK' if s.ok else '❌ FAIL'} |"
        )
    failures = [f"- **{_md(name)}**: {_md(f)}" for name, f in _failures(report)]
    if failures:
        lines += ["", "**Failures**", "", *failures]
    notes = [f"- {_md(name)}: {_md(n)}" for name, n in _notes(report)]
    if notes:
        lines += ["", "**Notes**", "", *notes]
    return "\n".join(lines) + "\n"


def escape_data(text: str) -> str:
    """Escape a workflow command's message, as GitHub's toolkit does (`escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (`escapeProperty`): also `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(report: GateReport) -> list[str]:
    """`::error` per failing service (its failures as lines), then `::warning` per note.

    One annotation per service, not per failure: GitHub shows at most 10 errors per step.
    """
    out = [
        f"::error title={escape_property('monitor verify')}::{escape_data(f)}"
        for f in report.failures
    ]
    for s in report.failed:
        title = escape_property(f"{s.name} failed deploy verification")
        out.append(f"::error title={title}::{escape_data(chr(10).join(s.failures))}")
    for name, note in _notes(report):
        title = escape_property(f"{name}: note from deploy verification")
        out.append(f"::warning title={title}::{escape_data(note)}")
    return out
