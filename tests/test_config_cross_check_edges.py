"""Rules across fields of `monitor.yaml` (cross_check.py) at their edges: a timeout equal to
and one millisecond over its interval, a Cloudflare interval of 59 s and 60 s, names unique
per kind, and each refusal's file line, field and full message."""

from __future__ import annotations

import pytest

from monitor.config import parse_config
from monitor.errors import ConfigError
from tests.refusals import assert_refused_exactly

TOKEN = "k" * 16


def parse(text: str) -> object:
    return parse_config(text, "m.yaml", env={})


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return [(p.line, p.location, p.message) for p in info.value.problems]


def test_the_status_window_must_be_one_of_the_windows() -> None:
    assert_refused_exactly(
        lambda: parse("latency:\n  windows: [1m, 1h]\n  status_window: 5m\n"),
        3,
        "latency.status_window",
        "expected one of the latency.windows",
    )
    config = parse_config("latency:\n  windows: [1m, 1h]\n  status_window: 1h\n", env={})
    assert config.latency.status_window == 3600.0


def test_a_duplicate_service_name_points_at_the_first() -> None:
    text = (
        "services:\n  - {name: a, url: 'http://a'}\n  - {name: b, url: 'http://b'}\n"
        "  - {name: a, url: 'http://c'}\n  - {name: a, url: 'http://d'}\n"
    )
    assert problems(text) == [
        (4, "services[2].name", "duplicate service name 'a' (first at services[0])"),
        (5, "services[3].name", "duplicate service name 'a' (first at services[0])"),
    ]


def test_a_url_less_service_with_checks_under_a_url_names_them() -> None:
    text = (
        "services:\n  - name: a\n    rpc: [{name: r, path: /r}]\n"
        "    http: [{name: h, path: /h}]\n    mcp: [{name: m}]\n"
    )
    assert problems(text) == [
        (
            2,
            "services[0].url",
            "missing: expected a url; its rpc, http, mcp checks are paths under it",
        )
    ]
    assert problems("services:\n  - name: a\n    http: [{name: h, path: /h}]\n") == [
        (2, "services[0].url", "missing: expected a url; its http checks are paths under it")
    ]


def test_a_url_less_service_without_checks_is_refused() -> None:
    assert problems("services:\n  - name: a\n") == [
        (
            2,
            "services[0].url",
            "missing: expected a url, or only checks that name their own target (tcp, push)",
        )
    ]


@pytest.mark.parametrize(
    "checks",
    [
        "    tcp: [{name: t, address: 'a:1'}]\n",
        f"    push: [{{name: p, every: 1h, grace: 1m, token: {TOKEN}}}]\n",
    ],
)
def test_a_url_less_service_with_only_its_own_targets_is_accepted(checks: str) -> None:
    config = parse_config("services:\n  - name: a\n" + checks, env={})
    assert config.services[0].url is None


def test_check_names_are_unique_per_kind_not_across_kinds() -> None:
    text = (
        "services:\n  - name: a\n    url: http://a\n"
        "    rpc: [{name: x, path: /x}]\n"
        "    http: [{name: x, path: /x}, {name: y, path: /y}, {name: x, path: /z}]\n"
        "    tcp: [{name: x, address: 'a:1'}, {name: x, address: 'a:2'}]\n"
        "    mcp: [{name: x}, {name: x}]\n"
        f"    push: [{{name: x, every: 1h, grace: 1m, token: {TOKEN}}},"
        f" {{name: x, every: 1h, grace: 1m, token: {'j' * 16}}}]\n"
        "  - name: b\n    url: http://b\n    http: [{name: x, path: /x}]\n"
    )
    assert [(loc, msg) for _, loc, msg in problems(text)] == [
        ("services[0].http[2].name", "duplicate http check name 'x' in service 'a'"),
        ("services[0].tcp[1].name", "duplicate tcp check name 'x' in service 'a'"),
        ("services[0].mcp[1].name", "duplicate mcp check name 'x' in service 'a'"),
        ("services[0].push[1].name", "duplicate push check name 'x' in service 'a'"),
    ]


def test_a_load_may_name_the_health_rpc_or_http_checks_only() -> None:
    text = (
        "services:\n  - name: a\n    url: http://a\n    rpc: [{name: r, path: /r}]\n"
        "    http: [{name: h, path: /h}]\n    tcp: [{name: t, address: 'a:1'}]\n"
        "    load: {rate: 1/s, check: %s}\n"
    )
    for name in ("health", "r", "h"):
        assert parse_config(text % name, env={}).services[0].load is not None
    assert_refused_exactly(
        lambda: parse(text % "t"),
        7,
        "services[0].load.check",
        "unknown check 't'; expected one of health, r, h",
    )


def test_a_load_on_a_service_without_http_checks_says_so() -> None:
    text = "services:\n  - name: a\n    tcp: [{name: t, address: 'a:1'}]\n    load: {rate: 1/s}\n"
    assert problems(text) == [
        (
            4,
            "services[0].load.check",
            "unknown check 'health'; expected one of the http checks under a url "
            "(the service has none)",
        )
    ]


def test_dependencies_must_name_another_known_service() -> None:
    text = (
        "services:\n  - name: a\n    url: http://a\n    depends_on: [b, nope, a]\n"
        "  - name: b\n    url: http://b\n    depends_on: [a]\n"
    )
    assert problems(text) == [
        (
            4,
            "services[0].depends_on[1]",
            "unknown service 'nope'; expected one of the names under services",
        ),
        (4, "services[0].depends_on[2]", "a service cannot depend on itself"),
    ]


CLOUDFLARE = "cloudflare: {account_id: x, api_token: y, interval: %s}\nservices: []\n"


@pytest.mark.parametrize(("interval", "refused"), [("59s", True), ("59999ms", True), ("1m", False)])
def test_cloudflare_is_asked_at_most_once_a_minute(interval: str, refused: bool) -> None:
    if not refused:
        assert parse_config(CLOUDFLARE % interval, env={}).cloudflare is not None
        return
    seconds = {"59s": "59.0", "59999ms": "59.999"}[interval]
    assert_refused_exactly(
        lambda: parse(CLOUDFLARE % interval),
        1,
        "cloudflare.interval",
        f"interval {seconds}s is shorter than 1m; Cloudflare allows 300 GraphQL queries "
        "per 5 minutes (expected >= 1m, or another api_url)",
    )


def test_another_cloudflare_api_may_be_asked_more_often() -> None:
    text = "cloudflare: {account_id: x, api_token: y, interval: 5s, api_url: 'http://cf'}\n"
    config = parse_config(text, env={})
    assert config.cloudflare is not None and config.cloudflare.interval == 5.0


def test_a_push_token_is_used_by_one_check_only_and_never_shown() -> None:
    text = (
        "services:\n"
        f"  - name: a\n    push: [{{name: p1, every: 1h, grace: 1m, token: {TOKEN}}},"
        f" {{name: p2, every: 1h, grace: 1m, token: {'m' * 16}}}]\n"
        f"  - name: b\n    push: [{{name: p1, every: 1h, grace: 1m, token: {TOKEN}}},"
        f" {{name: p3, every: 1h, grace: 1m, token: {TOKEN}}}]\n"
    )
    with pytest.raises(ConfigError) as info:
        parse(text)
    message = "the same token as push check a/p1; expected one token per check"
    assert [(p.line, p.location, p.message) for p in info.value.problems] == [
        (5, "services[1].push[0].token", message),
        (5, "services[1].push[1].token", message),
    ]
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(("timeout", "refused"), [("5s", False), ("5001ms", True)])
def test_a_timeout_may_equal_its_interval_but_not_exceed_it(timeout: str, refused: bool) -> None:
    text = f"services:\n  - name: a\n    url: http://a\n    interval: 5s\n    timeout: {timeout}\n"
    if not refused:
        assert parse_config(text, env={}).checks()[0].timeout == 5.0
        return
    assert_refused_exactly(
        lambda: parse(text),
        5,
        "services[0].timeout",
        "timeout 5.001s of check a/health/health is longer than its interval 5.0s; "
        "expected timeout <= interval",
    )


def test_a_smoke_check_s_own_timeout_is_judged_against_its_own_interval() -> None:
    text = (
        "services:\n  - {name: z, url: 'http://z'}\n  - name: a\n    url: http://a\n"
        "    rpc: [{name: r, path: /r, interval: 2s}]\n"
    )
    assert problems(text) == [
        (
            3,
            "services[1].timeout",
            "timeout 5.0s of check a/rpc/r is longer than its interval 2.0s; "
            "expected timeout <= interval",
        )
    ]


def test_a_duplicate_check_name_is_found_in_a_service_with_only_that_kind() -> None:
    two = "[{name: x, path: /x}, {name: x, path: /y}]"
    text = (
        "services:\n"
        f"  - {{name: r, url: 'http://r', rpc: {two}}}\n"
        f"  - {{name: h, url: 'http://h', http: {two}}}\n"
        "  - {name: t, url: 'http://t',"
        " tcp: [{name: x, address: 'a:1'}, {name: x, address: 'a:2'}]}\n"
        "  - {name: m, url: 'http://m', mcp: [{name: x}, {name: x}]}\n"
        "  - {name: p, url: 'http://p',"
        f" push: [{{name: x, every: 1h, grace: 1m, token: {TOKEN}}},"
        f" {{name: x, every: 1h, grace: 1m, token: {'q' * 16}}}]}}\n"
    )
    assert [(line, loc) for line, loc, _ in problems(text)] == [
        (2, "services[0].rpc[1].name"),
        (3, "services[1].http[1].name"),
        (4, "services[2].tcp[1].name"),
        (5, "services[3].mcp[1].name"),
        (6, "services[4].push[1].name"),
    ]
