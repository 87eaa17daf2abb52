"""Kubernetes-style `/healthz`, `/livez`, `/readyz` text: `ok`, or the verbose form

[+]ping ok
[-]etcd failed: reason withheld
healthz check failed
"""

from __future__ import annotations

import re

from monitor.answer import Answer
from monitor.model import Component, Status, Verdict, worst
from monitor.normalize._body import Body
from monitor.normalize._reported import verdict_from_report
from monitor.normalize._vocabulary import short

_LINE = re.compile(r"^\[([+-])\]\s*(\S+)\s*(.*)$")
_SUMMARY = re.compile(r"^(\w+) check (passed|failed)\s*$", re.IGNORECASE)


def parse(answer: Answer, body: Body) -> Verdict | None:
    if body.has_json or body.text is None or ("[+]" not in body.text and "[-]" not in body.text):
        return None
    components: dict[str, Component] = {}
    summary: Status | None = None
    for line in body.text.splitlines()[:200]:
        line = line.strip()
        match = _LINE.match(line)
        if match:
            sign, name, rest = match.groups()
            status = Status.HEALTHY if sign == "+" else Status.UNHEALTHY
            detail = "" if rest.strip() == "ok" else short(rest.removeprefix("failed").strip(" :"))
            components[short(name, 60)] = Component(status=status, detail=detail)
            continue
        done = _SUMMARY.match(line)
        if done:
            summary = Status.HEALTHY if done.group(2).lower() == "passed" else Status.UNHEALTHY
    if not components:
        return None
    reported = summary or worst(c.status for c in components.values())
    said = f", summary {'passed' if summary is Status.HEALTHY else 'failed'}" if summary else ""
    return verdict_from_report(
        answer,
        reported,
        fmt="Kubernetes healthz",
        components=components,
        read=f"{len(components)} [+]/[-] check lines{said}",
    )
