"""A service's entry at its edges (service.py): push tokens of 15 and 16 characters, cron of
4, 5 and 6 fields, time zones, base URLs with a trailing slash, queue references. Each
refusal names file line, field and what was expected."""

from __future__ import annotations

import pytest

from monitor.config import ServiceConfig, parse_config
from tests.refusals import assert_refused_exactly

TOKEN = "t" * 16
TOKEN_SHORT = "expected a secret of at least 16 characters"
TOKEN_CHARS = "expected a token without '/', spaces or control characters"
CRON = "expected a 5-field cron expression such as '0 3 * * *', got "
ONE_SCHEDULE = "expected exactly one of schedule (cron) or every (a period)"


def push(*lines: str) -> str:
    """A service `a` with one push check `p` of these settings (line 6 on)."""
    body = "".join(f"        {line}\n" for line in lines)
    return f"services:\n  - name: a\n    url: http://a\n    push:\n      - name: p\n{body}"


def parse(text: str, env: dict[str, str] | None = None) -> object:
    return parse_config(text, "m.yaml", env={} if env is None else env)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("t" * 15, TOKEN_SHORT),
        ("", TOKEN_SHORT),
        ("t" * 8 + "/" + "t" * 8, TOKEN_CHARS),
        ("t" * 8 + "\\t" + "t" * 8, TOKEN_CHARS),
        (" " + "t" * 16, TOKEN_CHARS),
        ("t" * 16 + " ", TOKEN_CHARS),
        ("t" * 8 + "\\u00a0" + "t" * 8, TOKEN_CHARS),
    ],
)
def test_a_push_token_that_could_be_guessed_or_break_its_url_is_refused(
    token: str, message: str
) -> None:
    text = push("every: 1h", "grace: 5m", f'token: "{token}"')
    assert_refused_exactly(lambda: parse(text), 8, "services[0].push[0].token", message)


@pytest.mark.parametrize("token", ["t" * 16, "t" * 7 + " " + "t" * 8, "A-._~!$&'()*+,;=:@%x"])
def test_a_push_token_of_16_printable_characters_is_accepted(token: str) -> None:
    config = parse_config(push("every: 1h", "grace: 5m", f'token: "{token}"'), env={})
    [check] = [c for c in config.checks() if c.push is not None]
    assert check.push is not None and check.push.token.get_secret_value() == token


@pytest.mark.parametrize("schedule", ["0 3 * * *", "*/5 * * * *", "0 0 1 1 MON"])
def test_a_five_field_cron_is_accepted(schedule: str) -> None:
    config = parse_config(push(f"schedule: '{schedule}'", "grace: 5m", f"token: {TOKEN}"), env={})
    assert config.services[0].push[0].schedule == schedule


@pytest.mark.parametrize("schedule", ["0 3 * *", "0 0 3 * * *", "61 * * * *", "x y z w v", ""])
def test_a_cron_of_other_than_five_valid_fields_is_refused(schedule: str) -> None:
    text = push(f"schedule: '{schedule}'", "grace: 5m", f"token: {TOKEN}")
    assert_refused_exactly(
        lambda: parse(text), 6, "services[0].push[0].schedule", CRON + repr(schedule)
    )


@pytest.mark.parametrize("zone", ["Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires"])
def test_an_iana_time_zone_is_accepted_for_a_cron_schedule(zone: str) -> None:
    text = push("schedule: '0 3 * * *'", f"timezone: {zone}", "grace: 5m", f"token: {TOKEN}")
    config = parse_config(text, env={})
    [check] = [c for c in config.checks() if c.push is not None]
    assert check.push is not None and check.push.timezone == zone


@pytest.mark.parametrize("zone", ["Mars/Olympus", "''", "../etc/passwd", "/UTC"])
def test_an_unknown_time_zone_is_refused(zone: str) -> None:
    text = push("schedule: '0 3 * * *'", f"timezone: {zone}", "grace: 5m", f"token: {TOKEN}")
    shown = repr(zone.strip("'"))
    assert_refused_exactly(
        lambda: parse(text),
        7,
        "services[0].push[0].timezone",
        f"expected an IANA time zone such as Europe/Berlin or UTC, got {shown}",
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["grace: 5m"], ONE_SCHEDULE),
        (["schedule: '0 3 * * *'", "every: 1h", "grace: 5m"], ONE_SCHEDULE),
        (["every: 1h", "timezone: UTC", "grace: 5m"], "timezone applies to a cron schedule only"),
    ],
)
def test_a_push_check_has_exactly_one_schedule(settings: list[str], message: str) -> None:
    text = push(*settings, f"token: {TOKEN}")
    assert_refused_exactly(lambda: parse(text), 5, "services[0].push[0]", message)


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("http://a/", "http://a"),
        ("https://a:8443/api/", "https://a:8443/api"),
        ("http://a//", "http://a"),
    ],
)
def test_a_base_url_loses_its_trailing_slashes(url: str, kept: str) -> None:
    config = parse_config(f"services:\n  - name: a\n    url: '{url}'\n", env={})
    assert config.services[0].url == kept
    assert config.checks()[0].url == kept + "/health"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://a/?x=1", "'http://a/?x=1'"),
        ("http://u:hunter2@a/#f", "'http://[redacted]@a/#f'"),
        ("tcp://a:5432", "'tcp://a:5432'"),
    ],
)
def test_a_base_url_with_a_query_or_another_scheme_is_refused(url: str, shown: str) -> None:
    error = assert_refused_exactly(
        lambda: parse(f"services:\n  - name: a\n    url: '{url}'\n"),
        3,
        "services[0].url",
        f"expected an http:// or https:// base URL, got {shown}",
    )
    assert "hunter2" not in str(error)


def test_a_runbook_link_is_kept_as_written() -> None:
    text = "services:\n  - name: a\n    url: http://a\n    runbook: https://wiki/a#down\n"
    assert parse_config(text, env={}).services[0].runbook == "https://wiki/a#down"


def test_the_worker_name_defaults_to_the_service_name() -> None:
    assert ServiceConfig(name="api", url="http://a").worker_name == "api"
    assert ServiceConfig(name="api", url="http://a", worker="api-prod").worker_name == "api-prod"


def test_a_queue_is_a_name_or_a_name_and_an_id() -> None:
    text = (
        "services:\n  - name: a\n    url: http://a\n    queues:\n"
        "      - jobs\n      - {name: mail, id: 0f3c-9a}\n"
    )
    queues = parse_config(text, env={}).services[0].queues
    assert [(q.name, q.id, q.queue_id) for q in queues] == [
        ("jobs", None, "jobs"),
        ("mail", "0f3c-9a", "0f3c-9a"),
    ]
