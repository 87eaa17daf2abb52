"""`monitor run | demo | verify | discover | config check | rules export`: the command line.
Exit codes: 0 fine, 1 a check or gate failed, 2 bad usage or config (never 0 on a config that
could not be read)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml
from prometheus_client import CollectorRegistry

from monitor import __version__
from monitor.alerting.rules import AlertRules, load_alert_rules
from monitor.config import MonitorConfig, load_config, parse_config
from monitor.durations import parse_duration
from monitor.errors import ConfigError
from monitor.gc_policy import freeze_after_first_round, tune_collector
from monitor.logs import configure_logging, set_log_scrubber
from monitor.metrics import MonitorMetrics
from monitor.model import FleetStatus
from monitor.replicas import resolve_shard_or_exit, shard_options, status_command
from monitor.sharding import ShardSpec

if TYPE_CHECKING:
    pass

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SHUTDOWN_GRACE = 5.0


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT`, `[::1]:PORT` or `:PORT` (all interfaces)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise click.BadParameter(f"expected HOST:PORT, got {value!r}")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def _event_loop_runner(loop_kind: str) -> Callable[[Awaitable[Any]], Any]:
    if loop_kind in ("auto", "uvloop"):
        try:
            import uvloop

            return lambda coro: uvloop.run(coro)  # type: ignore[arg-type]
        except ImportError:
            if loop_kind == "uvloop":
                raise click.UsageError("--loop uvloop: uvloop is not installed") from None
    return lambda coro: asyncio.run(coro)  # type: ignore[arg-type]


def _load_or_exit(path: str) -> MonitorConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        click.echo(f"monitor: refusing to start, bad config:\n{exc}", err=True)
        sys.exit(EXIT_USAGE)


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


async def _serve(
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
) -> int:
    from monitor.alerter import Alerter
    from monitor.daemon import Monitor, utc_now
    from monitor.server import serve
    from monitor.store import Store

    host, port = parse_listen(listen)
    try:
        store = Store(store_path) if store_path else None
    except (OSError, sqlite3.Error) as exc:
        click.echo(f"monitor: cannot open the store {store_path}: {exc}", err=True)
        return EXIT_USAGE
    alerter = None
    if alerts is not None and outbox_path is not None:
        registry = CollectorRegistry()
        metrics = MonitorMetrics(registry, __version__)
        alerter = Alerter(alerts, outbox_path, metrics, clock=utc_now)
        monitor = Monitor(
            config,
            store=store,
            config_path=config_path,
            alerter=alerter,
            registry=registry,
            metrics=metrics,
            shard=shard,
        )
    else:
        monitor = Monitor(config, store=store, config_path=config_path, shard=shard)
    set_log_scrubber(monitor.scrubber)  # before the first check can log anything
    await monitor.start()
    tune_collector()  # see monitor/gc_policy.py
    freezer = asyncio.create_task(freeze_after_first_round(monitor))
    try:
        runner, bound = await serve(monitor, host, port)
    except OSError as exc:
        await monitor.stop(grace=0)
        if store is not None:
            store.close()
        click.echo(f"monitor: cannot listen on {listen}: {exc.strerror or exc}", err=True)
        return EXIT_USAGE
    shown = f"[{host}]" if ":" in host else host
    ready(f"http://{shown}:{bound}")

    def reload() -> None:
        if config_path is not None:
            monitor.reload_from(config_path)
            set_log_scrubber(monitor.scrubber)

    try:
        await _wait_for_signal(stop_after, reload if config_path else None)
    finally:
        freezer.cancel()
        await runner.cleanup()
        await monitor.stop(grace=SHUTDOWN_GRACE)
        if store is not None:
            store.close()
    return EXIT_OK


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="monitor")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@click.option(
    "--log-format",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "json", "console"]),
)
def cli(log_level: str, log_format: str) -> None:
    """fleet monitor: polls every service's health and smoke paths, normalizes the answers,
    exports /status and /metrics."""
    configure_logging(log_level, json=None if log_format == "auto" else log_format == "json")


@cli.command()
@click.option(
    "--config", "config_path", required=True, type=click.Path(dir_okay=False), help="monitor.yaml"
)
@click.option(
    "--listen",
    default=None,
    help="HOST:PORT for /status and /metrics [default: the config's listen, 127.0.0.1:8700]",
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
@click.option("--stop-after", type=float, default=None, hidden=True)
def run(
    config_path: str,
    listen: str | None,
    loop_kind: str,
    data_dir: str | None,
    alerts_path: str | None,
    stop_after: float | None,
    **shard_args: Any,
) -> None:
    """Run the daemon until SIGTERM or SIGINT; SIGHUP reloads the config."""
    shard = resolve_shard_or_exit(**shard_args)
    config = _load_or_exit(config_path)
    alerts = _load_alerts_or_exit(alerts_path, config) if alerts_path else None
    address = listen or config.listen
    store_path = config.store.path or str(Path(data_dir or "data") / "monitor.sqlite3")
    outbox_path = str(Path(store_path).with_name("alerts.sqlite3"))

    def ready(url: str) -> None:
        click.echo(
            f"monitor: watching {len(config.services)} services; {url}/status {url}/metrics",
            err=True,
        )

    sys.exit(
        _event_loop_runner(loop_kind)(
            _serve(
                config,
                address,
                stop_after,
                ready,
                config_path=config_path,
                store_path=store_path,
                alerts=alerts,
                outbox_path=outbox_path,
                shard=shard,
            )
        )
    )


def render_table(fleet: FleetStatus) -> str:
    """A terminal table of the fleet: service, status, reason, detail."""
    rows = [("SERVICE", "STATUS", "REASON", "DETAIL")]
    for s in fleet.services:
        rows.append((s.name, s.status.value, s.reason.value, s.detail[:70]))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
    counts = ", ".join(f"{n} {st.value}" for st, n in fleet.counts.items() if n)
    return "\n".join([*lines, f"fleet: {fleet.status.value} ({counts})"])


async def _demo(
    listen: str, fleet_port: int, interval: str, once: bool, stop_after: float | None
) -> int:
    import tempfile

    from monitor.alerting.rules import parse_alert_rules
    from monitor.daemon import Monitor
    from monitor.simulator import SimulatedFleet, fleet_config_yaml, seed_fleet

    async with SimulatedFleet(seed_fleet(), base_port=fleet_port) as fleet:
        try:
            seconds = parse_duration(interval)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--interval") from None
        timeout = f"{min(2.0, seconds * 0.8):g}s"
        config = parse_config(
            fleet_config_yaml(fleet, interval=interval, timeout=timeout), "<demo>"
        )
        if once:
            monitor = Monitor(config)
            await monitor.start(schedule=False)
            try:
                await monitor.run_all_once()
                click.echo(render_table(monitor.status()))
            finally:
                await monitor.stop()
            return EXIT_OK

        def ready(url: str) -> None:
            click.echo(
                f"monitor demo: {len(fleet.names)} simulated services on "
                f"{fleet.url(fleet.names[0])} and up, checked every {interval}\n"
                f"  status:  {url}/status\n  metrics: {url}/metrics\n  healthz: {url}/healthz\n"
                "Ctrl-C stops it.",
                err=True,
            )

        rules_file = Path(__file__).parent / "simulator" / "demo-alerts.yaml"
        alerts = parse_alert_rules(
            rules_file.read_text(), str(rules_file), services=[s.name for s in config.services]
        )
        with tempfile.TemporaryDirectory(prefix="monitor-demo-") as data:
            return await _serve(
                config,
                listen,
                stop_after,
                ready,
                alerts=alerts,
                outbox_path=str(Path(data) / "alerts.sqlite3"),
                store_path=str(Path(data) / "monitor.sqlite3"),
            )


@cli.command()
@click.option("--listen", default="127.0.0.1:8700", show_default=True)
@click.option(
    "--fleet-port",
    default=8701,
    show_default=True,
    help="first port of the simulated fleet (0: any free ports)",
)
@click.option("--interval", default="5s", show_default=True)
@click.option("--once", is_flag=True, help="check every service once, print a table, exit")
@click.option("--stop-after", type=float, default=None, hidden=True)
def demo(listen: str, fleet_port: int, interval: str, once: bool, stop_after: float | None) -> None:
    """Start the seed's fleet, simulated on loopback, and the daemon watching it."""
    sys.exit(asyncio.run(_demo(listen, fleet_port, interval, once, stop_after)))


@cli.group("config")
def config_group() -> None:
    """Work with config files."""


@config_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def config_check(files: tuple[str, ...]) -> None:
    """Validate config files without starting anything (exit 0, or 2 naming each problem)."""
    sys.exit(EXIT_USAGE if _check_files([Path(f) for f in files]) else EXIT_OK)


def _load_alerts_or_exit(path: str, config: MonitorConfig) -> AlertRules:
    try:
        return load_alert_rules(path, services=[s.name for s in config.services])
    except ConfigError as exc:
        click.echo(f"monitor: refusing to start, bad alert rules:\n{exc}", err=True)
        sys.exit(EXIT_USAGE)


def _is_alerts_file(path: Path) -> bool:
    """alerts.yaml has `rules:` / `receivers:` at the top; monitor.yaml has `services:`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and bool({"rules", "receivers", "route"} & set(data))


def _check_files(paths: list[Path]) -> bool:
    """Monitor configs first, so alert rules can be checked against their service names."""
    failed = False
    services: list[str] | None = None
    for path in sorted(paths, key=_is_alerts_file):
        try:
            if _is_alerts_file(path):
                load_alert_rules(path, services=services)
            else:
                config = load_config(path)
                services = [*(services or []), *(s.name for s in config.services)]
        except ConfigError as exc:
            failed = True
            click.echo(str(exc), err=True)
        else:
            click.echo(f"{path}: ok")
    return failed


def _duration_option(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from monitor.durations import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _labels_option(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    from monitor.verify import parse_label

    try:
        return tuple(parse_label(v) for v in value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="monitor.yaml")
@click.option("--service", "services", multiple=True, help="only this service (repeatable)")
@click.option(
    "--label",
    "labels",
    multiple=True,
    callback=_labels_option,
    help="only services with this label, key=value (repeatable: all must match)",
)
@click.option(
    "--wait",
    default="0s",
    callback=_duration_option,
    show_default=True,
    help="re-check failing services every second for this long",
)
@click.option(
    "--samples",
    type=click.IntRange(0, 10_000),
    default=0,
    show_default=True,
    help="latency samples per check; p95 is judged against the check's target",
)
@click.option("--expect-version", default=None, help="fail services reporting another version")
@click.option(
    "--from",
    "sources",
    multiple=True,
    help="read a running daemon's /status instead of probing (repeatable)",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout instead of the table")
@click.option("--junit", default=None, type=click.Path(dir_okay=False), help="write JUnit XML")
def verify(
    config_path: str | None,
    services: tuple[str, ...],
    labels: tuple[tuple[str, str], ...],
    wait: float,
    samples: int,
    expect_version: str | None,
    sources: tuple[str, ...],
    as_json: bool,
    junit: str | None,
) -> None:
    """Deploy gate: exit 0 if every selected service is healthy and within target, 1 if not,
    2 on bad usage or config (see docs/deploy-gate.md)."""
    import os

    from monitor.verify import VerifyOptions
    from monitor.verify_output import run_verify

    options = VerifyOptions(
        services=services,
        labels=labels,
        wait=wait,
        samples=samples,
        expect_version=expect_version,
        sources=sources,
    )
    sys.exit(
        run_verify(
            config_path,
            options,
            as_json=as_json,
            junit=junit,
            env=os.environ,
            out=sys.stdout,
            err=sys.stderr,
            run=_event_loop_runner("auto"),
        )
    )


@cli.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--subdomain", default=None, help="the account's workers.dev subdomain")
@click.option("--env", "env_name", default=None, help="wrangler environment, e.g. production")
@click.option(
    "-o",
    "--output",
    default=None,
    type=click.Path(dir_okay=False),
    help="write here instead of stdout",
)
def discover(path: str, subdomain: str | None, env_name: str | None, output: str | None) -> None:
    """Draft a monitor.yaml from a workers repository's wrangler configs (exit 2: none found)."""
    from monitor.discover import discover_fleet, render_yaml

    discovery = discover_fleet(Path(path), subdomain, env_name)
    for warning in discovery.warnings:
        click.echo(f"monitor discover: warning: {warning}", err=True)
    if not discovery.config.get("services"):
        click.echo(f"monitor discover: no worker with a URL found under {path}", err=True)
        sys.exit(EXIT_USAGE)
    text = render_yaml(discovery)
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(
            f"monitor discover: wrote {len(discovery.config['services'])} services to {output}",
            err=True,
        )


@cli.group("rules")
def rules_group() -> None:
    """Alert rules for Prometheus."""


@rules_group.command("export")
@click.option("--alerts", "alerts_path", default="alerts.yaml", show_default=True)
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False))
@click.option(
    "--interval",
    default="30s",
    show_default=True,
    callback=_duration_option,
    help="check interval: turns `for: N` checks into a duration",
)
def rules_export(alerts_path: str, output: str | None, interval: float) -> None:
    """Write alerts.yaml as a Prometheus rules file (docs/prometheus.md; exit 2: cannot)."""
    from monitor.prometheus_rules import (
        SecretsNotNeeded,
        UnsupportedRule,
        export_rules,
        render_rules,
    )

    try:
        text = render_rules(
            export_rules(load_alert_rules(alerts_path, env=SecretsNotNeeded()).config, interval)
        )
    except (ConfigError, UnsupportedRule) as exc:
        click.echo(f"monitor rules export: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of GET /status (kept in docs/status-schema.json)."""
    import json

    from monitor.model import status_json_schema

    click.echo(json.dumps(status_json_schema(), indent=2, sort_keys=True))


cli.add_command(status_command)


def main() -> None:
    cli(prog_name="monitor")


if __name__ == "__main__":
    main()
