"""`alerts.yaml` refusals one rule at a time, each with its exact location, message and line
(one bad file per rule, as blackbox_exporter's testdata), and what a good file loads as."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.alerting.rules import load_alert_rules, parse_alert_rules
from monitor.errors import ConfigError
from monitor.receivers.webhook import WebhookConfig

RECEIVERS = "receivers:\n  - {name: log, type: log}\n  - {name: page, type: log}\n"
DOWN = "  - {name: Down, kind: status, route: [log]}\n"


@pytest.mark.parametrize(
    ("text", "location", "message", "line"),
    [
        (
            RECEIVERS + "rules:\n" + DOWN + DOWN,
            "rules[1].name",
            "duplicate rule name 'Down'",
            6,
        ),
        (
            RECEIVERS + "rules:\n  - {name: Down, kind: status}\n",
            "rules[0].route",
            "no receivers: set route here or a top-level route",
            5,
        ),
        (
            RECEIVERS + "rules:\n  - {name: Down, kind: status, route: [log, nope]}\n",
            "rules[0].route[1]",
            "unknown receiver 'nope'; expected one of ['log', 'page']",
            5,
        ),
        (
            RECEIVERS + "route: [log, nope]\nrules: []\n",
            "route[1]",
            "unknown receiver 'nope'",
            4,
        ),
        (
            RECEIVERS
            + "route: [log]\nrules:\n  - name: Down\n    kind: status\n"
            + "    match: {services: [a, ghost]}\n",
            "rules[0].match.services[1]",
            "unknown service 'ghost'",
            8,
        ),
        (
            RECEIVERS
            + "route: [log]\nrules: []\nmaintenance:\n"
            + "  - {name: w, services: [a], start: 2026-01-01, end: 2026-01-02}\n"
            + "  - {name: w, services: [a], start: 2026-01-03, end: 2026-01-04}\n",
            "maintenance[1].name",
            "duplicate window 'w'",
            8,
        ),
        (
            RECEIVERS
            + "route: [log]\nrules: []\nsilences:\n"
            + "  - {matchers: {service: a}, starts_at: 2026-01-02, ends_at: 2026-01-02}\n",
            "silences[0].ends_at",
            "must be after starts_at",
            7,
        ),
        (
            RECEIVERS
            + "route: [log]\nrules: []\nsilences:\n"
            + "  - {id: s, matchers: {service: a}, starts_at: 2026-01-01, ends_at: 2026-01-02}\n"
            + "  - {id: s, matchers: {service: b}, starts_at: 2026-01-01, ends_at: 2026-01-02}\n",
            "silences[1].id",
            "duplicate silence id 's'",
            8,
        ),
        (
            "receivers:\n  - {name: log, type: carrier-pigeon}\nrules: []\n",
            "receivers[0].type",
            "expected one of ['alertmanager', 'apprise', 'log', 'pagerduty', 'slack', 'webhook'],"
            " got 'carrier-pigeon'",
            2,
        ),
        (
            "receivers:\n  - {name: log, type: log}\n  - {name: log, type: log}\nrules: []\n",
            "receivers[1].name",
            "duplicate receiver 'log'",
            3,
        ),
        ("- just\n- a list\n", "", "expected a mapping with a rules: list", 1),
        (
            RECEIVERS
            + "route: [log]\nrules: []\nmaintenance:\n"
            + "  - {name: w, services: [a, ghost], start: 2026-01-01, end: 2026-01-02}\n",
            "maintenance[0].services[1]",
            "unknown service 'ghost'",
            7,
        ),
        (
            RECEIVERS
            + "route: [log]\nrules:\n  - {name: B, kind: burn_rate, long: 5m, short: 1h}\n",
            "rules[0].short",
            "the short window must be shorter than the long one",
            6,
        ),
        (
            "receivers:\n  - type: log\n    name: log\n  - type: log\n    name: log\nrules: []\n",
            "receivers[1].name",
            "duplicate receiver 'log'",
            5,
        ),
        (
            "receivers:\n  - name: log\n    type: carrier-pigeon\nrules: []\n",
            "receivers[0].type",
            "expected one of ['alertmanager', 'apprise', 'log', 'pagerduty', 'slack', 'webhook'],"
            " got 'carrier-pigeon'",
            3,
        ),
    ],
)
def test_a_bad_alerts_file_names_the_field_and_line(
    text: str, location: str, message: str, line: int
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_alert_rules(text, "alerts.yaml", env={}, services=["a", "b"])
    assert caught.value.file == "alerts.yaml"
    (problem,) = caught.value.problems
    assert (problem.location, problem.message, problem.line) == (location, message, line)


def test_a_rule_about_the_monitor_itself_names_no_services() -> None:
    text = RECEIVERS + "route: [log]\nrules:\n  - {name: Stalled, kind: checks_stalled}\n"
    assert parse_alert_rules(text, env={}, services=[]).config.rules[0].name == "Stalled"


def test_without_the_fleet_services_are_not_checked() -> None:
    text = RECEIVERS + "route: [log]\nrules:\n  - {name: D, kind: status, match: {services: [x]}}\n"
    assert parse_alert_rules(text, env={}).config.rules[0].match.services == ["x"]


def test_an_empty_file_is_no_rules() -> None:
    loaded = parse_alert_rules("", env={})
    assert loaded.config.rules == [] and dict(loaded.receivers) == {}


def test_a_good_file_loads_its_receivers_routes_and_silences() -> None:
    text = (
        RECEIVERS
        + "route: [log]\nrules:\n"
        + "  - {name: Down, kind: status}\n"
        + "  - {name: Paged, kind: status, route: [page]}\n"
        + "silences:\n"
        + "  - {matchers: {service: a}, starts_at: 2026-01-01, ends_at: 2026-01-02}\n"
        + "  - {id: mine, matchers: {service: b}, starts_at: 2026-01-01, ends_at: 2026-01-02}\n"
    )
    loaded = parse_alert_rules(text, env={})
    assert sorted(loaded.receivers) == ["log", "page"]
    assert [s.id for s in loaded.config.silences] == ["file-0", "mine"]
    down, paged = loaded.config.rules
    assert loaded.config.routes(down) == ["log"] and loaded.config.routes(paged) == ["page"]
    assert loaded.config.rule("Paged") is paged and loaded.config.rule("Nope") is None


def test_receiver_settings_read_the_process_environment_unless_given_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (
        "receivers:\n  - {name: hook, type: webhook, url: '${HOOK_URL}'}\n"
        "route: [hook]\nrules: []\n"
    )
    monkeypatch.setenv("HOOK_URL", "https://from-the-process.example/hook")
    (hook,) = parse_alert_rules(text).receivers.values()
    assert isinstance(hook, WebhookConfig)
    assert hook.url.get_secret_value() == "https://from-the-process.example/hook"
    given = parse_alert_rules(text, env={"HOOK_URL": "https://given.example/hook"})
    hook = given.receivers["hook"]
    assert isinstance(hook, WebhookConfig)
    assert hook.url.get_secret_value() == "https://given.example/hook"


def test_an_unreadable_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "alerts.yaml"
    with pytest.raises(ConfigError) as caught:
        load_alert_rules(missing, env={})
    assert caught.value.file == str(missing)
    (problem,) = caught.value.problems
    assert problem.location == "" and problem.message.startswith("cannot read the file: ")
    missing.write_bytes(b"rules: []\n\xff\n")
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_alert_rules(missing, env={})


def test_a_readable_file_loads_with_its_name_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(RECEIVERS + "route: [log]\nrules:\n" + DOWN, encoding="utf-8")
    assert [r.name for r in load_alert_rules(path, env={}).config.rules] == ["Down"]
    path.write_text(
        RECEIVERS + "rules:\n  - {name: D, kind: status, route: [log], match: {services: [x]}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="unknown service 'x'") as caught:
        load_alert_rules(path, env={}, services=["a"])
    assert caught.value.file == str(path)


def test_every_bad_receiver_is_reported_not_only_the_first_or_last() -> None:
    text = (
        "receivers:\n"
        "  - {name: a, type: carrier-pigeon}\n"
        "  - {name: b, type: webhook}\n"  # no url
        "  - {name: c, type: webhook}\n"
        "  - {name: d, type: smoke-signal}\n"
        "rules: []\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_alert_rules(text, env={})
    locations = [p.location.split(".")[0] for p in caught.value.problems]
    assert locations == ["receivers[0]", "receivers[1]", "receivers[2]", "receivers[3]"]


@pytest.mark.parametrize("text", ["rules: [\n", "- a\n"])
def test_an_error_names_the_file_given_or_a_stand_in(text: str) -> None:
    with pytest.raises(ConfigError) as named:
        parse_alert_rules(text, "team/alerts.yaml", env={})
    assert named.value.file == "team/alerts.yaml"
    with pytest.raises(ConfigError) as unnamed:
        parse_alert_rules(text, env={})
    assert unnamed.value.file == "<alerts>"
