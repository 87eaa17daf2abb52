"""Throw-away certificates for the hostile TLS servers, made in memory at start-up.

`cryptography`'s x509 builder is used rather than `trustme` because an expired certificate
needs a `notAfter` in the past, which trustme does not offer. Keys are EC P-256: generating
them takes microseconds, RSA takes tens of milliseconds.
"""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_PEM = serialization.Encoding.PEM


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(_PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class CertificateAuthority:
    """A CA the test client may trust, and leaf certificates for 127.0.0.1 / localhost."""

    def __init__(self, now: datetime | None = None, valid_days: float = 30) -> None:
        self.now = now or datetime.now(UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("hostile corpus test CA"))
            .issuer_name(_name("hostile corpus test CA"))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - timedelta(days=30))
            .not_valid_after(self.now + timedelta(days=valid_days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(_PEM).decode("ascii")

    def leaf(
        self, *, expired: bool = False, self_signed: bool = False, valid_days: float | None = None
    ) -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM) for 127.0.0.1 and localhost; `valid_days` from now."""
        key = ec.generate_private_key(ec.SECP256R1())
        if valid_days is not None:
            start, end = self.now - timedelta(days=1), self.now + timedelta(days=valid_days)
        elif expired:
            start, end = self.now - timedelta(days=60), self.now - timedelta(days=1)
        else:
            start, end = self.now - timedelta(days=1), self.now + timedelta(days=30)
        issuer = _name("hostile self-signed") if self_signed else self.cert.subject
        san = x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name("hostile self-signed" if self_signed else "127.0.0.1"))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(san, critical=False)
            .sign(key if self_signed else self._key, hashes.SHA256())
        )
        return cert.public_bytes(_PEM), _key_pem(key)

    def server_context(self, kind: str, directory: Path) -> ssl.SSLContext:
        """A server context for `kind` "self-signed" or "expired" (files written in `directory`:
        `load_cert_chain` only reads files)."""
        cert, key = self.leaf(expired=kind == "expired", self_signed=kind == "self-signed")
        cert_file, key_file = directory / f"{kind}.crt", directory / f"{kind}.key"
        cert_file.write_bytes(cert)
        key_file.write_bytes(key)
        key_file.chmod(0o600)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Verifies as usual, trusting this CA in addition to nothing else."""
        context = ssl.create_default_context(cadata=self.cert_pem)
        return context
