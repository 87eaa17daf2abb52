"""The daemon for one round of checks: started without a schedule, every check run once."""

from __future__ import annotations

from monitor.config import parse_config
from monitor.model import FleetStatus
from monitor.runtime.daemon import Monitor


async def one_round(config_text: str) -> tuple[Monitor, FleetStatus]:
    """The stopped monitor (its metrics registry stays readable) and its /status after it."""
    monitor = Monitor(parse_config(config_text))
    await monitor.start(schedule=False)
    try:
        await monitor.run_all_once()
        return monitor, monitor.status()
    finally:
        await monitor.stop()
