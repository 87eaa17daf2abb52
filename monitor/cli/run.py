"""`monitor run`: the daemon until SIGTERM or SIGINT, SIGHUP reloading its config; and
`serve_daemon`, which `monitor demo` serves through too."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from prometheus_client import CollectorRegistry

from monitor import __version__
from monitor.cli.options import (
    config_option,
    event_loop_runner,
    load_alerts_or_exit,
    load_config_or_exit,
    resolve_shard_or_exit,
    shard_options,
    stop_after_option,
)
from monitor.config import MonitorConfig
from monitor.exit_codes import ExitCode
from monitor.fleet.sharding import ShardSpec
from monitor.logs import set_log_scrubber
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.runtime.gc_policy import freeze_after_first_round, pause_collector, tune_collector

if TYPE_CHECKING:
    from monitor.alerting.rules import AlertRules

SHUTDOWN_GRACE = 5.0


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT`, `[::1]:PORT` or `:PORT` (all interfaces)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise click.BadParameter(f"expected HOST:PORT, got {value!r}")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def write_port_file(path: str, port: int) -> bool:
    """The bound port for a supervisor (or a test) that asked for port 0: written to a temporary
    file beside `path` and renamed, so a reader sees nothing or the whole number, never half.
    False (and why, on stderr) when it cannot be written: the daemon then stops, exit 2."""
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w", encoding="ascii") as file:
            file.write(f"{port}\n")
        os.replace(temporary, path)
    except OSError as exc:
        click.echo(f"monitor: cannot write the port file {path}: {exc.strerror or exc}", err=True)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return False
    return True


async def _wait_for_signal(stop_after: float | None, on_hup: Callable[[], Any] | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    if on_hup is not None:
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGHUP, on_hup)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=stop_after)


async def serve_daemon(
    config: MonitorConfig,
    listen: str,
    stop_after: float | None,
    ready: Callable[[str], None],
    *,
    config_path: str | None = None,
    store_path: str | None = None,
    alerts: AlertRules | None = None,
    outbox_path: str | None = None,
    shard: ShardSpec | None = None,
    peers: tuple[str, ...] = (),
    port_file: str | None = None,
) -> ExitCode:
    from monitor.http.app import serve
    from monitor.runtime.daemon import Monitor, utc_now
    from monitor.runtime.settings import MonitorSettings
    from monitor.runtime.store import Store

    host, port = parse_listen(listen)
    try:
        store = Store(store_path) if store_path else None
    except (OSError, sqlite3.Error) as exc:
        click.echo(f"monitor: cannot open the store {store_path}: {exc}", err=True)
        return ExitCode.USAGE_OR_CONFIG
    metrics = MonitorMetrics(CollectorRegistry(), __version__)
    alerter = None
    if alerts is not None and outbox_path is not None:
        from monitor.alerting.service import Alerter  # its receivers' imports: only with --alerts

        alerter = Alerter(alerts, outbox_path, metrics, clock=utc_now)
    settings = MonitorSettings(config_path=config_path, shard=shard, peers=peers)
    monitor = Monitor(config, settings, metrics=metrics, store=store, alerter=alerter)
    set_log_scrubber(monitor.scrubber)  # before the first check can log anything
    await monitor.start()
    tune_collector(first_round=True)  # see monitor/runtime/gc_policy.py
    freezer = asyncio.create_task(freeze_after_first_round(monitor))
    try:
        runner, bound = await serve(monitor, host, port)
    except OSError as exc:
        await monitor.stop(grace=0)
        if store is not None:
            store.close()
        click.echo(f"monitor: cannot listen on {listen}: {exc.strerror or exc}", err=True)
        return ExitCode.USAGE_OR_CONFIG
    shown = f"[{host}]" if ":" in host else host
    monitor.log.info("monitor.listening", url=f"http://{shown}:{bound}")

    def reload() -> None:
        if config_path is not None:
            monitor.reload_from(config_path)
            set_log_scrubber(monitor.scrubber)

    try:
        if port_file is not None and not write_port_file(port_file, bound):
            return ExitCode.USAGE_OR_CONFIG
        ready(f"http://{shown}:{bound}")
        await _wait_for_signal(stop_after, reload if config_path else None)
    finally:
        freezer.cancel()
        await runner.cleanup()
        await monitor.stop(grace=SHUTDOWN_GRACE)
        if store is not None:
            store.close()
    return ExitCode.OK


@click.command()
@config_option(required=True)
@click.option(
    "--listen",
    default=None,
    help="HOST:PORT for /status and /metrics [default: the config's listen, 127.0.0.1:8700]; "
    "port 0 takes any free port (see --port-file)",
)
@click.option(
    "--port-file",
    default=None,
    type=click.Path(dir_okay=False),
    help="once listening, write the bound port here (atomically): how a supervisor learns the "
    "port it got from --listen HOST:0",
)
@click.option(
    "--loop",
    "loop_kind",
    default="auto",
    type=click.Choice(["auto", "asyncio", "uvloop"]),
    show_default=True,
)
@click.option(
    "--data-dir",
    default=None,
    envvar="MONITOR_DATA_DIR",
    show_envvar=True,
    help="where the store lives unless store.path says otherwise [default: ./data]",
)
@click.option(
    "--alerts",
    "alerts_path",
    default=None,
    envvar="MONITOR_ALERTS",
    show_envvar=True,
    type=click.Path(dir_okay=False),
    help="alerts.yaml: rules and receivers (no alerting without it)",
)
@shard_options
@click.option(
    "--peer-url",
    envvar="MONITOR_PEER_URL",
    show_envvar=True,
    help="each shard's base URL with {index}, e.g. http://monitor-{index}.monitor:8700: a push "
    "ping reaching a replica is passed on to the check's owners there (docs/ha.md)",
)
@stop_after_option
def run(
    config_path: str,
    listen: str | None,
    loop_kind: str,
    data_dir: str | None,
    alerts_path: str | None,
    stop_after: float | None,
    peer_url: str | None,
    port_file: str | None,
    **shard_args: Any,
) -> None:
    """Run the daemon until SIGTERM or SIGINT; SIGHUP reloads the config."""
    shard = resolve_shard_or_exit(**shard_args)
    peers: tuple[str, ...] = ()
    if peer_url:
        if shard is None or "{index}" not in peer_url:
            raise click.UsageError("--peer-url needs sharding and an {index} in the URL")
        peers = tuple(peer_url.replace("{index}", str(i)) for i in range(shard.count))
    pause_collector()  # until start-up is done: tune_collector in serve_daemon
    config = load_config_or_exit(config_path)
    alerts = load_alerts_or_exit(alerts_path, config) if alerts_path else None
    address = listen or config.listen
    store_path = config.store.path or str(Path(data_dir or "data") / "monitor.sqlite3")
    outbox_path = str(Path(store_path).with_name("alerts.sqlite3"))

    def ready(url: str) -> None:
        click.echo(
            f"monitor: watching {len(config.services)} services; {url}/status {url}/metrics",
            err=True,
        )

    sys.exit(
        event_loop_runner(loop_kind)(
            serve_daemon(
                config,
                address,
                stop_after,
                ready,
                config_path=config_path,
                store_path=store_path,
                alerts=alerts,
                outbox_path=outbox_path,
                shard=shard,
                peers=peers,
                port_file=port_file,
            )
        )
    )
