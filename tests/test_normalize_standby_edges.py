"""Vault/OpenBao `/sys/health` (normalize/standby.py): every documented code and flag with the
detail an operator reads, the flags quoted as `monitor explain` shows them, the version kept.
Expected words are written out from docs/reasons.md and the vendor's table."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.model import Reason, Status
from monitor.normalize import Explanation
from tests.answers import explained

H, D, U = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY
ACTIVE = {"initialized": True, "sealed": False, "standby": False}
STANDBY = {**ACTIVE, "standby": True}


def _explain(code: int, data: Any) -> Explanation:
    return explained(data, code, url="http://vault.test/v1/sys/health")


@pytest.mark.parametrize(
    ("code", "data", "status", "reason", "detail"),
    [
        (200, ACTIVE, H, Reason.OK, "unsealed active node (HTTP 200)"),
        (429, STANDBY, H, Reason.OK, "unsealed standby (HTTP 429)"),
        (
            473,
            {**STANDBY, "performance_standby": True},
            H,
            Reason.OK,
            "unsealed performance standby (HTTP 473)",
        ),
        (
            472,
            {**STANDBY, "replication_dr_mode": "secondary"},
            H,
            Reason.OK,
            "unsealed disaster-recovery secondary (HTTP 472)",
        ),
        (
            200,
            {**STANDBY, "performance_standby": False, "replication_dr_mode": "primary"},
            H,
            Reason.OK,
            "unsealed standby (HTTP 200)",
        ),
        (
            501,
            {**ACTIVE, "initialized": False},
            U,
            Reason.REPORTED_UNHEALTHY,
            "reports unhealthy: not initialized",
        ),
        (
            503,
            {**STANDBY, "sealed": True},
            U,
            Reason.REPORTED_UNHEALTHY,
            "reports unhealthy: sealed",
        ),
        (530, STANDBY, U, Reason.REPORTED_UNHEALTHY, "reports unhealthy: removed from the cluster"),
        (
            200,
            {**ACTIVE, "removed_from_cluster": True},
            U,
            Reason.REPORTED_UNHEALTHY,
            "reports unhealthy with HTTP 200: removed from the cluster",
        ),
        (
            200,
            {**ACTIVE, "removed_from_cluster": False},
            H,
            Reason.OK,
            "unsealed active node (HTTP 200)",
        ),
        (
            474,
            STANDBY,
            D,
            Reason.REPORTED_DEGRADED,
            "reports degraded: standby that cannot reach the active node (HTTP 474)",
        ),
        # a remapped standby code (`standbycode=500`): the usual rule for a healthy body
        (
            500,
            ACTIVE,
            D,
            Reason.INCONSISTENT_STATUS,
            "seal status body reports healthy but HTTP status is 500",
        ),
    ],
)
def test_each_code_and_flag_reads_as_the_vendor_documents(
    code: int, data: dict[str, Any], status: Status, reason: Reason, detail: str
) -> None:
    explanation = _explain(code, data)
    assert explanation.decided_by == "standby"
    verdict = explanation.verdict
    assert (verdict.status, verdict.reason, verdict.detail) == (status, reason, detail)


def test_the_flags_are_quoted_as_read() -> None:
    assert _explain(473, STANDBY).verdict.read == (
        "initialized=true, sealed=false, standby=true, HTTP 473"
    )
    assert _explain(503, {**ACTIVE, "sealed": True}).verdict.read == (
        "initialized=true, sealed=true, standby=false, HTTP 503"
    )
    assert _explain(500, ACTIVE).verdict.read == (
        "initialized=true, sealed=false, standby=false, HTTP 500"
    )


@pytest.mark.parametrize("code", [200, 500])
def test_the_version_and_evidence_are_kept_under_any_code(code: int) -> None:
    data = {**ACTIVE, "version": "1.15.2"}
    verdict = _explain(code, data).verdict
    assert (verdict.version, verdict.evidence) == ("1.15.2", json.dumps(data))


def test_a_json_list_is_not_a_seal_status_and_fails_no_parser() -> None:
    explanation = _explain(200, [{"name": "db", "status": "up"}])
    assert (explanation.decided_by, explanation.failed) == ("generic_json", ())
