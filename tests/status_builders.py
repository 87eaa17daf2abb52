"""`CheckStatus` for tests: the fields a test does not look at filled in, once."""

from __future__ import annotations

from typing import Any

from monitor.model import CheckKind, CheckStatus, Reason, Status


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
