"""A big fleet's daemon state, built the cheapest honest way: a `Monitor` over N services (a
health check each, one in ten with an rpc smoke path, 20 teams, like bench/outputs_scale.py)
fed one verdict per check directly: the page's cost does not depend on how verdicts came.
One in fifty services is down, one in a hundred degraded. Shared by tests and bench/."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from monitor.config import MonitorConfig
from monitor.model import Reason, Status, Verdict
from monitor.runtime.daemon import Monitor

OK = Verdict(status=Status.HEALTHY, reason=Reason.OK, detail="reports healthy (JSON)")
DOWN = Verdict(status=Status.UNHEALTHY, reason=Reason.SERVER_ERROR, detail="HTTP 500")
SLOW = Verdict(status=Status.DEGRADED, reason=Reason.REPORTED_DEGRADED, detail="db slow")


QUIET = structlog.wrap_logger(structlog.ReturnLogger())
"""A logger for the Monitor that keeps its 2 lines per service to itself."""


def name(i: int) -> str:
    return f"s{i:06d}"


def fleet_services(n: int, base_url: str) -> list[dict[str, Any]]:
    """N services' config entries, `base_url/sNNNNNN` each (bench/outputs_scale.py's too)."""
    services: list[dict[str, Any]] = []
    for i in range(n):
        service: dict[str, Any] = {
            "name": name(i),
            "url": f"{base_url}/{name(i)}",
            "team": f"team-{i % 20}",
            "labels": {"tier": "edge" if i % 3 == 0 else "core"},
        }
        if i % 10 == 0:
            service["rpc"] = [{"name": "db", "path": "/smoke/db", "target": "5ms"}]
        services.append(service)
    return services


def big_config(n: int, interval: str = "60s") -> MonitorConfig:
    """Validated as parse_config does, without reading YAML (startup's cost, not the page's)."""
    data = {
        "defaults": {"interval": interval, "timeout": "1s"},
        "services": fleet_services(n, "http://127.0.0.1:9"),
    }
    return MonitorConfig.model_validate(data, context={"env": {}})


def verdict_for(service: str) -> Verdict:
    i = int(service[1:])
    return DOWN if i % 50 == 7 else SLOW if i % 100 == 3 else OK


async def feed(monitor: Monitor, now: datetime) -> None:
    """One verdict for every check, then the store flushed (the page reads history)."""
    for check in monitor.checks():
        monitor.apply_verdict(check, verdict_for(check.service), now, 0.004)
    await monitor.flush()


def set_service(monitor: Monitor, service: str, verdict: Verdict, now: datetime) -> None:
    """Every check of `service` answers `verdict` (a service going down or back up)."""
    for check in monitor.checks():
        if check.service == service:
            monitor.apply_verdict(check, verdict, now, 0.004)
