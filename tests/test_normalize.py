"""The normalizer over every answer shape we know: a table, because health formats are data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.answer import Answer, TransportError
from monitor.model import Reason, Status
from monitor.normalize import PARSERS, normalize_response
from monitor.normalize.evidence import evidence_snippet

H, D, U, K = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY, Status.UNKNOWN
JSON = {"content-type": "application/json"}
TEXT = {"content-type": "text/plain; charset=utf-8"}
HTML = {"content-type": "text/html; charset=UTF-8"}
HEALTH_JSON = {"content-type": "application/health+json"}
CF = {"content-type": "text/plain", "server": "cloudflare", "cf-ray": "8c1f-IAD"}


def j(data: Any) -> bytes:
    return json.dumps(data).encode()


def answer(code: int | None, headers: dict[str, str], body: bytes = b"", **kw: Any) -> Answer:
    return Answer(url="http://svc.test/health", status_code=code, headers=headers, body=body, **kw)


CLOUDFLARE_HTML_1101 = b"""<!DOCTYPE html><html><head><title>Worker threw exception |
svc.example.com | Cloudflare</title></head><body><div id="cf-wrapper"><h1>
<span class="cf-error-type">Error</span> <span class="cf-error-code">1101</span></h1>
<h2 class="cf-subheadline">Worker threw exception</h2></div></body></html>"""

CASES: list[tuple[str, Answer, Status, Reason]] = [
    # --- the seed report, exactly as its own table classifies it -------------------------
    (
        "seed gateway healthy",
        answer(
            200,
            JSON,
            j(
                {
                    "status": "healthy",
                    "timestamp": "2025-10-04T17:14:29.825Z",
                    "services": [
                        "db",
                        "ai",
                        "auth",
                        "queue",
                        "relationships",
                        "events",
                        "workflows",
                    ],
                }
            ),
        ),
        H,
        Reason.OK,
    ),
    (
        "seed db degraded",
        answer(
            200,
            JSON,
            j(
                {
                    "status": "degraded",
                    "postgres": {"status": "error", "message": "DATABASE_URL not configured"},
                }
            ),
        ),
        D,
        Reason.REPORTED_DEGRADED,
    ),
    (
        "seed schedule ok",
        answer(
            200,
            JSON,
            j({"status": "ok", "service": "schedule", "timestamp": "2025-10-04T17:14:39.439Z"}),
        ),
        H,
        Reason.OK,
    ),
    (
        "seed auth worker threw",
        answer(500, CF, b"Worker threw exception"),
        U,
        Reason.WORKER_EXCEPTION,
    ),
    ("seed webhooks 404", answer(404, TEXT, b"404 Not Found"), D, Reason.NOT_FOUND),
    ("seed email 1101", answer(500, CF, b"error code: 1101"), U, Reason.WORKER_EXCEPTION),
    # --- IETF health+json ------------------------------------------------------------------
    (
        "ietf pass",
        answer(200, HEALTH_JSON, j({"status": "pass", "version": "1", "releaseId": "1.2.3"})),
        H,
        Reason.OK,
    ),
    (
        "ietf warn",
        answer(
            200,
            HEALTH_JSON,
            j(
                {
                    "status": "warn",
                    "checks": {
                        "db:responseTime": [
                            {"componentId": "d1", "status": "warn", "output": "slow"}
                        ]
                    },
                }
            ),
        ),
        D,
        Reason.REPORTED_DEGRADED,
    ),
    (
        "ietf fail 503",
        answer(503, HEALTH_JSON, j({"status": "fail", "output": "db down"})),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    (
        "ietf pass with failing check",
        answer(
            200,
            HEALTH_JSON,
            j(
                {
                    "status": "pass",
                    "checks": {"cache:connections": [{"status": "fail", "output": "no route"}]},
                }
            ),
        ),
        D,
        Reason.COMPONENT_UNHEALTHY,
    ),
    (
        "ietf shape without content type",
        answer(200, JSON, j({"status": "fail"})),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    # --- Spring Boot Actuator --------------------------------------------------------------
    (
        "spring up",
        answer(
            200,
            {"content-type": "application/vnd.spring-boot.actuator.v3+json"},
            j({"status": "UP", "components": {"db": {"status": "UP"}}}),
        ),
        H,
        Reason.OK,
    ),
    (
        "spring down",
        answer(
            503,
            JSON,
            j(
                {
                    "status": "DOWN",
                    "components": {
                        "db": {"status": "DOWN", "details": {"error": "Connection refused"}},
                        "diskSpace": {"status": "UP"},
                    },
                }
            ),
        ),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    (
        "spring out of service",
        answer(503, JSON, j({"status": "OUT_OF_SERVICE"})),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    ("spring unknown", answer(200, JSON, j({"status": "UNKNOWN"})), K, Reason.REPORTED_UNKNOWN),
    (
        "spring up, nested component down",
        answer(
            200,
            JSON,
            j(
                {
                    "status": "UP",
                    "components": {
                        "broker": {"status": "UP", "components": {"us1": {"status": "DOWN"}}}
                    },
                }
            ),
        ),
        D,
        Reason.COMPONENT_UNHEALTHY,
    ),
    (
        "spring legacy details",
        answer(
            200,
            JSON,
            j(
                {
                    "status": "UP",
                    "details": {"redis": {"status": "DOWN", "details": {"error": "timeout"}}},
                }
            ),
        ),
        D,
        Reason.COMPONENT_UNHEALTHY,
    ),
    # --- MicroProfile Health ---------------------------------------------------------------
    (
        "microprofile up",
        answer(200, JSON, j({"status": "UP", "checks": [{"name": "ping", "status": "UP"}]})),
        H,
        Reason.OK,
    ),
    (
        "microprofile down",
        answer(
            503,
            JSON,
            j(
                {
                    "status": "DOWN",
                    "checks": [
                        {"name": "db", "status": "DOWN", "data": {"message": "pool exhausted"}}
                    ],
                }
            ),
        ),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    # --- Kubernetes /healthz text ----------------------------------------------------------
    ("k8s ok", answer(200, TEXT, b"ok"), H, Reason.OK),
    (
        "k8s verbose pass",
        answer(200, TEXT, b"[+]ping ok\n[+]log ok\nhealthz check passed\n"),
        H,
        Reason.OK,
    ),
    (
        "k8s verbose fail",
        answer(500, TEXT, b"[+]ping ok\n[-]etcd failed: reason withheld\nhealthz check failed\n"),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    (
        "k8s livez fail without summary",
        answer(500, TEXT, b"[+]ping ok\n[-]poststarthook failed"),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    # --- boolean and other JSON styles -----------------------------------------------------
    ("bool healthy true", answer(200, JSON, j({"healthy": True})), H, Reason.OK),
    ("bool healthy false", answer(200, JSON, j({"healthy": False})), U, Reason.REPORTED_UNHEALTHY),
    ("bool ok true", answer(200, JSON, j({"ok": True, "uptime": 12})), H, Reason.OK),
    ("status up lower", answer(200, JSON, j({"status": "up"})), H, Reason.OK),
    ("status nested object", answer(200, JSON, j({"health": {"status": "green"}})), H, Reason.OK),
    (
        "elasticsearch yellow",
        answer(200, JSON, j({"cluster_name": "c", "status": "yellow"})),
        D,
        Reason.REPORTED_DEGRADED,
    ),
    ("json scalar true", answer(200, JSON, b"true"), H, Reason.OK),
    ("json string ok", answer(200, JSON, b'"OK"'), H, Reason.OK),
    (
        "healthy top, failing component",
        answer(
            200, JSON, j({"status": "ok", "redis": {"status": "down", "error": "ECONNREFUSED"}})
        ),
        D,
        Reason.COMPONENT_UNHEALTHY,
    ),
    (
        "healthy top, degraded component list",
        answer(200, JSON, j({"status": "ok", "checks": [{"name": "queue", "status": "warn"}]})),
        D,
        Reason.COMPONENT_DEGRADED,
    ),
    (
        "components only",
        answer(200, JSON, j({"db": {"healthy": True}, "cache": {"healthy": False}})),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    (
        "200 body says failed json",
        answer(200, JSON, j({"error": "database unreachable"})),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    (
        "200 status fail word",
        answer(200, JSON, j({"status": "error", "message": "boom"})),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    (
        "healthy body with 503",
        answer(503, JSON, j({"status": "ok"})),
        D,
        Reason.INCONSISTENT_STATUS,
    ),
    (
        "unknown json shape",
        answer(200, JSON, j({"uptime": 31337, "pid": 7})),
        K,
        Reason.UNRECOGNIZED_BODY,
    ),
    (
        "unknown status word",
        answer(200, JSON, j({"status": "banana"})),
        K,
        Reason.UNRECOGNIZED_BODY,
    ),
    ("json array of noise", answer(200, JSON, j([1, 2, 3])), K, Reason.UNRECOGNIZED_BODY),
    # --- Cloudflare edge -------------------------------------------------------------------
    (
        "cf html 1101",
        answer(500, {**HTML, "server": "cloudflare"}, CLOUDFLARE_HTML_1101),
        U,
        Reason.WORKER_EXCEPTION,
    ),
    ("cf 1102 text", answer(503, CF, b"error code: 1102"), U, Reason.WORKER_RESOURCE_LIMIT),
    ("cf 1015 rate limited", answer(429, CF, b"error code: 1015"), D, Reason.RATE_LIMITED),
    ("cf 1019 loop", answer(508, CF, b"error code: 1019"), U, Reason.EDGE_ERROR),
    ("cf 1042", answer(403, CF, b"error code: 1042"), U, Reason.EDGE_ERROR),
    ("cf unknown 11xx", answer(500, CF, b"error code: 1199"), U, Reason.EDGE_ERROR),
    (
        "cf 522 origin",
        answer(522, {**HTML, "server": "cloudflare"}, b"<html>timeout</html>"),
        U,
        Reason.ORIGIN_UNREACHABLE,
    ),
    (
        "cf error header",
        answer(502, {**TEXT, "cf-error-type": "origin"}, b"bad gateway"),
        U,
        Reason.EDGE_ERROR,
    ),
    (
        "cf code header",
        answer(500, {**TEXT, "cf-error-code": "1101"}, b""),
        U,
        Reason.WORKER_EXCEPTION,
    ),
    # --- text ------------------------------------------------------------------------------
    ("text healthy", answer(200, TEXT, b"healthy\n"), H, Reason.OK),
    ("text pong", answer(200, TEXT, b"pong"), H, Reason.OK),
    ("text degraded", answer(200, TEXT, b"DEGRADED"), D, Reason.REPORTED_DEGRADED),
    (
        "text pairs",
        answer(200, TEXT, b"status: ok\ndb: ok\ncache: down\n"),
        D,
        Reason.COMPONENT_UNHEALTHY,
    ),
    (
        "text 200 says failed",
        answer(200, TEXT, b"Error: database connection refused"),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    (
        "text no errors is not failure",
        answer(200, TEXT, b"all checks done, no errors found today"),
        K,
        Reason.UNRECOGNIZED_BODY,
    ),
    ("empty 200", answer(200, TEXT, b""), H, Reason.OK),
    ("empty 204", answer(204, {}, b""), H, Reason.OK),
    (
        "html 200 page",
        answer(200, HTML, b"<!doctype html><html><title>App</title></html>"),
        K,
        Reason.UNRECOGNIZED_BODY,
    ),
    # --- HTTP status alone -----------------------------------------------------------------
    ("500 plain", answer(500, TEXT, b"Internal Server Error"), U, Reason.SERVER_ERROR),
    (
        "502 html",
        answer(502, HTML, b"<html><title>502 Bad Gateway</title></html>"),
        U,
        Reason.SERVER_ERROR,
    ),
    ("401", answer(401, JSON, j({"message": "unauthorized"})), D, Reason.UNAUTHORIZED),
    ("410 gone", answer(410, TEXT, b"gone"), D, Reason.NOT_FOUND),
    ("429", answer(429, {"retry-after": "30"}, b""), D, Reason.RATE_LIMITED),
    ("418", answer(418, TEXT, b"teapot"), D, Reason.CLIENT_ERROR),
    ("302 not followed", answer(302, {"location": "/login"}, b""), D, Reason.UNEXPECTED_REDIRECT),
    # --- bodies that are not what they claim -----------------------------------------------
    ("invalid json", answer(200, JSON, b'{"status": "ok"'), D, Reason.INVALID_JSON),
    ("empty json", answer(200, JSON, b""), D, Reason.INVALID_JSON),
    ("deeply nested json", answer(200, JSON, b"[" * 100_000), D, Reason.INVALID_JSON),
    ("not utf-8", answer(200, TEXT, b"\xff\xfe\xfa ok"), D, Reason.INVALID_ENCODING),
    (
        "truncated",
        answer(200, JSON, b'{"status":"ok","pad":"' + b"x" * 100, truncated=True),
        D,
        Reason.BODY_TOO_LARGE,
    ),
    (
        "invalid json on 500 is a server error",
        answer(500, JSON, b"<html>oops</html>"),
        U,
        Reason.SERVER_ERROR,
    ),
    (
        "latin-1 declared",
        answer(200, {"content-type": "text/plain; charset=latin-1"}, b"ok \xe9"),
        K,
        Reason.UNRECOGNIZED_BODY,
    ),
    # --- the long tail: boundaries of the shapes read by generalization ---------------------
    (
        "a status word ending a clause is not a report",
        answer(200, TEXT, b"No server is available to handle this request."),
        K,
        Reason.UNRECOGNIZED_BODY,
    ),
    (
        "a bare reason phrase is the server's, not a report",
        answer(503, TEXT, b"Service Unavailable"),
        U,
        Reason.SERVER_ERROR,
    ),
    ("negated failure sentence", answer(200, TEXT, b"Server is not shutting down"), H, Reason.OK),
    ("screaming snake sentence", answer(200, HTML, b"SERVER_IS_READY"), H, Reason.OK),
    (
        "status word before a colon",
        answer(200, TEXT, b"WARN: inconsistent objects in schema"),
        D,
        Reason.REPORTED_DEGRADED,
    ),
    (
        "unknown under a 5xx is a failure",
        answer(503, TEXT, b"unknown"),
        U,
        Reason.SERVER_ERROR,
    ),
    (
        "string boolean setting is not a part",
        answer(200, JSON, j({"debug": "false", "database": "ok"})),
        H,
        Reason.OK,
    ),
    ("string boolean alone", answer(200, JSON, j({"debug": "false"})), K, Reason.UNRECOGNIZED_BODY),
    (
        "plain strings beside an overall status are not parts",
        answer(200, JSON, j({"status": "ok", "mode": "down", "cache": "down"})),
        H,
        Reason.OK,
    ),
    (
        "plain-string part with a detail",
        answer(500, JSON, j({"Cache": "working", "Db": "unavailable: connection refused"})),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    (
        "parts that look fine under a 5xx",
        answer(503, JSON, j({"database": "OK", "dns": "lookup x: no such host"})),
        U,
        Reason.SERVER_ERROR,
    ),
    (
        "list of checks, one warning",
        answer(
            200, JSON, j([{"Name": "a", "Status": "passing"}, {"Name": "b", "Status": "warning"}])
        ),
        D,
        Reason.REPORTED_DEGRADED,
    ),
    (
        "status key in capitals",
        answer(200, JSON, j({"Status": "critical"})),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    (
        "string boolean key",
        answer(200, JSON, j({"healthy": "false"})),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    (
        "prefixed status word",
        answer(200, JSON, j({"status": "HEALTH_ERR"})),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    ("message only", answer(200, JSON, j({"message": "ready"})), H, Reason.OK),
    (
        "message not a status",
        answer(200, JSON, j({"message": "hello"})),
        K,
        Reason.UNRECOGNIZED_BODY,
    ),
    ("empty json object", answer(200, JSON, b"{}"), H, Reason.OK),
    ("empty json list", answer(200, JSON, b"[]"), H, Reason.OK),
    ("empty json object under 503", answer(503, JSON, b"{}"), U, Reason.SERVER_ERROR),
    (
        "table with a status column",
        answer(200, TEXT, b"name status\nnode-1 green\nnode-2 yellow\n"),
        D,
        Reason.REPORTED_DEGRADED,
    ),
    (
        "table without a header",
        answer(200, TEXT, b"1475247709 17:01:49 es green 1 1\n"),
        K,
        Reason.UNRECOGNIZED_BODY,
    ),
    (
        "html status line",
        answer(
            200, HTML, b"<html><body><h2>Application up</h2><p>rendered in 3ms</p></body></html>"
        ),
        H,
        Reason.OK,
    ),
    (
        "long html page is an application, not a status page",
        answer(
            200, HTML, b"<html><body><h2>Application up</h2>" + b"<p>x</p>" * 50 + b"</body></html>"
        ),
        K,
        Reason.UNRECOGNIZED_BODY,
    ),
    (
        "html painted red",
        answer(500, HTML, b'<html><body style="background-color: red"></body></html>'),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    (
        "html painted two colours",
        answer(
            200, HTML, b'<body style="background: green"><div style="background: red"></div></body>'
        ),
        K,
        Reason.UNRECOGNIZED_BODY,
    ),
    (
        "a Kubernetes Status on a 403 is about the request",
        answer(
            403,
            JSON,
            j({"kind": "Status", "status": "Failure", "message": "forbidden", "code": 403}),
        ),
        D,
        Reason.UNAUTHORIZED,
    ),
    (
        "a healthy body on a 404 is not found",
        answer(404, JSON, j({"status": "ok"})),
        D,
        Reason.NOT_FOUND,
    ),
    (
        "vault standby",
        answer(429, JSON, j({"initialized": True, "sealed": False, "standby": True})),
        H,
        Reason.OK,
    ),
    (
        "vault standby cut off",
        answer(474, JSON, j({"initialized": True, "sealed": False, "standby": True})),
        D,
        Reason.REPORTED_DEGRADED,
    ),
    (
        "vault sealed",
        answer(503, JSON, j({"initialized": True, "sealed": True, "standby": True})),
        U,
        Reason.REPORTED_UNHEALTHY,
    ),
    (
        "vault healthy body under a remapped code",
        answer(500, JSON, j({"initialized": True, "sealed": False, "standby": False})),
        D,
        Reason.INCONSISTENT_STATUS,
    ),
    (
        "a 429 without the flags is rate limiting",
        answer(429, JSON, j({"initialized": True, "standby": True})),
        D,
        Reason.RATE_LIMITED,
    ),
    # --- transport -------------------------------------------------------------------------
    ("timeout", answer(None, {}, error=TransportError.TIMEOUT), U, Reason.TIMEOUT),
    (
        "refused",
        answer(None, {}, error=TransportError.CONNECTION_REFUSED),
        U,
        Reason.CONNECTION_REFUSED,
    ),
    ("reset", answer(None, {}, error=TransportError.CONNECTION_RESET), U, Reason.CONNECTION_RESET),
    ("dns", answer(None, {}, error=TransportError.DNS_FAILURE), U, Reason.DNS_FAILURE),
    (
        "tls expired",
        answer(None, {}, error=TransportError.TLS_CERTIFICATE_EXPIRED),
        U,
        Reason.TLS_CERTIFICATE_EXPIRED,
    ),
    (
        "tls untrusted",
        answer(None, {}, error=TransportError.TLS_CERTIFICATE_UNTRUSTED),
        U,
        Reason.TLS_CERTIFICATE_UNTRUSTED,
    ),
    ("tls other", answer(None, {}, error=TransportError.TLS_ERROR), U, Reason.TLS_ERROR),
    ("protocol", answer(None, {}, error=TransportError.PROTOCOL_ERROR), U, Reason.PROTOCOL_ERROR),
    (
        "redirect loop",
        answer(None, {}, error=TransportError.TOO_MANY_REDIRECTS),
        U,
        Reason.TOO_MANY_REDIRECTS,
    ),
]


@pytest.mark.parametrize(("case", "ans", "status", "reason"), CASES, ids=[c[0] for c in CASES])
def test_classification(case: str, ans: Answer, status: Status, reason: Reason) -> None:
    verdict = normalize_response(ans)
    assert (verdict.status, verdict.reason) == (status, reason), verdict.detail
    assert verdict.detail, "every verdict explains itself"
    assert verdict.http_status == ans.status_code


def test_seed_db_detail_names_the_component() -> None:
    verdict = normalize_response(
        answer(
            200,
            JSON,
            j(
                {
                    "status": "degraded",
                    "postgres": {"status": "error", "message": "DATABASE_URL not configured"},
                }
            ),
        )
    )
    assert "postgres" in verdict.components
    assert verdict.components["postgres"].status is Status.UNHEALTHY
    assert "DATABASE_URL not configured" in verdict.detail


def test_spring_components_keep_their_details() -> None:
    verdict = normalize_response(
        answer(
            503,
            JSON,
            j(
                {
                    "status": "DOWN",
                    "components": {
                        "db": {"status": "DOWN", "details": {"error": "Connection refused"}}
                    },
                }
            ),
        )
    )
    assert verdict.components["db"].detail == "Connection refused"
    assert "db unhealthy: Connection refused" in verdict.detail


def test_k8s_verbose_components() -> None:
    verdict = normalize_response(
        answer(500, TEXT, b"[+]ping ok\n[-]etcd failed: reason withheld\n")
    )
    assert verdict.components["ping"].status is Status.HEALTHY
    assert verdict.components["etcd"].detail == "reason withheld"


@pytest.mark.parametrize(
    ("body", "version"),
    [
        ({"status": "ok", "version": "1.4.2"}, "1.4.2"),
        ({"status": "ok", "commit": "a1b2c3d"}, "a1b2c3d"),
        ({"status": "ok", "git": {"commit": {"id": "deadbeef"}}}, "deadbeef"),
        ({"status": "ok", "build": {"version": "2026.11.1"}}, "2026.11.1"),
        ({"status": "ok"}, None),
    ],
)
def test_reported_version(body: dict[str, Any], version: str | None) -> None:
    assert normalize_response(answer(200, JSON, j(body))).version == version


def test_cloudflare_detail_decodes_the_code() -> None:
    verdict = normalize_response(answer(500, CF, b"error code: 1101"))
    assert "1101" in verdict.detail and "exception" in verdict.detail


def test_evidence_is_short_clean_and_redacted() -> None:
    body = b"\x1b[31mfail\x00\x07 token=abc123secret Bearer eyJhbGciOi " + b"x" * 1000
    snippet = evidence_snippet(body)
    assert len(snippet) <= 200
    assert "\x1b" not in snippet and "\x00" not in snippet and "\x07" not in snippet
    assert "abc123secret" not in snippet and "eyJhbGciOi" not in snippet
    assert "[redacted]" in snippet


def test_a_crashing_parser_falls_back_to_http_status(monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.normalize as normalize

    def explode(*_: Any) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(normalize, "PARSERS", (("boom", explode), *PARSERS))
    verdict = normalize.normalize_response(answer(503, TEXT, b"x"))
    assert (verdict.status, verdict.reason) == (Status.UNHEALTHY, Reason.SERVER_ERROR)


def test_every_parser_module_is_registered() -> None:
    import pkgutil

    import monitor.normalize as normalize

    modules = {
        m.name for m in pkgutil.iter_modules(normalize.__path__) if not m.name.startswith("_")
    }
    registered = {name for name, _ in PARSERS} | {"http_status", "evidence"}
    assert modules == registered
