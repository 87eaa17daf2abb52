"""monitor.yaml: the shape other tools write, defaults, secrets, and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config, parse_config
from monitor.durations import format_duration, parse_duration
from monitor.errors import ConfigError
from monitor.model import CheckKind

MINIMAL = """
services:
  - name: do-gateway
    url: http://127.0.0.1:8701      # base URL; /health is appended
  - name: webhooks
    url: http://127.0.0.1:8704
    health_path: /healthz
    interval: 10s
    timeout: 2s
"""


def test_the_documented_minimal_shape() -> None:
    config = parse_config(MINIMAL, env={})
    checks = {c.id: c for c in config.checks()}
    gateway = checks["do-gateway/health/health"]
    assert gateway.url == "http://127.0.0.1:8701/health"
    assert (gateway.interval, gateway.timeout) == (30.0, 5.0)
    webhooks = checks["webhooks/health/health"]
    assert webhooks.url == "http://127.0.0.1:8704/healthz"
    assert (webhooks.interval, webhooks.timeout) == (10.0, 2.0)


def test_defaults_labels_secrets_and_smoke_paths() -> None:
    text = """
defaults:
  interval: 15s
  timeout: 250ms
  headers: {X-Env: prod}
services:
  - name: do-gateway
    url: https://gw.example.com/
    headers:
      Authorization: Bearer ${AUTH_TOKEN}
      X-Region: ${REGION:-iad}
    labels: {team_name: core}
    team: core
    runbook: https://runbooks.example.com/gateway
    depends_on: [do-db]
    rpc:
      - {name: db, path: /smoke/db, target: 5ms}
    http:
      - {name: list, path: /api/items}
  - name: do-db
    url: https://db.example.com
"""
    config = parse_config(text, env={"AUTH_TOKEN": "s3cr3t"})
    checks = {c.id: c for c in config.checks()}
    rpc = checks["do-gateway/rpc/db"]
    assert rpc.kind is CheckKind.RPC and rpc.url == "https://gw.example.com/smoke/db"
    assert rpc.target == pytest.approx(0.005)
    assert checks["do-gateway/http/list"].target == pytest.approx(0.050)
    assert rpc.interval == 15.0 and rpc.timeout == 0.25
    headers = {k: v.get_secret_value() for k, v in rpc.headers.items()}
    assert headers == {"X-Env": "prod", "Authorization": "Bearer s3cr3t", "X-Region": "iad"}
    assert "s3cr3t" not in repr(config) and "s3cr3t" not in repr(rpc)


BAD_CASES = [
    (
        "unknown key",
        "services:\n  - name: a\n    url: http://a\n    intreval: 5s\n",
        "services[0].intreval",
        4,
        "unknown key",
    ),
    (
        "bad duration",
        "services:\n  - name: a\n    url: http://a\n    interval: ten\n",
        "services[0].interval",
        4,
        "duration such as",
    ),
    ("bad url", "services:\n  - name: a\n    url: ftp://a\n", "services[0].url", 3, "http://"),
    ("missing url", "services:\n  - name: a\n", "services[0].url", 2, "missing"),
    (
        "duplicate names",
        "services:\n  - name: a\n    url: http://a\n  - name: a\n    url: http://b\n",
        "services[1].name",
        4,
        "duplicate service name",
    ),
    (
        "unknown dependency",
        "services:\n  - name: a\n    url: http://a\n    depends_on: [b]\n",
        "services[0].depends_on[0]",
        4,
        "unknown service 'b'",
    ),
    (
        "missing secret",
        "services:\n  - name: a\n    url: http://a\n    headers:\n"
        "      Authorization: Bearer ${NOPE_TOKEN}\n",
        "services[0].headers.Authorization",
        5,
        "NOPE_TOKEN is not set",
    ),
    (
        "bad name",
        "services:\n  - name: 'a b'\n    url: http://a\n",
        "services[0].name",
        2,
        "pattern",
    ),
    (
        "timeout over interval",
        "services:\n  - name: a\n    url: http://a\n    interval: 1s\n    timeout: 5s\n",
        "services[0].timeout",
        5,
        "longer than its interval",
    ),
    (
        "duplicate yaml key",
        "services:\n  - name: a\n    url: http://a\n    url: http://b\n",
        "services[0].url",
        4,
        "duplicate key",
    ),
    (
        "path without slash",
        "services:\n  - name: a\n    url: http://a\n    health_path: health\n",
        "services[0].health_path",
        4,
        "starting with '/'",
    ),
    *(
        (
            f"runbook {url}",
            f"services:\n  - name: a\n    url: http://a\n    runbook: '{url}'\n",
            "services[0].runbook",
            4,
            "expected an http:// or https:// URL",
        )
        for url in (
            "javascript:alert(document.cookie)",
            "JavaScript://%0aalert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "//evil.example/runbook",
            "ftp://files.example/runbook",
        )
    ),
    ("not a mapping", "- just\n- a list\n", "", 1, "mapping"),
    ("yaml syntax", "services: [\n", "", 2, "not valid YAML"),
    ("negative interval", "defaults:\n  interval: -5s\n", "defaults.interval", 2, "duration"),
    (
        "bad header name",
        "services:\n  - name: a\n    url: http://a\n    headers: {'X Bad': v}\n",
        "services[0].headers.X Bad.[key]",
        4,
        "pattern",
    ),
    (
        "smoke duplicate",
        "services:\n  - name: a\n    url: http://a\n    rpc:\n"
        "      - {name: db, path: /x}\n      - {name: db, path: /y}\n",
        "services[0].rpc[1].name",
        6,
        "duplicate rpc check",
    ),
]


@pytest.mark.parametrize(
    ("case", "text", "location", "line", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_bad_config_names_file_line_field_and_expectation(
    case: str, text: str, location: str, line: int, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "monitor.yaml", env={})
    problems = caught.value.problems
    assert any(p.location == location and message in p.message for p in problems), problems
    matching = next(p for p in problems if p.location == location)
    assert matching.line == line
    rendered = str(caught.value)
    assert rendered.startswith(f"monitor.yaml:{line}: ")


def test_every_problem_is_reported_at_once() -> None:
    text = "services:\n  - name: a\n    url: ftp://a\n    interval: x\n    colour: red\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, env={})
    assert {p.location for p in caught.value.problems} == {
        "services[0].url",
        "services[0].interval",
        "services[0].colour",
    }


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "missing.yaml")
    assert "cannot read" in str(caught.value) and "missing.yaml" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("10s", 10),
        ("5m", 300),
        ("1h", 3600),
        ("1h30m", 5400),
        ("1.5s", 1.5),
        (7, 7.0),
        ("30", 30.0),
        ("2d", 172800),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["ten", "5 minutes", "", "-1s", "1x", True, None, [1]])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.25, "250ms"), (300, "5m"), (90, "90s"), (3600, "1h"), (0.005, "5ms")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)
