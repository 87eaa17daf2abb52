"""The per-service series (`monitor_service_status`), kept in flat arrays like the checks'
(check_series.py) and declared in bulk: a start-up declares 100,000 services at once."""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable

from prometheus_client.samples import Sample

from monitor.model import Status

STATUSES = tuple(Status)
STATUS_VALUES = tuple(s.value for s in STATUSES)
_STATUS_INDEX = {s: i for i, s in enumerate(STATUSES)}
_UNKNOWN = _STATUS_INDEX[Status.UNKNOWN]


class ServiceSeries:
    """Each service's status: lean, one series (the current status); detailed, 0 for the
    other statuses too. Freed slots are reused; arrays never shrink (see check_series.py on
    scrapes from another thread)."""

    def __init__(self) -> None:
        self._service_index: dict[str, int] = {}
        self._services: list[str | None] = []
        self._service_free: list[int] = []
        self._service_status = array("b")
        self._service_detailed = array("b")

    def declare_service(self, service: str, detailed: bool = False) -> None:
        """Lean: one series, the current status; detailed: 0 for the other statuses too."""
        self.observe_service(service, Status.UNKNOWN)
        self.configure_service(service, detailed)

    def declare_services(self, services: Iterable[str], detailed: Collection[str] = ()) -> None:
        """`declare_service` of each, those in `detailed` with every status: new services
        take their slots at the end, each array grown once (a start-up declares 100,000)."""
        index = self._service_index
        wanted = dict.fromkeys(services)
        fresh = [] if self._service_free else [s for s in wanted if s not in index]
        start = len(self._services)
        self._service_status.extend(array("b", [_UNKNOWN]) * len(fresh))
        self._service_detailed.extend(array("b", [0]) * len(fresh))
        index.update(zip(fresh, range(start, start + len(fresh)), strict=True))
        self._services.extend(fresh)  # last: a scrape sees only fully grown indices
        if len(fresh) < len(wanted):  # known ones, or freed slots to reuse: one at a time
            for service in wanted:
                if index.get(service, -1) < start:
                    self.declare_service(service, service in detailed)
        for service in detailed:
            if service in wanted:
                self._service_detailed[index[service]] = 1

    def configure_service(self, service: str, detailed: bool) -> None:
        i = self._service_index.get(service)
        if i is not None:
            self._service_detailed[i] = 1 if detailed else 0

    def observe_service(self, service: str, status: Status) -> None:
        i = self._service_index.get(service)
        if i is None:
            if self._service_free:
                i = self._service_free.pop()
                self._service_detailed[i] = 0
            else:
                i = len(self._services)
                self._service_status.append(_UNKNOWN)
                self._service_detailed.append(0)
                self._services.append(None)
            self._services[i] = service
            self._service_index[service] = i
        self._service_status[i] = _STATUS_INDEX[status]

    def forget_service(self, service: str) -> None:
        i = self._service_index.pop(service, None)
        if i is not None:
            self._services[i] = None
            self._service_free.append(i)

    def collect_services(self, samples: list[Sample]) -> None:
        """The family's samples, for `collect()`."""
        for i, name in [(i, s) for i, s in enumerate(list(self._services)) if s is not None]:
            current = self._service_status[i]
            for s, st in enumerate(STATUS_VALUES):
                if s == current or self._service_detailed[i]:
                    value = 1.0 if s == current else 0.0
                    samples.append(
                        Sample("monitor_service_status", {"service": name, "status": st}, value)
                    )
