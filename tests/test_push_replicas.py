"""Push checks on sharded replicas: three daemons, each check owned by two, pings sent to a
random replica. Every owner records every ping (a non-owner passes it on, an owner passes it to
the other owner), non-owners keep no state, and lateness is found by the owners alone."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from monitor.config import parse_config
from monitor.fleet.sharding import ShardSpec, assign
from monitor.http.app import serve
from monitor.runtime.daemon import Monitor
from monitor.runtime.settings import MonitorSettings
from tests.polling import until

CHECKS = 12
REPLICAS = 3


def token(i: int) -> str:
    return f"replica-test-token-{i:04d}"


CONFIG = "services:\n" + "".join(
    f"  - name: job{i}\n    push:\n"
    f"      - {{name: beat, every: 30s, grace: 15s, token: {token(i)}}}\n"
    for i in range(CHECKS)
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def replicas() -> AsyncIterator[tuple[list[Monitor], list[str], Clock]]:
    clock = Clock()
    config = parse_config(CONFIG)
    monitors, runners, urls = [], [], []
    # each replica binds port 0; the peer URLs are known only once all have, so they are
    # filled in then, before any request (a port picked in advance could be taken meanwhile)
    unknown = ("http://127.0.0.1:9",) * REPLICAS
    for index in range(REPLICAS):
        settings = MonitorSettings(
            shard=ShardSpec(index, REPLICAS, replicas=2, name=f"monitor-{index}"), peers=unknown
        )
        monitor = Monitor(config, settings, clock=clock)
        await monitor.start()
        runner, port = await serve(monitor, "127.0.0.1", 0)
        monitors.append(monitor)
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{port}")
    for monitor in monitors:
        monitor.settings = dataclasses.replace(monitor.settings, peers=tuple(urls))
    try:
        yield monitors, urls, clock
    finally:
        for runner, monitor in zip(runners, monitors, strict=True):
            await runner.cleanup()
            await monitor.stop()


def pings(monitor: Monitor, i: int) -> float | None:
    return monitor.registry.get_sample_value(
        "monitor_push_pings_total", {"service": f"job{i}", "check": "beat", "outcome": "success"}
    )


def reason(monitor: Monitor, i: int) -> Any:
    record = monitor.tracked.get(f"job{i}/push/beat")
    return None if record is None or record.state is None else record.state.verdict.reason.value


async def test_a_ping_counts_wherever_it_lands(
    replicas: tuple[list[Monitor], list[str], Clock],
) -> None:
    monitors, urls, clock = replicas
    rng = random.Random(15)
    sent = dict.fromkeys(range(CHECKS), 0)
    async with aiohttp.ClientSession() as session:
        for _ in range(3 * CHECKS):
            i = rng.randrange(CHECKS)
            async with session.post(f"{rng.choice(urls)}/push/{token(i)}") as answer:
                assert answer.status == 200
            sent[i] += 1
        async with session.get(f"{urls[0]}/push/{'z' * 20}") as answer:
            assert answer.status == 404
    for i in range(CHECKS):
        owners = set(assign(f"job{i}/push/beat", REPLICAS, 2))
        for index, monitor in enumerate(monitors):
            if index in owners:
                assert pings(monitor, i) == sent[i], (i, index)
                assert reason(monitor, i) == ("ok" if sent[i] else "never_reported")
            else:
                assert pings(monitor, i) is None and reason(monitor, i) is None
    # silence: every owner finds the pinged checks late, on its own deadline timer
    clock.now += timedelta(seconds=46)
    pinged = [i for i in range(CHECKS) if sent[i]]

    def all_late() -> bool:
        return all(
            reason(m, i) == "late"
            for i in pinged
            for index, m in enumerate(monitors)
            if index in assign(f"job{i}/push/beat", REPLICAS, 2)
        )

    await until(all_late)


async def test_an_owner_down_does_not_lose_the_ping(
    replicas: tuple[list[Monitor], list[str], Clock],
) -> None:
    """The other owner still takes it: a ping is lost only when both owners are down."""
    monitors, urls, _ = replicas
    i = 0
    first, second = assign(f"job{i}/push/beat", REPLICAS, 2)
    (outsider,) = set(range(REPLICAS)) - {first, second}
    dead = MonitorSettings(peers=(*urls[:first], "http://127.0.0.1:9", *urls[first + 1 :]))
    monitors[outsider].push.peers_of = lambda check: [dead.peers[j] for j in (first, second)]
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{urls[outsider]}/push/{token(i)}") as answer,
    ):
        assert answer.status == 200
    assert pings(monitors[second], i) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--peer-url", "http://monitor-{index}.monitor:8700"],  # without sharding
        ["--shard", "0/3", "--peer-url", "http://monitor.monitor:8700"],  # no {index}
    ],
)
def test_peer_url_needs_sharding_and_an_index(tmp_path: Any, args: list[str]) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    config = tmp_path / "monitor.yaml"
    config.write_text(CONFIG)
    result = CliRunner().invoke(cli, ["run", "--config", str(config), *args])
    assert result.exit_code == 2
    assert "--peer-url needs sharding and an {index} in the URL" in result.output
