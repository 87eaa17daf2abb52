"""Where `monitor verify` writes: the progress line, stdout/stderr, JUnit, GitHub Actions."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from monitor.exit_codes import ExitCode
from monitor.gate.output import ProgressLine, format_round, write_reports
from monitor.gate.rounds import Round
from monitor.gate.verdict import GateReport, judge
from monitor.model import Reason, ServiceStatus, Status


@pytest.mark.parametrize(
    ("r", "line"),
    [
        (Round(1, 10, 10, (), 0.0, True), "verify: round 1: 10/10 pass"),
        (
            Round(2, 7, 10, ("auth", "email"), 8.4, False),
            "verify: round 2: 7/10 pass; waiting for auth, email; 8s left",
        ),
        (
            Round(3, 4, 10, ("a", "b", "c", "d", "e", "f"), 0.0, True),
            "verify: round 3: 4/10 pass; failing: a, b, c, d (+2 more)",
        ),
    ],
)
def test_format_round(r: Round, line: str) -> None:
    assert format_round(r) == line


def test_progress_rewrites_one_line_on_a_terminal_and_appends_otherwise() -> None:
    rounds = [Round(1, 0, 1, ("a",), 5.0, False), Round(2, 1, 1, (), 4.0, True)]
    tty, plain = io.StringIO(), io.StringIO()
    for stream, is_tty in ((tty, True), (plain, False)):
        progress = ProgressLine(stream, tty=is_tty)
        for r in rounds:
            progress(r)
        progress.close()
    assert tty.getvalue() == (
        "\r\x1b[Kverify: round 1: 0/1 pass; waiting for a; 5s left"
        "\r\x1b[Kverify: round 2: 1/1 pass\n"
    )
    assert plain.getvalue().splitlines() == [format_round(r) for r in rounds]


def report(status: Status = Status.UNHEALTHY) -> GateReport:
    reason = Reason.OK if status is Status.HEALTHY else Reason.WORKER_EXCEPTION
    return judge([ServiceStatus(name="auth", status=status, reason=reason, detail="d", url="u")])


@pytest.mark.parametrize(
    ("env", "as_json", "annotations_on"),
    [
        ({}, False, None),
        ({"GITHUB_ACTIONS": "true"}, False, "out"),
        ({"GITHUB_ACTIONS": "true"}, True, "err"),
        ({"GITHUB_ACTIONS": "false"}, False, None),
    ],
)
def test_annotations_only_on_github_and_never_inside_json(
    env: dict[str, str], as_json: bool, annotations_on: str | None
) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = write_reports(report(), as_json=as_json, junit=None, env=env, out=out, err=err)
    assert code is ExitCode.GATE_FAILED
    streams = {"out": out.getvalue(), "err": err.getvalue()}
    for name, text in streams.items():
        assert ("::error title=auth failed deploy verification::" in text) == (
            name == annotations_on
        )


def test_a_junit_file_that_cannot_be_written_is_exit_2(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = write_reports(
        report(Status.HEALTHY), as_json=False, junit=str(tmp_path), env={}, out=out, err=err
    )
    assert code is ExitCode.USAGE_OR_CONFIG
    assert f"cannot write --junit {tmp_path}" in err.getvalue()
    assert "deploy gate: OK" in out.getvalue()
