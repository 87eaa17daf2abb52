"""A probe's own findings applied to a verdict: worse, never better.

A tcp or mcp exchange has no HTTP status for the parsers to read; its probe judges it and the
worst finding is the verdict. On an HTTP answer a finding (a certificate about to expire) only
ever makes the normalizer's verdict worse. The certificate itself rides along for /status.
"""

from __future__ import annotations

from monitor.answer import Answer, Finding
from monitor.model import Verdict


def probe_verdict(answer: Answer) -> Verdict | None:
    """The verdict of a non-HTTP exchange that completed, from its probe's worst finding."""
    if answer.error is not None or answer.status_code is not None or not answer.findings:
        return None
    worst = max(answer.findings, key=lambda f: f.status.severity)
    return Verdict(status=worst.status, reason=worst.reason, detail=worst.detail)


def with_findings(verdict: Verdict, answer: Answer) -> Verdict:
    """`verdict` made worse by any finding worse than it, with the certificate attached."""
    worse: Finding | None = None
    for finding in answer.findings:
        if finding.status.severity > (worse or verdict).status.severity:
            worse = finding
    update: dict[str, object] = {}
    if worse is not None:
        update = {"status": worse.status, "reason": worse.reason, "detail": worse.detail}
    if answer.tls is not None:
        update["tls"] = answer.tls
        if not answer.tls.verified:
            detail = str(update.get("detail", verdict.detail))
            update["detail"] = f"{detail}; certificate not verified (insecure_skip_verify)"
    return verdict.model_copy(update=update) if update else verdict
