"""Bearer tokens: `auth.read_token` guards every read but /healthz, `auth.admin_token` every
write. Tokens are compared in constant time and never echoed."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from monitor.http.json_api import MONITOR_KEY, json_response
from monitor.probes.push import PUSH_PREFIX

OPEN_PATHS = frozenset({"/healthz"})
OPEN_PREFIXES = (PUSH_PREFIX,)
"""A push URL carries its own credential (the check's token): a cron line cannot add a header."""


def _bearer_ok(request: web.Request, *tokens: SecretStr | None) -> bool:
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer "):
        return False
    presented = given[len("Bearer ") :].strip().encode()
    return any(
        token is not None and hmac.compare_digest(presented, token.get_secret_value().encode())
        for token in tokens
    )


def _unauthorized(realm: str) -> web.Response:
    response = json_response({"error": "unauthorized"}, status=401)
    response.headers["WWW-Authenticate"] = f'Bearer realm="{realm}"'
    return response


def _admin_refusal(request: web.Request) -> web.Response | None:
    """None when the request carries the admin token; the refusal to send otherwise."""
    auth = request.app[MONITOR_KEY].config.auth
    if auth.admin_token is None:
        return json_response(
            {"error": "the admin API is disabled: set auth.admin_token"}, status=403
        )
    if not _bearer_ok(request, auth.admin_token):
        return _unauthorized("admin")
    return None


Handler = Callable[[web.Request], Awaitable[web.Response]]


def admin_only(handler: Handler) -> Handler:
    """`handler` behind the admin token: 403 while the admin API is off, 401 without it."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.Response:
        refused = _admin_refusal(request)
        return refused if refused is not None else await handler(request)

    return guarded


@web.middleware
async def read_auth(request: web.Request, handler: Any) -> web.StreamResponse:
    """With `auth.read_token` set, reads need it (or the admin token); /healthz and the push
    URLs stay open."""
    auth = request.app[MONITOR_KEY].config.auth
    if (
        auth.read_token is not None
        and request.method == "GET"
        and request.path not in OPEN_PATHS
        and not request.path.startswith(OPEN_PREFIXES)
        and not _bearer_ok(request, auth.read_token, auth.admin_token)
    ):
        return _unauthorized("read")
    response: web.StreamResponse = await handler(request)
    return response
