"""What a simulated endpoint answers: status, headers, body, and how long it takes."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_Z95 = 1.6448536269514722


@dataclass(frozen=True, slots=True)
class Latency:
    """Lognormal latency given by its median and p95, in seconds (0 = answer at once)."""

    median: float = 0.0
    p95: float = 0.0

    def sample(self, rng: random.Random) -> float:
        if self.median <= 0:
            return 0.0
        sigma = math.log(self.p95 / self.median) / _Z95 if self.p95 > self.median else 0.0
        return rng.lognormvariate(math.log(self.median), sigma)


@dataclass(frozen=True, slots=True)
class Behavior:
    """One endpoint's answer. `body` may hold `{now}`, replaced by the current ISO time;
    `rpc` adds `Server-Timing: rpc;dur=<ms>` with the simulated RPC time. With `then`, the
    endpoint answers `then` from `then_after` seconds after its first request on: a fresh
    deploy warming up, whenever the first probe arrives."""

    status: int = 200
    body: str = ""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    latency: Latency = field(default_factory=Latency)
    rpc: Latency | None = None
    """For smoke paths: the internal call's time, reported in Server-Timing."""
    rpc_drift_per_min: float = 0.0
    """Seconds the internal call slows down per minute since the fleet started (a slow leak)."""
    then: Behavior | None = None
    then_after: float = 0.0

    def render_body(self) -> str:
        if "{now}" not in self.body:
            return self.body
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return self.body.replace("{now}", now)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Behavior:
        """From the control API: {"status", "body", "content_type", "headers", "latency_ms",
        "latency_p95_ms", "rpc_ms", "rpc_p95_ms", "then": {...}, "then_after_s"}."""
        latency = Latency(
            float(data.get("latency_ms", 0)) / 1000,
            float(data.get("latency_p95_ms", data.get("latency_ms", 0))) / 1000,
        )
        rpc = None
        if "rpc_ms" in data:
            rpc = Latency(
                float(data["rpc_ms"]) / 1000,
                float(data.get("rpc_p95_ms", data["rpc_ms"])) / 1000,
            )
        body = data.get("body", "")
        return cls(
            status=int(data.get("status", 200)),
            body=body if isinstance(body, str) else json.dumps(body),
            content_type=str(data.get("content_type", "application/json")),
            headers=tuple((str(k), str(v)) for k, v in dict(data.get("headers", {})).items()),
            latency=latency,
            rpc=rpc,
            rpc_drift_per_min=float(data.get("rpc_drift_ms_per_min", 0)) / 1000,
            then=cls.from_json(data["then"]) if "then" in data else None,
            then_after=float(data.get("then_after_s", 0)),
        )
