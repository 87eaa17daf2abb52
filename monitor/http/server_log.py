"""The logger aiohttp's request handler writes to, in place of `aiohttp.server`.

A request that does not parse (garbage, a TLS hello on the plain port, a bad version, an
over-long header, a body that does not inflate) is the client's fault, and anyone who reaches
the port can send one per connection: aiohttp logs each with a traceback at ERROR. Here each is
a count and one short debug event; everything else (a handler that raised) goes to aiohttp's
logger as before.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.log import server_logger
from aiohttp.web_protocol import RequestPayloadError
from prometheus_client import Counter

from monitor.tracebacks import drop_tracebacks

BAD_REQUEST = (HttpProcessingError, RequestPayloadError)
"""What aiohttp raises for bytes that are not a request: a head or a body that does not parse."""


class ServerLog:
    """Bad requests counted and logged at debug; the rest passed to aiohttp's own logger."""

    def __init__(self, bad_requests: Counter, fallback: logging.Logger = server_logger) -> None:
        self.bad_requests = bad_requests
        self.fallback = fallback
        self.events = structlog.get_logger("monitor.http")

    def _refused(self, args: tuple[Any, ...], exc_info: Any) -> bool:
        if not isinstance(exc_info, BAD_REQUEST):
            return False
        self.bad_requests.inc()
        self.events.debug(
            "http.bad_request",
            error=type(exc_info).__name__,
            status=getattr(exc_info, "code", 400),
            peer=str(args[0])[:64] if args else None,
        )
        drop_tracebacks(exc_info)  # its frames hold the connection and the bytes it read
        return True

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        if not self._refused(args, kwargs.get("exc_info")):
            self.fallback.debug(msg, *args, **kwargs)

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        if not self._refused(args, kwargs.get("exc_info")):
            self.fallback.exception(msg, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fallback, name)  # warning, error, isEnabledFor, ...
