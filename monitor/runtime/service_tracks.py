"""Each service's status and since when it holds, following its checks' statuses: recomputed
only when one of its checks changes status (a service whose checks are unchanged is unchanged),
exported as a metric and logged when it changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from itertools import repeat
from operator import attrgetter
from typing import Any

from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.model import CheckKind, Status
from monitor.runtime.first_round import quiet_first_verdict
from monitor.runtime.tracked import TrackedCheck
from monitor.state import ServiceTrack, track_service
from monitor.status import check_status, service_verdict

__all__ = ["ServiceTracks"]

_NOT_YET = ServiceTrack(Status.UNKNOWN, datetime(1970, 1, 1, tzinfo=UTC))
_STATUS = attrgetter("status")


class ServiceTracks:
    def __init__(self, metrics: MonitorMetrics, log: Any) -> None:
        self.metrics = metrics
        self.log = log
        self.tracks: dict[str, ServiceTrack] = {}
        self.watchers: list[Callable[[str, Status], None]] = []
        """Told each new status (the index /status and the page filter by)."""

    def update(
        self,
        name: str,
        records: Sequence[TrackedCheck],
        now: datetime,
        *,
        log: bool = True,
        headless: bool = False,
    ) -> None:
        """Recompute service `name` from its checks' records; `log=False` when restoring;
        `headless` when the service has no url (status.service_verdict)."""
        checks = [check_status(t.check, t.state) for t in records]
        status, reason, detail = service_verdict(checks, headless=headless)
        previous = self.tracks.get(name)
        if previous is None:  # first verdict, or restored: the status began with its check's
            health = next((c for c in checks if c.kind is CheckKind.HEALTH), None)
            if health is not None and health.status is status and health.since is not None:
                now = health.since
        track = track_service(previous, status, now)
        if track is previous:
            return
        self.tracks[name] = track
        self.metrics.observe_service(name, status)
        for watch in self.watchers:
            watch(name, status)
        if log:
            first = previous is None or not previous.judged
            quiet = quiet_first_verdict(first, status, reason)
            log_event = self.log.debug if quiet else self.log.info
            log_event(
                "service.status_changed",
                service=name,
                **{"from": previous.status.value if previous else "unknown"},
                to=status.value,
                reason=reason.value,
                detail=detail,
            )

    def not_checked(self, names: Iterable[str], now: datetime) -> None:
        """What `update` gives services none of whose checks has a state yet (the verdict of
        no news, since `now`), without a status per check: a first start has 100,000."""
        status = service_verdict(())[0]
        track = ServiceTrack(status, now, judged=False)
        for name in names:
            if name not in self.tracks:
                self.tracks[name] = track  # frozen: one object serves them all
                self.metrics.observe_service(name, status)

    def status(self, name: str) -> Status:
        """One service's status now, `unknown` before its first verdict (`_NOT_YET`)."""
        return self.tracks.get(name, _NOT_YET).status

    def statuses(self, names: Sequence[str]) -> list[Status]:
        """Each named service's status now, `unknown` before its first verdict (as
        `Monitor.service_status_now`), in C loops: the status page reads 100,000 a second."""
        found = map(self.tracks.get, names, repeat(_NOT_YET))
        return list(map(_STATUS, found))

    def forget(self, name: str) -> None:
        self.tracks.pop(name, None)
        self.metrics.forget_service(name)
