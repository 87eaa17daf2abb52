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


def _verdict(answer: Answer, status: Status, reason: Reason, detail: str, read: str) -> Verdict:
    return Verdict(
        status=status,
        reason=reason,
        detail=detail,
        http_status=answer.status_code,
        evidence=evidence_snippet(answer.body),
        read=read,
    )


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
    if not data["initialized"]:
        return _verdict(
            answer, Status.UNHEALTHY, Reason.REPORTED_UNHEALTHY, "not initialized", read
        )
    if data["sealed"]:
        return _verdict(answer, Status.UNHEALTHY, Reason.REPORTED_UNHEALTHY, "sealed", read)
    if data.get("removed_from_cluster") is True or code == 530:
        detail = "removed from the cluster"
        return _verdict(answer, Status.UNHEALTHY, Reason.REPORTED_UNHEALTHY, detail, read)
    if code == 474:
        detail = "standby that cannot reach the active node (HTTP 474)"
        return _verdict(answer, Status.DEGRADED, Reason.REPORTED_DEGRADED, detail, read)
    if code not in _HEALTHY_CODES:  # a remapped or unexpected code: the usual rule
        return verdict_from_report(
            answer, Status.HEALTHY, fmt="unsealed node", version=version_of(data), read=read
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
