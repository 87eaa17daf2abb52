"""Turn what a service says about itself into a verdict, weighed against its HTTP status.

Every structured format (IETF health+json, Spring, MicroProfile, plain JSON, Kubernetes text)
ends here, so the rules for "a 200 whose body says it failed" or "a healthy top level with a
failing component" are written once.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.answer import Answer
from monitor.model import Component, Reason, Status, Verdict, worst
from monitor.normalize._vocabulary import short, status_phrase
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


def verdict_from_failure(answer: Answer, said: str, *, read: str) -> Verdict:
    """A body that says it failed (an error field, a failure word) under a status code that
    says all is well: the body wins, `unhealthy`. `said` ends "HTTP 200 but the body ..."."""
    code = answer.status_code or 0
    return Verdict(
        status=Status.UNHEALTHY,
        reason=Reason.REPORTED_UNHEALTHY,
        detail=f"HTTP {code} but the body {said}",
        http_status=code,
        evidence=evidence_snippet(answer.body),
        read=read,
    )


def verdict_from_report(
    answer: Answer,
    reported: Status,
    *,
    fmt: str,
    message: str = "",
    components: Mapping[str, Component] | None = None,
    version: str | None = None,
    read: str = "",
) -> Verdict:
    """The verdict for a body that states a status.

    - the body's status wins over the HTTP code, except that a body claiming health under a
      4xx/5xx code is `degraded` (`inconsistent_status`): one of the two is lying; and a body
      that says `unknown` under a 5xx is `unhealthy` (`server_error`): the code is its answer;
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
    elif reported is Status.UNKNOWN and code is not None and code >= 500:
        status, reason = Status.UNHEALTHY, Reason.SERVER_ERROR
        detail = f"HTTP {code}; the {fmt} body reports unknown"
        if extra:
            detail += f": {extra}"
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
        read=read,
    )


def verdict_from_parts(
    answer: Answer,
    components: Mapping[str, Component],
    *,
    fmt: str,
    message: str = "",
    version: str | None = None,
    read: str = "",
) -> Verdict:
    """The verdict for a body that names its parts but states no overall status: as healthy
    as its worst part. Under a 5xx the code is the overall the body left out: the parts we
    could read may look fine while one we could not read failed (`"dns": "lookup ... no such
    host"`), so it is `unhealthy` (`server_error`) with the parts kept."""
    inferred = worst(c.status for c in components.values())
    code = answer.status_code
    if code is None or code < 500 or inferred is Status.UNHEALTHY:
        return verdict_from_report(
            answer, inferred, fmt=fmt, message=message, components=components,
            version=version, read=read,
        )  # fmt: skip
    named = ", ".join(f"{n} {c.status.value}" for n, c in list(components.items())[:8])
    return Verdict(
        status=Status.UNHEALTHY,
        reason=Reason.SERVER_ERROR,
        detail=f"HTTP {code}; the parts the {fmt} body names: {named}"[:300],
        http_status=code,
        components=dict(components),
        version=version,
        evidence=evidence_snippet(answer.body),
        read=read,
    )


def verdict_from_line(answer: Answer, line: str, *, fmt: str, where: str) -> Verdict | None:
    """The verdict for one line of text that states a status (`Service ready.`, `WARN: ...`),
    or None when it states none."""
    phrase = status_phrase(line)
    if phrase is None:
        return None
    return verdict_from_report(
        answer, phrase[0], fmt=fmt, message=phrase[1], read=f"{where} {short(line, 80)!r}"
    )
