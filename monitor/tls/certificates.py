"""What a TLS server presented, and whether it expires soon.

`presented_chain` reads the handshake's certificates (leaf first) without a third-party
parser: CPython's own decoder, through the chain API of `ssl` (public from 3.13, the same
C method before). The rest is pure and takes the time as a parameter.

The leaf and the earliest expiry in the chain are kept apart, because an intermediate that
expires first breaks every client just the same (blackbox_exporter's recurring leaf-vs-chain
confusion); the check is judged on the earliest.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.answer import Finding
from monitor.model import Certificate, Reason, Status
from monitor.tls.settings import TlsSettings

_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Presented:
    """One certificate of the chain the server sent."""

    not_after: float
    subject: str
    issuer: str


def _name(parts: Any) -> str:
    """`CN=...` of an `ssl` name tuple, else its first attribute."""
    flat = [attr for rdn in parts or () for attr in rdn]
    for key, value in flat:
        if key == "commonName":
            return f"CN={value}"
    return ", ".join(f"{key}={value}" for key, value in flat[:2])


def _presented(info: dict[str, Any]) -> Presented | None:
    try:
        not_after = float(ssl.cert_time_to_seconds(info["notAfter"]))
    except (KeyError, ValueError, TypeError):
        return None
    return Presented(not_after, _name(info.get("subject")), _name(info.get("issuer")))


def presented_chain(ssl_object: Any) -> list[Presented]:
    """The certificates in the order sent, leaf first; [] when none can be read."""
    raw = getattr(ssl_object, "_sslobj", ssl_object)
    chain_of = getattr(raw, "get_unverified_chain", None)
    chain: list[Presented] = []
    if chain_of is not None:
        try:
            for cert in chain_of() or ():
                item = _presented(cert.get_info())
                if item is not None:
                    chain.append(item)
        except (ssl.SSLError, AttributeError, ValueError):
            chain = []
    if not chain:  # older builds: the verified leaf alone
        try:
            leaf = _presented(ssl_object.getpeercert() or {})
        except (ssl.SSLError, ValueError, AttributeError):
            leaf = None
        chain = [leaf] if leaf is not None else []
    return chain


def certificate_summary(
    chain: Sequence[Presented], host: str, settings: TlsSettings, now: float
) -> Certificate | None:
    """What /status, the metrics and CEL's `tls` show; None without a certificate."""
    if not chain:
        return None
    leaf = chain[0]
    earliest = min(chain, key=lambda c: c.not_after)
    return Certificate(
        host=host,
        not_after=datetime.fromtimestamp(leaf.not_after, UTC),
        chain_not_after=datetime.fromtimestamp(earliest.not_after, UTC),
        days_left=int((earliest.not_after - now) // _DAY),
        subject=leaf.subject,
        issuer=leaf.issuer,
        expiring_subject="" if earliest is leaf else earliest.subject,
        verified=not settings.insecure_skip_verify,
    )


def expiry_finding(cert: Certificate, settings: TlsSettings, now: float) -> Finding | None:
    """`certificate_expiring`: degraded within warn_before, unhealthy within critical_before."""
    left = cert.chain_not_after.timestamp() - now
    if left > settings.warn_before:
        return None
    status = Status.UNHEALTHY if left <= settings.critical_before else Status.DEGRADED
    which = f"certificate for {cert.host}"
    if cert.expiring_subject:
        which = f"certificate {cert.expiring_subject} in the chain for {cert.host}"
    date = cert.chain_not_after.date().isoformat()
    if left <= 0:
        return Finding(status, Reason.CERTIFICATE_EXPIRING, f"{which} expired on {date}")
    days = int(left // _DAY)
    span = "less than a day" if days == 0 else f"{days} day{'s' if days != 1 else ''}"
    return Finding(status, Reason.CERTIFICATE_EXPIRING, f"{which} expires in {span} ({date})")


def cel_view(cert: Certificate | None) -> dict[str, Any] | None:
    """CEL's `tls` variable: not_after as an RFC 3339 string, days_left as an int."""
    if cert is None:
        return None
    return {
        "not_after": cert.not_after.isoformat().replace("+00:00", "Z"),
        "chain_not_after": cert.chain_not_after.isoformat().replace("+00:00", "Z"),
        "days_left": cert.days_left,
        "issuer": cert.issuer,
        "subject": cert.subject,
    }
