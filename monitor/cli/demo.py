"""`monitor demo`: the seed's fleet simulated on loopback and the daemon watching it, served
like `monitor run` (or checked once and printed with `--once`)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import click

from monitor.cli.options import stop_after_option
from monitor.cli.render import render_table
from monitor.cli.run import serve_daemon
from monitor.config import parse_config
from monitor.durations import parse_duration
from monitor.exit_codes import ExitCode


async def _demo(
    listen: str, fleet_port: int, interval: str, once: bool, stop_after: float | None
) -> ExitCode:
    import tempfile

    from monitor.alerting.rules import parse_alert_rules
    from monitor.runtime.daemon import Monitor
    from monitor.simulator import SimulatedFleet, fleet_config_yaml, seed_fleet
    from monitor.simulator.heartbeats import run_heartbeats, seed_heartbeats

    async with SimulatedFleet(seed_fleet(), base_port=fleet_port) as fleet:
        try:
            seconds = parse_duration(interval)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--interval") from None
        timeout = f"{min(2.0, seconds * 0.8):g}s"
        beats = seed_heartbeats()
        config = parse_config(
            fleet_config_yaml(fleet, interval=interval, timeout=timeout, heartbeats=beats),
            "<demo>",
        )
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
