"""TLS: per-service settings (`tls:`), the client context they make, certificate expiry.

`settings.py` validates the config (files must be readable when it loads), `context.py` builds
one `ssl.SSLContext` per distinct setting, `certificates.py` reads what a server presented and
judges its expiry (pure, the clock passed in).
"""

from __future__ import annotations

from monitor.tls.settings import DEFAULT_TLS, TlsConfig, TlsSettings, resolve_tls

__all__ = ["DEFAULT_TLS", "TlsConfig", "TlsSettings", "resolve_tls"]
