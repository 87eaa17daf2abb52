"""A node of a replicated secret store reporting its role with `initialized`, `sealed` and
`standby` flags (HashiCorp Vault and OpenBao `/sys/health`).

The vendor documents status codes that contradict HTTP (docs/reasons.md): 429 is an unsealed
standby, 472 a disaster-recovery secondary, 473 a performance standby (all healthy), 474 a
standby that cannot reach the active node (degraded), 501 not initialized, 503 sealed and 530
removed from the cluster (unhealthy). The flags are read first; the codes only tell apart what
the flags cannot (474, 530). Operators can remap the codes (`standbycode=...`), so a healthy
body under any other 4xx/5xx is left to the usual rule (`inconsistent_status`).
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.answer import Answer
from monitor.model import Reason, Status, Verdict
from monitor.normalize._body import Body
from monitor.normalize._reported import verdict_from_report
from monitor.normalize._vocabulary import version_of
from monitor.normalize.evidence import evidence_snippet

_FLAGS = ("initialized", "sealed", "standby")
_HEALTHY_CODES = frozenset({200, 429, 472, 473})
_FMT = "seal status"


def _problem(data: Mapping[str, object], code: int) -> tuple[Status, str] | None:
    if not data["initialized"]:
        return Status.UNHEALTHY, "not initialized"
    if data["sealed"]:
        return Status.UNHEALTHY, "sealed"
    if data.get("removed_from_cluster") is True or code == 530:
        return Status.UNHEALTHY, "removed from the cluster"
    if code == 474:
        return Status.DEGRADED, "standby that cannot reach the active node (HTTP 474)"
    return None


def _role(data: Mapping[str, object]) -> str:
    if data.get("performance_standby") is True:
        return "performance standby"
    if data.get("replication_dr_mode") == "secondary":
        return "disaster-recovery secondary"
    return "standby" if data["standby"] else "active node"


def parse(answer: Answer, body: Body) -> Verdict | None:
    data = body.json
    if not body.has_json or not isinstance(data, Mapping):
        return None
    if not all(isinstance(data.get(flag), bool) for flag in _FLAGS):
        return None
    code = answer.status_code or 0
    read = ", ".join(f"{flag}={str(data[flag]).lower()}" for flag in _FLAGS) + f", HTTP {code}"
    problem = _problem(data, code)
    if problem is not None:
        status, message = problem
        return verdict_from_report(answer, status, fmt=_FMT, message=message, read=read)
    if code not in _HEALTHY_CODES:  # a remapped or unexpected code: the usual rule
        return verdict_from_report(
            answer, Status.HEALTHY, fmt=_FMT, version=version_of(data), read=read
        )
    version = version_of(data)
    return Verdict(
        status=Status.HEALTHY,
        reason=Reason.OK,
        detail=f"unsealed {_role(data)} (HTTP {code})",
        http_status=answer.status_code,
        version=version,
        evidence=evidence_snippet(answer.body),
        read=read,
    )
