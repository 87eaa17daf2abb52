"""The result pipeline: probe, normalize, judge latency, advance the state and export it.

Every kind's verdict (a probe's answer, a push check's ping or deadline, an analytics verdict)
ends in `apply_verdict`, the one place where a check's state changes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from monitor.config import Check
from monitor.model import CheckKind, Verdict
from monitor.normalize import normalize_response
from monitor.probes import polled, probe_for
from monitor.runtime.first_round import quiet_first_verdict
from monitor.runtime.monitor_base import MonitorBase
from monitor.slo import judge_latency, judged_latency
from monitor.state import CheckState, advance

__all__ = ["CheckResults"]


class CheckResults(MonitorBase):
    """Running checks and applying every verdict to its check's record."""

    async def run_check(self, check: Check) -> CheckState | None:
        """Probe, normalize, advance state, export. Never raises for what a target does;
        returns None only for a check cancelled by shutdown."""
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            assert self.session is not None, "start() the monitor first"
            try:
                answer = await probe_for(check)(self.session, check)
            except asyncio.CancelledError:
                if self._stopping:  # cancelled at the shutdown deadline: not a result
                    self.log.info("check.cancelled_at_shutdown", check=check.id)
                    return None
                raise
            verdict = normalize_response(answer, self.scrubber, self.metrics.count_parser_error)
            record = self.tracked.get(check.id)
            if record is None:  # removed by a reload while in flight: nothing to keep
                return advance(None, verdict, self.clock(), answer.duration_s)
            sample, source = judged_latency(check, answer)
            if sample is not None:
                self.metrics.observe_latency(check, sample)
                latency = self.config.latency
                judged = record.record_latency(
                    check.target,
                    sample,
                    source,
                    time.monotonic(),
                    latency.windows,
                    latency.min_samples,
                )
                if judged is not None:
                    verdict = judge_latency(verdict, [judged], check.target, latency.min_samples)
            return self.apply_verdict(check, verdict, self.clock(), answer.duration_s)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    def apply_verdict(
        self, check: Check, verdict: Verdict, now: datetime, duration_s: float = 0.0
    ) -> CheckState:
        """Advance a check's state with its verdict and export it: every kind's verdicts, a
        probe's answer or a push check's ping or deadline, take this one path."""
        record = self.tracked.get(check.id)
        if record is None:  # removed by a reload meanwhile: nothing to keep
            return advance(None, verdict, now, duration_s)
        previous = record.state
        state = record.state = advance(previous, verdict, now, duration_s)
        writer = self._writer  # without a store, nothing must pile up
        if writer is not None and not record.dirty:
            writer.mark(record)
        self.metrics.observe(check, state, previous)
        self.last_check_monotonic = time.monotonic()
        self.last_check_wall = now
        self.runs += 1
        if state.changed and writer is not None:
            writer.change(check, previous, state)
        if state.changed:
            quiet = quiet_first_verdict(previous is None, verdict.status, verdict.reason)
            (self.log.debug if quiet else self.log.info)(
                "check.status_changed",
                service=check.service,
                check=check.name,
                kind=check.kind.value,
                **{"from": (previous.verdict.status.value if previous else "unknown")},
                to=verdict.status.value,
                reason=verdict.reason.value,
                detail=verdict.detail,
                http_status=verdict.http_status,
            )
        if state.changed or check.service not in self.services.tracks:
            if self._batched is not None:
                self._batched[check.service] = now
            else:
                self._update_service(check.service, now)
        for watch in self.result_watchers:
            watch(check.service)
        if previous is None and self.first_round.judged(check.id):
            self.report_first_round()
        if self.alerter is not None:
            self.alerter.request()
        return state

    def _update_service(self, name: str, now: datetime) -> None:
        self.services.update(name, self.by_service[name], now, headless=self._headless(name))

    @contextmanager
    def services_batched(self) -> Iterator[None]:
        """Verdicts applied inside recompute each service they touch once, at the end: the
        push kind judges its checks in batches (all of them at start, a mass of deadlines),
        and a service of 10 push checks was recomputed from all 10 ten times."""
        if self._batched is not None:  # already in a batch: it recomputes them
            yield
            return
        batched: dict[str, datetime] = {}
        self._batched = batched
        try:
            yield
        finally:
            self._batched = None
            for name, now in batched.items():
                if name in self.by_service:
                    self._update_service(name, now)

    async def run_all_once(self) -> None:
        """Run every check once, concurrently (start-up, tests and the deploy gate)."""
        probed = [t.check for t in list(self.tracked.values()) if polled(t.check)]
        fleet_polls = []
        if self.analytics is not None and self.session is not None:
            fleet_polls.append(self.analytics.poll_once(self.session))
        await asyncio.gather(*(self.run_check(c) for c in probed), *fleet_polls)

    def _record_analytics(self, service: str, verdict: Verdict, took: float) -> None:
        record = self.tracked.get(f"{service}/{CheckKind.ANALYTICS.value}/analytics")
        if record is not None:  # a shard owns only some services' analytics checks
            scrubbed = verdict.model_copy(update={"detail": self.scrubber.scrub(verdict.detail)})
            self.apply_verdict(record.check, scrubbed, self.clock(), took)

    def _scrub_evidence(self, text: str) -> str:
        """A ping's evidence without the config's secrets. Most pings have no body; a cut one
        (ending in `…`) may end in part of a secret, which only `cut=True` removes, at a cost
        that grows with the number of secrets (every push token is one)."""
        return self.scrubber.scrub(text, cut=text.endswith("…")) if text else text
