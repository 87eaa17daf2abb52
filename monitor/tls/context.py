"""One client `ssl.SSLContext` per distinct TLS setting, made once and reused.

Without a custom setting the session's default context (the system trust store) is used, as
before `tls:` existed.
"""

from __future__ import annotations

import functools
import ssl

from monitor.tls.settings import TlsSettings


@functools.lru_cache(maxsize=256)
def client_context(settings: TlsSettings) -> ssl.SSLContext | None:
    """The context for `settings`, or None for the default (nothing custom to load)."""
    if not settings.custom_context:
        return None
    context = ssl.create_default_context(cafile=settings.ca_file)
    if settings.cert_file and settings.key_file:
        context.load_cert_chain(settings.cert_file, settings.key_file)
    if settings.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
