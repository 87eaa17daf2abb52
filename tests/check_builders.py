"""A check's config (`Check`) and its `/status` entry (`CheckStatus`) for tests: the fields a
test does not look at filled in once, here."""

from __future__ import annotations

from typing import Any

from monitor.config import Check
from monitor.model import CheckKind, CheckStatus, Reason, Status


def check_config(**fields: Any) -> Check:
    """An rpc smoke check gw/db with a 5 ms target; `fields` override any of it."""
    defaults: dict[str, Any] = {
        "service": "gw",
        "name": "db",
        "kind": CheckKind.RPC,
        "url": "http://x/smoke/db",
        "method": "GET",
        "interval": 1,
        "timeout": 1,
        "target": 0.005,
        "max_body_bytes": 65536,
        "max_redirects": 0,
    }
    return Check(**(defaults | fields))


def check_status(
    name: str = "health",
    kind: CheckKind = CheckKind.HEALTH,
    status: Status = Status.HEALTHY,
    reason: Reason = Reason.OK,
    **fields: Any,
) -> CheckStatus:
    """A check's status as /status carries it; `fields` set or override the rest."""
    defaults: dict[str, Any] = {"url": "http://x", "detail": ""}
    return CheckStatus(name=name, kind=kind, status=status, reason=reason, **(defaults | fields))
