"""Silences added at run time (the authenticated API), beside the ones in `alerts.yaml`.

Plain data with time as a parameter; the outbox persists them (`save_silences`) so a restart
in the middle of a deploy window does not page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime

from monitor.alerting.state import Matcher, Silence


class SilenceSet:
    """The run-time silences. `active(now)` is what goes into `RuleInput.silences`."""

    def __init__(self, silences: Iterable[Silence] = ()) -> None:
        self._by_id: dict[str, Silence] = {s.id: s for s in silences}

    def add(
        self,
        matchers: Mapping[str, str] | Iterable[Matcher],
        starts_at: datetime,
        ends_at: datetime,
        *,
        comment: str = "",
        created_by: str = "api",
    ) -> Silence:
        """Add one; the id is derived from its content, so adding it twice is harmless."""
        if isinstance(matchers, Mapping):
            matchers = [Matcher(name=k, value=v) for k, v in matchers.items()]
        matchers = tuple(matchers)
        if ends_at <= starts_at:
            raise ValueError("ends_at must be after starts_at")
        text = "|".join(
            [
                *(f"{m.name}{m.op}{m.value}" for m in matchers),
                starts_at.isoformat(),
                ends_at.isoformat(),
                created_by,
            ]
        )
        silence = Silence(
            id="api-" + hashlib.sha256(text.encode()).hexdigest()[:12],
            matchers=matchers,
            starts_at=starts_at,
            ends_at=ends_at,
            comment=comment,
            created_by=created_by,
        )
        self._by_id[silence.id] = silence
        return silence

    def remove(self, silence_id: str) -> bool:
        return self._by_id.pop(silence_id, None) is not None

    def expire(self, now: datetime) -> list[str]:
        """Drop silences that have ended; return their ids."""
        gone = [i for i, s in self._by_id.items() if s.ends_at <= now]
        for silence_id in gone:
            del self._by_id[silence_id]
        return gone

    def active(self, now: datetime) -> tuple[Silence, ...]:
        return tuple(s for s in self._by_id.values() if s.active(now))

    def all(self) -> list[Silence]:
        return sorted(self._by_id.values(), key=lambda s: (s.starts_at, s.id))
