"""`monitor demo`: the seed's fleet simulated on loopback and the daemon watching it, served
like `monitor run` (or checked once and printed with `--once`)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from monitor.cli.options import stop_after_option
from monitor.cli.render import render_table
from monitor.cli.run import serve_daemon
from monitor.config import parse_config
from monitor.durations import parse_duration
from monitor.exit_codes import ExitCode
from monitor.simulator.graphql_api import DEMO_QUEUE

CONSUMER_STOPS_AFTER_S = 120.0
"""The demo's `github-sync` consumer stops after two minutes: its backlog then grows."""


async def _demo(
    listen: str, fleet_port: int, interval: str, once: bool, stop_after: float | None
) -> ExitCode:
    import json
    import secrets
    import tempfile

    from monitor.alerting.rules import parse_alert_rules
    from monitor.runtime.daemon import Monitor
    from monitor.simulator import SimulatedFleet, fleet_config, seed_fleet
    from monitor.simulator.graphql_api import GraphQLSimulator, demo_analytics
    from monitor.simulator.heartbeats import run_heartbeats, seed_heartbeats

    try:
        seconds = parse_duration(interval)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--interval") from None
    token = secrets.token_hex(16)  # the demo's own: nothing real to leak, scrubbed all the same
    async with (
        SimulatedFleet(seed_fleet(), base_port=fleet_port) as fleet,
        GraphQLSimulator(
            demo_analytics(fleet.names, token, CONSUMER_STOPS_AFTER_S)
        ) as analytics_api,
    ):
        timeout = f"{min(2.0, seconds * 0.8):g}s"
        beats = seed_heartbeats()
        as_data: dict[str, Any] = fleet_config(
            fleet, interval=interval, timeout=timeout, heartbeats=beats, every_kind=True
        )
        as_data["cloudflare"] = {
            "account_id": analytics_api.sim.account_id,
            "api_token": token,
            "interval": f"{max(1.0, seconds):g}s",
            "api_url": analytics_api.url,
        }
        for service in as_data["services"]:
            if service["name"] == "queue":
                service["queues"] = [DEMO_QUEUE]
        config = parse_config(json.dumps(as_data), "<demo>")
        if once:
            monitor = Monitor(config)
            await monitor.start(schedule=False)
            try:
                await monitor.run_all_once()
                click.echo(render_table(monitor.status()))
            finally:
                await monitor.stop()
            return ExitCode.OK

        pinging: list[asyncio.Task[None]] = []

        def ready(url: str) -> None:
            # the cron trigger and the queue consumer report in; the consumer stops later
            pinging.append(asyncio.create_task(run_heartbeats(url, beats), name="heartbeats"))
            click.echo(
                f"monitor demo: {len(fleet.names)} simulated services on "
                f"{fleet.url(fleet.names[0])} and up, checked every {interval}\n"
                f"  status:  {url}/status\n  metrics: {url}/metrics\n  healthz: {url}/healthz\n"
                "Ctrl-C stops it.",
                err=True,
            )

        rules_file = Path(__file__).parents[1] / "simulator" / "demo-alerts.yaml"
        alerts = parse_alert_rules(
            rules_file.read_text(), str(rules_file), services=[s.name for s in config.services]
        )
        with tempfile.TemporaryDirectory(prefix="monitor-demo-") as data:
            try:
                return await serve_daemon(
                    config,
                    listen,
                    stop_after,
                    ready,
                    alerts=alerts,
                    outbox_path=str(Path(data) / "alerts.sqlite3"),
                    store_path=str(Path(data) / "monitor.sqlite3"),
                )
            finally:
                for task in pinging:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task


@click.command()
@click.option("--listen", default="127.0.0.1:8700", show_default=True)
@click.option(
    "--fleet-port",
    default=8701,
    show_default=True,
    help="first port of the simulated fleet (0: any free ports)",
)
@click.option("--interval", default="5s", show_default=True)
@click.option("--once", is_flag=True, help="check every service once, print a table, exit")
@stop_after_option
def demo(listen: str, fleet_port: int, interval: str, once: bool, stop_after: float | None) -> None:
    """Start the seed's fleet, simulated on loopback, and the daemon watching it."""
    sys.exit(asyncio.run(_demo(listen, fleet_port, interval, once, stop_after)))
