"""Two documented refusals that had no test: a header value that would split the request
(a line break), and an Alertmanager route whose `repeat_interval` is not shorter than the
receiver's `hold` (Alertmanager would resolve the alert before the monitor re-sends it)."""

from __future__ import annotations

import pytest

from monitor.alerting.rules import parse_alert_rules
from monitor.config import parse_config
from monitor.errors import ConfigError

HEADER = "services:\n  - name: a\n    url: http://a\n    headers:\n      X-Token: {value}\n"


@pytest.mark.parametrize(
    "value",
    ['"abc\\ndef"', '"abc\\rdef"', '"abc\\r\\nX-Evil: 1"', '"${TOKEN}"'],
    ids=["LF", "CR", "CRLF injection", "line break from the environment"],
)
def test_a_header_value_with_a_line_break_is_refused(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(HEADER.format(value=value), "monitor.yaml", env={"TOKEN": "a\nb"})
    (problem,) = caught.value.problems
    assert problem.location == "services[0].headers.X-Token"
    assert problem.line == 5
    assert "value contains a line break" in problem.message


def test_a_header_value_without_a_line_break_is_kept() -> None:
    config = parse_config(HEADER.format(value='"abc\\tdef"'), env={})
    (check,) = config.checks()
    assert check.headers["X-Token"].get_secret_value() == "abc\tdef"


def _alerts(repeat_interval: str, hold: str) -> str:
    return (
        "receivers:\n"
        f"  - {{name: am, type: alertmanager, url: 'http://127.0.0.1:9093', hold: {hold}}}\n"
        "rules:\n"
        "  - name: Down\n"
        "    kind: status\n"
        f"    repeat_interval: {repeat_interval}\n"
        "route: [am]\n"
    )


@pytest.mark.parametrize(("repeat_interval", "hold"), [("1h", "1h"), ("2h", "1h")])
def test_repeat_interval_not_shorter_than_the_hold_is_refused(
    repeat_interval: str, hold: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_alert_rules(_alerts(repeat_interval, hold), "alerts.yaml", env={})
    (problem,) = caught.value.problems
    assert problem.location == "rules[0].repeat_interval"
    assert problem.line == 6
    assert problem.message == (
        "must be shorter than the hold (3600s) of receiver 'am', or Alertmanager resolves "
        "the alert before it is re-sent"
    )


def test_repeat_interval_one_second_under_the_hold_is_accepted() -> None:
    loaded = parse_alert_rules(_alerts("3599s", "1h"), "alerts.yaml", env={})
    (rule,) = loaded.config.rules
    assert rule.repeat_interval == 3599.0
