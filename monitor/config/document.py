"""`monitor.yaml` as a whole: the top-level sections and `MonitorConfig.checks()`, every
check the daemon runs with `defaults:` applied."""

from __future__ import annotations

from operator import is_

from pydantic import Field, PrivateAttr, field_validator

from monitor.config.checks import Check, resolve_checks
from monitor.config.cloudflare import CloudflareConfig
from monitor.config.fields import Duration, MetricsDetail, Secret, Strict
from monitor.config.service import Defaults, ServiceConfig


class LatencyConfig(Strict):
    """Rolling latency windows. `status_window` is the one /status shows; targets are judged
    on the shortest window holding `min_samples` samples."""

    windows: list[Duration] = Field(default_factory=lambda: [60.0, 300.0, 3600.0], min_length=1)
    status_window: Duration = 300.0
    min_samples: int = Field(default=20, ge=1, le=100_000)

    @field_validator("windows")
    @classmethod
    def _distinct(cls, value: list[float]) -> list[float]:
        if len(set(value)) != len(value) or any(w <= 0 for w in value):
            raise ValueError("expected distinct positive durations")
        return sorted(value)


class StoreConfig(Strict):
    """The embedded SQLite store. `path` defaults to `<--data-dir>/monitor.sqlite3`."""

    path: str | None = None
    retention: Duration = Field(default=7 * 86400.0, gt=0)


class AuthConfig(Strict):
    """Bearer tokens. Without `admin_token` the admin API (reload, silences) is disabled;
    with `read_token`, /status and /metrics require it too (/healthz stays open)."""

    admin_token: Secret | None = None
    read_token: Secret | None = None


class MonitorConfig(Strict):
    listen: str = "127.0.0.1:8700"
    metrics: MetricsDetail = "lean"
    store: StoreConfig = Field(default_factory=StoreConfig)
    latency: LatencyConfig = Field(default_factory=LatencyConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    defaults: Defaults = Field(default_factory=Defaults)
    services: list[ServiceConfig] = Field(default_factory=list)
    cloudflare: CloudflareConfig | None = None

    _checks: tuple[tuple[object, ...], tuple[Check, ...]] | None = PrivateAttr(default=None)
    """The resolved checks and the sections they were resolved from: validation, the daemon
    and every /status read them, and at 100,000 checks resolving costs a second. A
    `model_copy(update=...)` that replaces a section gets fresh checks."""
    _positions: tuple[list[ServiceConfig], dict[str, int]] | None = PrivateAttr(None)

    def checks(self) -> list[Check]:
        """Every check the daemon runs, with `defaults:` applied."""
        sources = (self.services, self.defaults, self.metrics, self.cloudflare)
        cached = self._checks
        if cached is None or not all(map(is_, cached[0], sources)):
            resolved = tuple(
                resolve_checks(self.defaults, self.metrics, self.cloudflare, self.services)
            )
            self._checks = cached = (sources, resolved)
        return list(cached[1])

    def service(self, name: str) -> ServiceConfig | None:
        position = self.position(name)
        return None if position is None else self.services[position]

    def position(self, name: str) -> int | None:
        """Where service `name` is in `services` (by a dict: /status asks per request)."""
        cached = self._positions  # once: a private attribute is read through __getattr__
        if cached is None or cached[0] is not self.services:
            positions: dict[str, int] = {}
            for i, s in enumerate(self.services):
                positions.setdefault(s.name, i)  # a duplicate name is refused; the first wins
            self._positions = cached = (self.services, positions)
        return cached[1].get(name)
