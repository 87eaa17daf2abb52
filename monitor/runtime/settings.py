"""How one `Monitor` runs, apart from its config file's content: where that file is, which shard
this replica is, and the knobs of its client and store. Plain values, frozen, with named defaults,
so a caller names only what it changes: `Monitor(config, MonitorSettings(shard=spec))`.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.fleet.sharding import ShardSpec

__all__ = [
    "CONNECTION_LIMIT",
    "DEFAULT_SETTINGS",
    "DNS_CACHE_TTL",
    "FLUSH_PERIOD",
    "PRUNE_PERIOD",
    "MonitorSettings",
]

CONNECTION_LIMIT = 512
"""Connections open at once at most (aiohttp's default is 100): room for every check in flight
at the benchmarked rate, with a bound on the sockets that hanging targets can hold."""
DNS_CACHE_TTL = 60.0
"""Seconds a resolved name is reused: one lookup a minute per host, not one per check, and a
moved service is followed within a minute."""
FLUSH_PERIOD = 1.0
"""Seconds between writes of changed states to the store: a SIGKILL loses at most this much."""
PRUNE_PERIOD = 3600.0
"""Seconds between prunes of status changes older than the store's retention (days)."""


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    config_path: str | None = None
    """The file a reload (SIGHUP, `POST /-/reload`) reads again; None: no reload."""
    shard: ShardSpec | None = None
    """This replica's share of the checks (docs/ha.md); None runs them all."""
    connection_limit: int = CONNECTION_LIMIT
    dns_cache_ttl_s: float = DNS_CACHE_TTL
    flush_period_s: float = FLUSH_PERIOD
    prune_period_s: float = PRUNE_PERIOD
    peers: tuple[str, ...] = ()
    """Base URL of every shard, by index (`--peer-url`): a replica that receives a push ping
    passes it on to the check's other owners there (docs/ha.md). Empty: nowhere to pass."""


DEFAULT_SETTINGS = MonitorSettings()
