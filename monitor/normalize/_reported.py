"""Turn what a service says about itself into a verdict, weighed against its HTTP status.

Every structured format (IETF health+json, Spring, MicroProfile, plain JSON, Kubernetes text)
ends here, so the rules for "a 200 whose body says it failed" or "a healthy top level with a
failing component" are written once.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.answer import Answer
from monitor.model import Component, Reason, Status, Verdict, worst
from monitor.normalize.evidence import evidence_snippet

_REPORTED_REASON = {
    Status.DEGRADED: Reason.REPORTED_DEGRADED,
    Status.UNHEALTHY: Reason.REPORTED_UNHEALTHY,
    Status.UNKNOWN: Reason.REPORTED_UNKNOWN,
}


def _failing(components: Mapping[str, Component]) -> str:
    parts = []
    for name, component in components.items():
        if component.status is not Status.HEALTHY:
            text = f"{name} {component.status.value}"
            parts.append(f"{text}: {component.detail}" if component.detail else text)
    return "; ".join(parts)


def verdict_from_report(
    answer: Answer,
    reported: Status,
    *,
    fmt: str,
    message: str = "",
    components: Mapping[str, Component] | None = None,
    version: str | None = None,
) -> Verdict:
    """The verdict for a body that states a status.

    - the body's status wins over the HTTP code, except that a body claiming health under a
      4xx/5xx code is `degraded` (`inconsistent_status`): one of the two is lying;
    - a healthy top level with a failing or degraded component is `degraded`;
    - the detail names the failing components and the service's own message.
    """
    components = dict(components or {})
    code = answer.status_code
    failing = _failing(components)
    extra = "; ".join(p for p in (message, failing) if p)
    status, reason = reported, _REPORTED_REASON.get(reported, Reason.OK)
    if reported is Status.HEALTHY:
        component_worst = worst(c.status for c in components.values())
        if code is not None and code >= 400:
            status, reason = Status.DEGRADED, Reason.INCONSISTENT_STATUS
            detail = f"{fmt} body reports healthy but HTTP status is {code}"
        elif component_worst in (Status.UNHEALTHY, Status.DEGRADED):
            status = Status.DEGRADED
            reason = (
                Reason.COMPONENT_UNHEALTHY
                if component_worst is Status.UNHEALTHY
                else Reason.COMPONENT_DEGRADED
            )
            detail = f"reports healthy, but {failing}"
        else:
            detail = f"reports healthy ({fmt})"
    else:
        detail = f"reports {reported.value}"
        if code is not None and code < 400 and reported is Status.UNHEALTHY:
            detail += f" with HTTP {code}"
        if extra:
            detail += f": {extra}"
    return Verdict(
        status=status,
        reason=reason,
        detail=detail,
        http_status=code,
        components=components,
        version=version,
        evidence=evidence_snippet(answer.body),
    )
