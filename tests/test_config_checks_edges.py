"""How a service's entry resolves into the checks the daemon runs (checks.py): every field of
every kind written out, which layer wins (check, service, `defaults:`), which checks get TLS
settings and headers, and what a url-less service, push and analytics checks carry."""

from __future__ import annotations

from dataclasses import replace

from pydantic import SecretStr

from monitor.checks.mcp import McpSpec
from monitor.checks.tcp import TcpSpec
from monitor.config import parse_config
from monitor.config.checks import Check, PushSpec
from monitor.expectations.program import Expectation
from monitor.model import CheckKind
from monitor.tls import TlsSettings

TOKEN = "p" * 16

FULL = f"""
metrics: detailed
defaults:
  interval: 20s
  timeout: 4s
  health_path: /up
  headers: {{X-Env: prod, X-Who: defaults}}
  max_body_bytes: 2048
  max_redirects: 0
  cross_host_redirects: true
  rpc_target: 7ms
  http_target: 70ms
  health_target: 90ms
  tls: {{warn_before: 10d}}
services:
  - name: a
    url: https://a.example
    interval: 10s
    headers: {{X-Who: service}}
    tls: {{critical_before: 2d}}
    rpc:
      - {{name: db, path: /db, interval: 5s, timeout: 1s, target: 3ms, headers: {{X-Who: rpc}},
         method: POST, json: {{q: 1}}}}
    http:
      - {{name: list, path: /list}}
    tcp:
      - {{name: pg, address: 'db:5432', tls: true, timeout: 500ms}}
      - {{name: redis, address: 'cache:6379'}}
    mcp:
      - {{name: tools}}
    push:
      - {{name: nightly, schedule: '0 3 * * *', grace: 10m, max_runtime: 1h, token: {TOKEN}}}
  - name: b
    url: http://b.example/
    metrics: lean
    health_path: /healthz
    target: 40ms
    timeout: 2s
    mcp:
      - {{name: tools, path: /rpc, interval: 1m, target: 300ms}}
"""


def secrets(**values: str) -> dict[str, SecretStr]:
    return {k.replace("_", "-"): SecretStr(v) for k, v in values.items()}


def test_every_field_of_every_kind_resolved() -> None:
    tls = TlsSettings(warn_before=10 * 86400.0, critical_before=2 * 86400.0)
    common = {"max_body_bytes": 2048, "max_redirects": 0, "cross_host_redirects": True}
    service_headers = secrets(X_Env="prod", X_Who="service")
    checks = parse_config(FULL, env={}).checks()
    assert [c.id for c in checks] == [
        "a/health/health",
        "a/rpc/db",
        "a/http/list",
        "a/tcp/pg",
        "a/tcp/redis",
        "a/mcp/tools",
        "a/push/nightly",
        "b/health/health",
        "b/mcp/tools",
    ]
    health = Check(
        service="a", name="health", kind=CheckKind.HEALTH, url="https://a.example/up",
        method="GET", interval=10.0, timeout=4.0, target=0.090, headers=service_headers,
        tls=tls, detailed_metrics=True, **common,
    )  # fmt: skip
    assert checks[0] == health
    assert checks[1] == replace(
        health, name="db", kind=CheckKind.RPC, url="https://a.example/db", method="POST",
        interval=5.0, timeout=1.0, target=0.003, headers=secrets(X_Env="prod", X_Who="rpc"),
        body=b'{"q":1}', content_type="application/json",
    )  # fmt: skip
    assert checks[2] == replace(
        health, name="list", kind=CheckKind.HTTP, url="https://a.example/list", target=0.070
    )
    pg = replace(
        health, name="pg", kind=CheckKind.TCP, url="tcps://db:5432", method="", timeout=0.5,
        target=0.050, headers={}, spec=TcpSpec("db", 5432, None, True),
    )  # fmt: skip
    assert checks[3] == pg
    redis = TcpSpec("cache", 6379, None, False)
    assert checks[4] == replace(
        pg, name="redis", url="tcp://cache:6379", timeout=4.0, tls=None, spec=redis
    )
    mcp = McpSpec((), "auto")
    assert checks[5] == replace(
        health, name="tools", kind=CheckKind.MCP, url="https://a.example/mcp", method="POST",
        target=0.050, spec=mcp,
    )  # fmt: skip
    push = PushSpec(600.0, SecretStr(TOKEN), "0 3 * * *", "UTC", None, 3600.0)
    assert checks[6] == replace(
        health, name="nightly", kind=CheckKind.PUSH, url="", method="", interval=0.0,
        timeout=0.0, target=0.0, headers={}, push=push,
    )  # fmt: skip
    b = replace(
        health, service="b", url="http://b.example/healthz", interval=20.0, timeout=2.0,
        target=0.040, headers=secrets(X_Env="prod", X_Who="defaults"), tls=None,
        detailed_metrics=False,
    )  # fmt: skip
    assert checks[7] == b
    assert checks[8] == replace(
        b, name="tools", kind=CheckKind.MCP, url="http://b.example/rpc", method="POST",
        interval=60.0, target=0.300, spec=mcp,
    )  # fmt: skip
    assert checks[6].push is not None and checks[6].push.token.get_secret_value() == TOKEN


EVERY_KIND = """
services:
  - name: a
    url: http://a
    rpc: [{name: r, path: /r}]
    http: [{name: h, path: /h}]
    tcp: [{name: t, address: 'a:1'}]
    mcp: [{name: m}]
"""


def test_without_defaults_the_documented_ones_apply() -> None:
    checks = parse_config(EVERY_KIND, env={}).checks()
    assert [(c.interval, c.timeout, c.target) for c in checks] == [
        (30.0, 5.0, 0.050),
        (30.0, 5.0, 0.005),
        (30.0, 5.0, 0.050),
        (30.0, 5.0, 0.050),
        (30.0, 5.0, 0.050),
    ]
    health = checks[0]
    assert (health.url, health.max_body_bytes, health.max_redirects) == (
        "http://a/health",
        65536,
        5,
    )
    assert (health.cross_host_redirects, health.detailed_metrics, health.tls) == (
        False,
        False,
        None,
    )


def test_a_url_less_service_runs_only_its_own_targets_in_order() -> None:
    text = (
        "services:\n  - name: jobs\n    interval: 15s\n    headers: {X-A: b}\n"
        f"    push: [{{name: backup, every: 1h, grace: 5m, token: {TOKEN}}}]\n"
        "    tcp: [{name: q, address: 'q:9000', tls: true}]\n"
    )
    checks = parse_config(text, env={}).checks()
    assert [(c.id, c.url, c.interval, c.headers) for c in checks] == [
        ("jobs/tcp/q", "tcps://q:9000", 15.0, {}),
        ("jobs/push/backup", "", 0.0, secrets()),
    ]
    assert checks[0].tls == TlsSettings()  # a tcp check's `tls: true` is TLS with defaults
    assert checks[1].tls is None
    assert checks[1].push == PushSpec(300.0, SecretStr(TOKEN), None, "UTC", 3600.0, None)


def test_a_cron_push_check_keeps_its_time_zone() -> None:
    text = (
        "services:\n  - name: a\n    url: http://a\n    push:\n"
        "      - {name: p, schedule: '0 3 * * *', timezone: Asia/Tokyo, grace: 1m,"
        f" token: {TOKEN}}}\n"
    )
    [_, push] = parse_config(text, env={}).checks()
    assert push.push is not None and (push.push.cron, push.push.timezone) == (
        "0 3 * * *",
        "Asia/Tokyo",
    )


def test_with_cloudflare_every_service_with_a_url_gets_an_analytics_check() -> None:
    text = (
        "cloudflare: {account_id: x, api_token: y, interval: 2m}\n"
        "services:\n  - name: a\n    url: http://a\n    analytics: {cpu_p99: 20ms}\n"
        "  - name: b\n    url: http://b\n"
    )
    checks = parse_config(text, env={}).checks()
    assert [c.id for c in checks] == [
        "a/health/health", "a/analytics/analytics", "b/health/health", "b/analytics/analytics"
    ]  # fmt: skip
    assert checks[1] == Check(
        service="a", name="analytics", kind=CheckKind.ANALYTICS,
        url="https://api.cloudflare.com/client/v4/graphql", method="POST", interval=120.0,
        timeout=30.0, target=0.020, max_body_bytes=4 * 1024 * 1024, max_redirects=0,
    )  # fmt: skip
    assert checks[3].target == 0.050


def test_an_analytics_check_times_out_within_a_short_interval() -> None:
    text = (
        "cloudflare: {account_id: x, api_token: y, interval: 20s, api_url: 'http://cf.local'}\n"
        "services:\n  - name: a\n    url: http://a\n"
    )
    analytics = parse_config(text, env={}).checks()[1]
    assert (analytics.url, analytics.interval, analytics.timeout) == ("http://cf.local", 20.0, 20.0)


def test_a_check_id_is_service_kind_and_name() -> None:
    check = Check("svc", "db", CheckKind.RPC, "http://x/db", "GET", 1.0, 1.0, 0.1, 1024, 0)
    assert check.id == "svc/rpc/db"


def test_expectations_go_to_the_check_they_are_written_under() -> None:
    text = (
        "services:\n  - name: a\n    url: http://a\n    expect: {status: [204]}\n"
        "    rpc:\n      - {name: r, path: /r, expect: {status: [200, 201], cel: 'json.ok'}}\n"
        "      - {name: plain, path: /p}\n"
    )
    health, rpc, plain = parse_config(text, env={}).checks()
    assert health.expect == Expectation(statuses=(204,), cel="")
    assert rpc.expect == Expectation(statuses=(200, 201), cel="json.ok")
    assert plain.expect is None


def test_defaults_tls_applies_to_an_https_service_without_its_own() -> None:
    text = (
        "defaults:\n  tls: {warn_before: 10d, server_name: example.org}\n"
        "services:\n  - {name: a, url: 'https://a'}\n  - {name: b, url: 'http://b'}\n"
    )
    a, b = parse_config(text, env={}).checks()
    assert a.tls == TlsSettings(warn_before=10 * 86400.0, server_name="example.org")
    assert b.tls is None
