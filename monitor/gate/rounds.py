"""`monitor verify`: the deploy gate's imperative shell. Probes, waits, samples; `verdict` judges.

It probes with exactly what the daemon uses (`probe_for`, `normalize_response`, `advance`,
`check_status`, `service_status`), over one client session, so the gate and the dashboard never
disagree about a service. `--wait` re-checks the services that fail until they pass or the time
is up; `--samples N` takes N probes per check (at most `per_check_in_flight` at once per check,
`max_in_flight` overall, after unjudged warm-up probes that open the connections) and puts their
exact p50/p95/p99 into `latency_ms`. Answers are parsed only once a round's probes are all done:
parsing between probes blocks the loop and inflates the latencies being measured. `--from URL`
reads running daemons' `/status` instead of probing, with the client and merge of `monitor status
--from` (monitor/fleet).
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import aiohttp

from monitor.answer import Answer
from monitor.config import Check, MonitorConfig, ServiceConfig
from monitor.fleet.merge import merge
from monitor.fleet.status_client import fetch_all as fetch_sources
from monitor.fleet.status_client import status_url
from monitor.gate.verdict import GateReport, judge
from monitor.model import (
    CheckStatus,
    LatencySummary,
    Reason,
    ServiceStatus,
    Status,
    Verdict,
)
from monitor.normalize import normalize_response
from monitor.probes import polled, probe_for
from monitor.probes.timing import timed_connector
from monitor.secrets_scrub import Scrubber, scrubber_for
from monitor.slo import judged_latency
from monitor.state import CheckState, ServiceTrack, advance, track_service
from monitor.status import check_status, service_status

FETCH_TIMEOUT_S = 10.0
"""Per `--from` daemon and round: the gate has no `--timeout`."""


class GateUsageError(Exception):
    """Flags or sources the gate cannot work with: exit 2, nothing was judged."""


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """What to verify and how. `samples=0`: one probe per check and no latency judgement."""

    services: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    wait: float = 0.0
    samples: int = 0
    expect_version: str | None = None
    sources: tuple[str, ...] = ()
    poll_interval: float = 1.0
    per_check_in_flight: int = 4
    max_in_flight: int = 16


@dataclass(frozen=True, slots=True)
class Round:
    """One pass over the services still failing, for the progress display."""

    number: int
    passing: int
    total: int
    failing: tuple[str, ...]
    remaining_s: float
    final: bool


def parse_label(text: str) -> tuple[str, str]:
    """`key=value` (a `--label` flag)."""
    key, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", key):
        raise ValueError(f"expected key=value with a label name as key, got {text!r}")
    return key, value


class _Selectable(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def labels(self) -> Mapping[str, str]: ...


def select(items: Sequence[_Selectable], options: VerifyOptions) -> list[str]:
    """Names chosen by `--service` (any of) and `--label` (all of), in their listed order."""
    known = [item.name for item in items]
    unknown = [name for name in options.services if name not in known]
    if unknown:
        raise GateUsageError(
            f"unknown service {', '.join(map(repr, unknown))}; expected one of: {', '.join(known)}"
        )
    chosen = [
        item.name
        for item in items
        if (not options.services or item.name in options.services)
        and all(item.labels.get(k) == v for k, v in options.labels)
    ]
    if items and not chosen:
        wanted = " ".join(f"--label {k}={v}" for k, v in options.labels)
        in_use = sorted({f"{k}={v}" for item in items for k, v in item.labels.items()})
        raise GateUsageError(
            f"no service matches {wanted}; labels in use: {', '.join(in_use) or 'none'}"
        )
    return chosen


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values: always a real sample, never below the true
    quantile, which is the safe side for a gate with few samples."""
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(samples_s: Sequence[float]) -> LatencySummary | None:
    """Exact p50/p95/p99 in milliseconds of a handful of samples given in seconds."""
    if not samples_s:
        return None
    ordered = sorted(samples_s)
    p50, p95, p99 = (round(percentile(ordered, q) * 1000, 3) for q in (50, 95, 99))
    return LatencySummary(
        p50=p50, p95=p95, p99=p99, window=f"{len(ordered)} samples", count=len(ordered)
    )


def combine(verdicts: Sequence[Verdict]) -> Verdict:
    """One verdict for a check's samples: the worst, saying how many samples shared it."""
    worst = max(verdicts, key=lambda v: v.status.severity)
    if len(verdicts) > 1 and worst.status is not Status.HEALTHY:
        same = sum(v.status is worst.status for v in verdicts)
        if same < len(verdicts):
            detail = f"{worst.detail} ({same} of {len(verdicts)} samples)"
            return worst.model_copy(update={"detail": detail})
    return worst


@dataclass(slots=True)
class _Sampled:
    """A check's answers of one round: judged after every probe of the round is done, so that
    parsing never blocks the loop while other probes are being timed."""

    check: Check
    warm_up: list[Answer]
    answers: list[Answer]
    scrubber: Scrubber

    def verdict(self) -> Verdict:
        return combine(
            [normalize_response(a, self.scrubber) for a in [*self.warm_up, *self.answers]]
        )

    def duration_s(self) -> float:
        """The median round trip (of the one probe, without `--samples`)."""
        durations = sorted(a.duration_s for a in self.answers)
        return durations[len(durations) // 2]

    def latency(self) -> LatencySummary | None:
        return summarize([_judged_latency(self.check, a) for a in self.answers if a.error is None])


@dataclass
class Verifier:
    """Probes the selected services of `config` in rounds, keeping state like the daemon."""

    config: MonitorConfig
    options: VerifyOptions
    progress: Callable[[Round], None] = lambda _round: None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    states: dict[str, CheckState] = field(default_factory=dict)
    tracks: dict[str, ServiceTrack] = field(default_factory=dict)
    scrubber: Scrubber = field(init=False)
    """The config's secrets: the report is printed and may be kept as a CI artifact."""

    def __post_init__(self) -> None:
        self.scrubber = scrubber_for(self.config)

    async def run(self) -> GateReport:
        names = select(self.config.services, self.options)
        by_name = {s.name: s for s in self.config.services}
        checks: dict[str, list[Check]] = {name: [] for name in names}
        for check in self.config.checks():  # real traffic and push checks: judged --from
            if check.service in checks and polled(check):
                checks[check.service].append(check)
        names = [name for name in names if checks[name]]
        limit = asyncio.Semaphore(self.options.max_in_flight)
        # The daemon's connector: the gate times a sample exactly as the daemon would.
        connector = timed_connector(limit=self.options.max_in_flight, ttl_dns_cache=60)
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar()
        ) as session:

            async def check_round(pending: Sequence[str]) -> dict[str, ServiceStatus]:
                sampled = await asyncio.gather(
                    *(self._sample(session, c, limit) for name in pending for c in checks[name])
                )
                by_check = {result.check.id: result for result in sampled}
                return {
                    name: self._service(by_name[name], [by_check[c.id] for c in checks[name]])
                    for name in pending
                }

            return await rounds(names, check_round, self.options, self.progress)

    async def _sample(
        self, session: aiohttp.ClientSession, check: Check, limit: asyncio.Semaphore
    ) -> _Sampled:
        per_check = asyncio.Semaphore(self.options.per_check_in_flight)

        async def one() -> Answer:
            async with per_check, limit:
                return await probe_for(check)(session, check)

        warm_up: list[Answer] = []
        if samples := self.options.samples:  # opens the connections, pays one-time costs
            n = min(samples, self.options.per_check_in_flight)
            warm_up = list(await asyncio.gather(*(one() for _ in range(n))))
        answers = await asyncio.gather(*(one() for _ in range(max(1, samples))))
        return _Sampled(check, warm_up, list(answers), self.scrubber)

    def _service(self, service: ServiceConfig, sampled: Sequence[_Sampled]) -> ServiceStatus:
        now = self.clock()
        statuses: list[CheckStatus] = []
        for result in sampled:
            check = result.check
            state = advance(self.states.get(check.id), result.verdict(), now, result.duration_s())
            self.states[check.id] = state
            latency = result.latency() if self.options.samples else None
            statuses.append(check_status(check, state, latency))
        status = service_status(service, statuses, self.tracks.get(service.name))
        self.tracks[service.name] = track_service(self.tracks.get(service.name), status.status, now)
        return status


def _judged_latency(check: Check, answer: Answer) -> float:
    """The daemon's rule (`monitor.slo`): RPC checks on the service's own Server-Timing or
    `rpc_ms` when given, everything else on the round trip."""
    value, _source = judged_latency(check, answer)
    return answer.duration_s if value is None else value


RoundCheck = Callable[[Sequence[str]], Awaitable[Mapping[str, ServiceStatus]]]
"""Check the named services once; returns their statuses."""


async def rounds(
    names: Sequence[str],
    check: RoundCheck,
    options: VerifyOptions,
    progress: Callable[[Round], None],
) -> GateReport:
    """Check every service, then re-check those failing the gate every `poll_interval` until
    they pass or `wait` is over (always at least one round)."""
    deadline = time.monotonic() + options.wait
    results: dict[str, ServiceStatus] = {}
    pending = list(names)
    number = 0
    while True:
        number += 1
        started = time.monotonic()
        results.update(await check(pending))
        report = judge([results[n] for n in pending], options.expect_version)
        pending = [v.name for v in report.services if not v.ok]
        remaining = max(0.0, deadline - time.monotonic())
        final = not pending or remaining <= 0
        progress(
            Round(number, len(names) - len(pending), len(names), tuple(pending), remaining, final)
        )
        if final:
            return judge([results[n] for n in names], options.expect_version)
        pause = options.poll_interval - (time.monotonic() - started)
        await asyncio.sleep(min(max(0.0, pause), remaining))


def _absent(name: str, service: ServiceConfig | None, sources: Sequence[str]) -> ServiceStatus:
    """A service that must pass but that no daemon reports: unknown, so it fails."""
    return ServiceStatus(
        name=name,
        status=Status.UNKNOWN,
        reason=Reason.NOT_CHECKED,
        detail=f"not in the /status of {', '.join(sources)}",
        url=(service.url or "") if service is not None else "",
        labels=dict(service.labels) if service is not None else {},
        depends_on=list(service.depends_on) if service is not None else [],
    )


async def verify_from(
    config: MonitorConfig | None,
    options: VerifyOptions,
    progress: Callable[[Round], None] = lambda _round: None,
) -> GateReport:
    """Judge what running daemons report. With a config, its (selected) services are the ones
    that must pass, and one a daemon does not report is `unknown`; without, all reported."""
    try:
        urls = [status_url(s) for s in options.sources]
    except ValueError as exc:
        raise GateUsageError(f"--from: {exc}") from None
    deadline = time.monotonic() + options.wait

    async def fetch_all() -> list[ServiceStatus]:
        while True:
            answers = await fetch_sources(urls, FETCH_TIMEOUT_S)
            failed = next((a for a in answers if a.status is None), None)
            if failed is None:
                return merge(answers, datetime.now(UTC)).fleet.services
            if time.monotonic() + options.poll_interval > deadline:
                raise GateUsageError(f"--from {failed.source}: {failed.error}")
            await asyncio.sleep(options.poll_interval)  # a daemon still starting

    first: list[ServiceStatus] | None = await fetch_all()
    assert first is not None
    expected: Sequence[_Selectable] = first if config is None else config.services
    names = select(expected, options)

    async def check_round(pending: Sequence[str]) -> dict[str, ServiceStatus]:
        nonlocal first
        reported, first = first or await fetch_all(), None
        by_name = {s.name: s for s in reported}
        return {
            name: by_name.get(name) or _absent(name, config.service(name) if config else None, urls)
            for name in pending
        }

    return await rounds(names, check_round, options, progress)


async def verify(
    config: MonitorConfig | None,
    options: VerifyOptions,
    progress: Callable[[Round], None] = lambda _round: None,
) -> GateReport:
    """The gate's run: probe the config's services, or read `--from` daemons."""
    if options.sources:
        if options.samples:
            raise GateUsageError("--samples needs probing; it cannot be used with --from")
        return await verify_from(config, options, progress)
    if config is None:
        raise GateUsageError("--config is required unless --from is given")
    return await Verifier(config, options, progress).run()
