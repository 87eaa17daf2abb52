"""A service's timeline on its card: the uptime bar (a slice per 16 minutes, or runs of equal
slices on a big fleet's page) and the deploys announced on it. Pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.alerting.maintenance import Deploy
from monitor.model import Status
from monitor.web.history import BUCKET_WIDTH, Bucket, bucket_starts
from monitor.web.words import LABELS, duration, phrase

SLICE_X = 5
"""Width of one slice of the uptime bar in its SVG's units (4 drawn, 1 gap)."""


@dataclass(frozen=True, slots=True)
class Bar:
    css: str
    title: str
    x: int = 0
    width: int = SLICE_X - 1


@dataclass(frozen=True, slots=True)
class DeployMark:
    """A deploy on the service's timeline: where on the uptime bar, and what it was."""

    x: float
    title: str
    passed: bool | None


def bar(bucket: Bucket) -> Bar:
    span = f"{bucket.start:%H:%M} to {bucket.end:%H:%M} UTC"
    if bucket.end - bucket.start > BUCKET_WIDTH:  # a merged run: say how long
        span += f" ({duration((bucket.end - bucket.start).total_seconds())})"
    if bucket.status is None:
        return Bar("none", f"{span}: no data")
    text = f"{span}: {LABELS[bucket.status]}"
    if bucket.status is not Status.HEALTHY:
        text += f" — {phrase(bucket.reason)}"
        if bucket.detail:
            text += f" ({bucket.detail[:120]})"
    return Bar(bucket.status.value, text)


# -- the page -------------------------------------------------------------------------------


def bars(buckets: Sequence[Bucket], *, merge: bool = False) -> list[Bar]:
    """The uptime bar: a slice per bucket, or (`merge`, for a big fleet's page) one bar per run
    of equal buckets, about eight times fewer bytes for a service that stayed as it was."""
    if not merge:
        return [dataclasses.replace(bar(b), x=i * SLICE_X) for i, b in enumerate(buckets)]
    out: list[Bar] = []
    i = 0
    while i < len(buckets):
        first = buckets[i]
        j = i
        while j + 1 < len(buckets) and _same(buckets[j + 1], first):
            j += 1
        run = first._replace(end=buckets[j].end)
        out.append(dataclasses.replace(bar(run), x=i * SLICE_X, width=(j - i + 1) * SLICE_X - 1))
        i = j + 1
    return out


def _same(a: Bucket, b: Bucket) -> bool:
    return (a.status, a.reason, a.detail) == (b.status, b.reason, b.detail)


def deploy_marks(deploys: Iterable[Deploy], service: str, now: datetime) -> list[DeployMark]:
    """Deploys of `service` announced within the uptime bar's 24 h, placed on it."""
    deploys = [d for d in deploys if service in d.services]
    if not deploys:
        return []
    first = bucket_starts(now)[0]
    out = []
    for d in sorted(deploys, key=lambda d: d.started_at):
        if not first <= d.started_at <= now:
            continue
        x = (d.started_at - first) / BUCKET_WIDTH * SLICE_X
        out.append(DeployMark(round(x, 1), deploy_text(d), d.passed))
    return out


def deploy_text(deploy: Deploy) -> str:
    """ "Deploy 2.4.1 at 13:05 UTC, gate passed" (or failed, or still running)."""
    verdict = {True: "gate passed", False: "gate failed", None: "gate running"}[deploy.passed]
    return f"Deploy {deploy.version} at {deploy.started_at.astimezone(UTC):%H:%M} UTC, {verdict}"
