"""TLS settings and certificate expiry: pure judgement, config errors, and the daemon end to end
against loopback https servers whose certificates are made with a chosen expiry."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from monitor.config import parse_config
from monitor.http.app import bound_port
from monitor.model import Reason, Status
from monitor.tls import TlsSettings
from monitor.tls.certificates import Presented, certificate_summary, expiry_finding
from tests.certs import CertificateAuthority
from tests.check_builders import check_status
from tests.loopback import start_site
from tests.one_round import one_round as _run_once
from tests.refusals import assert_refused

DAY = 86400.0
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("leaf_days", "chain_days", "status", "detail"),
    [
        (20.5, 40, None, None),
        (14.5, 40, None, None),
        (9.5, 40, Status.DEGRADED, "certificate for api.example expires in 9 days (2026-12-09)"),
        (3.5, 40, Status.DEGRADED, "certificate for api.example expires in 3 days (2026-12-03)"),
        (3.0, 40, Status.UNHEALTHY, "certificate for api.example expires in 3 days (2026-12-03)"),
        (1.5, 40, Status.UNHEALTHY, "certificate for api.example expires in 1 day (2026-12-01)"),
        (
            0.5,
            40,
            Status.UNHEALTHY,
            "certificate for api.example expires in less than a day (2026-11-30)",
        ),
        (-2, 40, Status.UNHEALTHY, "certificate for api.example expired on 2026-11-28"),
        # the intermediate expires first: judged on it, and named
        (
            60,
            10.5,
            Status.DEGRADED,
            "certificate CN=Intermediate in the chain for api.example "
            "expires in 10 days (2026-12-10)",
        ),
    ],
)
def test_expiry_is_judged_on_the_earliest_certificate(
    leaf_days: float, chain_days: float, status: Status | None, detail: str | None
) -> None:
    chain = [
        Presented(NOW + leaf_days * DAY, "CN=api.example", "CN=Intermediate"),
        Presented(NOW + chain_days * DAY, "CN=Intermediate", "CN=Root"),
    ]
    settings = TlsSettings()
    cert = certificate_summary(chain, "api.example", settings, NOW)
    assert cert is not None
    assert cert.not_after.timestamp() == NOW + leaf_days * DAY
    assert cert.chain_not_after.timestamp() == NOW + min(leaf_days, chain_days) * DAY
    finding = expiry_finding(cert, settings, NOW)
    if status is None:
        assert finding is None
    else:
        assert finding is not None
        assert (finding.status, finding.reason, finding.detail) == (
            status,
            Reason.CERTIFICATE_EXPIRING,
            detail,
        )


BASE = """
defaults:
  tls: {{warn_before: 30d, ca_file: {ca}}}
services:
  - name: gw
    url: https://127.0.0.1:{port}
{service}
"""


def _trusted(tmp_path: Path, authority: CertificateAuthority) -> Path:
    """`authority`'s certificate as the CA file a config names."""
    ca = tmp_path / "ca.pem"
    ca.write_text(authority.cert_pem)
    return ca


def test_service_tls_overrides_defaults_key_by_key(tmp_path: Path) -> None:
    ca = _trusted(tmp_path, CertificateAuthority())
    text = BASE.format(
        ca=ca, port=1, service="    tls: {critical_before: 1d, server_name: api.example}"
    )
    [check] = parse_config(text).checks()
    assert check.tls == TlsSettings(
        warn_before=30 * DAY, critical_before=DAY, ca_file=str(ca), server_name="api.example"
    )
    plain = parse_config(text.replace("https://", "http://"))
    assert plain.checks()[0].tls is None


@pytest.mark.parametrize(
    ("service", "line", "field", "message"),
    [
        (
            "    tls: {ca_file: /nonexistent/ca.pem}",
            7,
            "services[0].tls.ca_file",
            "cannot read '/nonexistent/ca.pem'",
        ),
        ("    tls: {cert_file: CA}", 7, "services[0].tls", "cert_file and key_file go together"),
        (
            "    tls: {warn_before: 1d, critical_before: 2d}",
            7,
            "services[0].tls",
            "critical_before must not be longer",
        ),
        ("    tls: {verify: false}", 7, "services[0].tls.verify", "unknown key"),
    ],
)
def test_bad_tls_settings_are_config_errors(
    tmp_path: Path, service: str, line: int, field: str, message: str
) -> None:
    ca = _trusted(tmp_path, CertificateAuthority())
    text = BASE.format(ca=ca, port=1, service=service.replace("CA", str(ca)))
    assert_refused(lambda: parse_config(text, "m.yaml"), line, field, message)


ServerFactory = Callable[..., "AsyncIterator[int]"]


@pytest.fixture
async def https_server(tmp_path: Path) -> AsyncIterator[Callable[[bytes, bytes], object]]:
    runners: list[web.AppRunner] = []

    async def start(cert: bytes, key: bytes) -> int:
        (tmp_path / "server.crt").write_bytes(cert)
        (tmp_path / "server.key").write_bytes(key)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")

        async def health(request: web.Request) -> web.Response:
            return web.json_response({"status": "ok"})

        app = web.Application()
        app.router.add_get("/health", health)
        runner, site = await start_site(app, tls=context)
        runners.append(runner)
        return bound_port(site)

    yield start
    for runner in runners:
        await runner.cleanup()


def _not_after(monitor: Any, cert: str) -> float | None:
    """The exported expiry of the `leaf` or the earliest `chain` certificate of gw/health."""
    labels = {"service": "gw", "check": "health", "cert": cert}
    value: float | None = monitor.metrics.registry.get_sample_value(
        "monitor_tls_not_after_timestamp_seconds", labels
    )
    return value


async def test_an_expiring_leaf_degrades_the_check_and_is_exported(
    tmp_path: Path, https_server: Callable[..., object]
) -> None:
    authority = CertificateAuthority(valid_days=400)
    ca = _trusted(tmp_path, authority)
    port = await https_server(*authority.leaf(valid_days=9.5))  # type: ignore[misc]
    text = BASE.format(ca=ca, port=port, service="    tls: {warn_before: 14d}")
    monitor, status = await _run_once(text)
    [service] = status.services  # type: ignore[attr-defined]
    [check] = service.checks
    expires = (authority.now + timedelta(days=9.5)).date().isoformat()
    assert (check.status, check.reason) == (Status.DEGRADED, Reason.CERTIFICATE_EXPIRING)
    assert check.detail == f"certificate for 127.0.0.1 expires in 9 days ({expires})"
    assert check.tls.days_left == 9 and check.tls.verified
    leaf_at = (authority.now + timedelta(days=9.5)).replace(microsecond=0).timestamp()
    assert _not_after(monitor, "leaf") == leaf_at
    assert _not_after(monitor, "chain") == leaf_at


async def test_a_chain_certificate_expiring_first_is_judged_and_named(
    tmp_path: Path, https_server: Callable[..., object]
) -> None:
    authority = CertificateAuthority(valid_days=2.5)
    ca = _trusted(tmp_path, authority)
    cert, key = authority.leaf(valid_days=60)
    port = await https_server(cert + authority.cert_pem.encode(), key)  # type: ignore[misc]
    monitor, status = await _run_once(BASE.format(ca=ca, port=port, service=""))
    [check] = status.services[0].checks  # type: ignore[attr-defined]
    assert (check.status, check.reason) == (Status.UNHEALTHY, Reason.CERTIFICATE_EXPIRING)
    assert check.detail.startswith(
        "certificate CN=hostile corpus test CA in the chain for 127.0.0.1 expires in 2 days"
    )
    leaf, chain = _not_after(monitor, "leaf"), _not_after(monitor, "chain")
    assert leaf is not None and chain is not None and chain < leaf


async def test_insecure_skip_verify_is_said_on_the_check(
    tmp_path: Path, https_server: Callable[..., object]
) -> None:
    authority = CertificateAuthority()
    cert, key = authority.leaf(self_signed=True)
    port = await https_server(cert, key)  # type: ignore[misc]
    text = f"""
services:
  - name: gw
    url: https://127.0.0.1:{port}
    tls: {{insecure_skip_verify: true}}
    expect: {{cel: 'tls.days_left >= 29 && tls.subject == "CN=hostile self-signed"'}}
"""
    _, status = await _run_once(text)
    [check] = status.services[0].checks  # type: ignore[attr-defined]
    assert (check.status, check.reason) == (Status.HEALTHY, Reason.OK)
    assert check.detail.endswith("; certificate not verified (insecure_skip_verify)")
    assert check.tls.verified is False
    # without it the same server stays untrusted, as before
    _, status = await _run_once(text.replace("tls: {insecure_skip_verify: true}", ""))
    assert status.services[0].checks[0].reason is Reason.TLS_CERTIFICATE_UNTRUSTED  # type: ignore[attr-defined]


def test_the_status_page_shows_the_days_left() -> None:
    from monitor.model import Certificate
    from monitor.web.view import latency_line

    at = datetime(2026, 12, 9, tzinfo=UTC)
    cert = Certificate(host="h", not_after=at, chain_not_after=at, days_left=9, verified=False)
    check = check_status(
        status=Status.DEGRADED,
        reason=Reason.CERTIFICATE_EXPIRING,
        url="https://h",
        duration_ms=3.0,
        tls=cert,
    )
    assert latency_line(check).latency == "last 3.0 ms · certificate 9 days left (not verified)"
