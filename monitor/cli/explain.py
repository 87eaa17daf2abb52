"""`monitor explain URL` / `monitor explain --config F --service S [--check C]`: one probe, and
which parser decided its verdict, what it read and why (`monitor.normalize.explain`).

What an operator needs when they disagree with a verdict: the same probe and the same chain as
the daemon, with every parser that declined or raised named. Exit codes as `verify`: 0 healthy,
1 anything else, 2 bad usage or config.
"""

from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import urlsplit

import aiohttp
import click

from monitor.cli.options import json_option, load_config_or_exit
from monitor.config import Check, MonitorConfig, parse_config
from monitor.errors import ConfigError
from monitor.exit_codes import ExitCode
from monitor.model import Status
from monitor.normalize import Explanation, explain
from monitor.probes import polled, probe_for
from monitor.secrets_scrub import scrubber_for


def _config_for_url(url: str, headers: tuple[str, ...]) -> MonitorConfig:
    """A one-service config for a bare URL, so that it is validated and probed exactly as a
    configured health check would be."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"expected an http(s) URL, got {url!r}", param_hint="URL")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    named: dict[str, str] = {}
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME:VALUE, got {header!r}", param_hint="--header")
        named[name.strip()] = value.strip()
    service = {
        "name": "explain",
        "url": f"{parts.scheme}://{parts.netloc}",
        "health_path": path,
        "headers": named,
    }
    try:
        return parse_config(json.dumps({"services": [service]}))
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None


def _pick(config: MonitorConfig, service: str | None, check: str | None) -> Check:
    checks = [c for c in config.checks() if service is None or c.service == service]
    if check is not None:
        checks = [c for c in checks if c.name == check]
    if not checks:
        raise click.BadParameter(
            f"no check matches service={service!r} check={check!r}", param_hint="--service/--check"
        )
    if not polled(checks[0]):
        raise click.BadParameter(
            f"{checks[0].id} is a {checks[0].kind.value} check: it reports in, there is nothing "
            "to probe (its state is in /status)",
            param_hint="--service/--check",
        )
    return checks[0]


async def _probe_and_explain(config: MonitorConfig, check: Check) -> Explanation:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        answer = await probe_for(check)(session, check)
    return explain(answer, scrubber_for(config))


@click.command("explain")
@click.argument("url", required=False)
@click.option("--header", "headers", multiple=True, help="NAME:VALUE sent with the URL's request")
@click.option(
    "--config", "config_path", default=None, help="monitor.yaml: explain a configured check"
)
@click.option("--service", default=None, help="with --config: the service whose check to probe")
@click.option("--check", default=None, help="with --config: the check's name (default: its first)")
@json_option("print the explanation as JSON")
def explain_command(
    url: str | None,
    headers: tuple[str, ...],
    config_path: str | None,
    service: str | None,
    check: str | None,
    as_json: bool,
) -> None:
    """Probe one URL (or a configured check) and say which parser decided, what it read, why."""
    if (url is None) == (config_path is None):
        raise click.UsageError("give either a URL or --config (with --service)")
    if config_path is not None:
        config = load_config_or_exit(config_path)
    else:
        assert url is not None
        config = _config_for_url(url, headers)
    target = _pick(config, service, check)
    explanation = asyncio.run(_probe_and_explain(config, target))
    if as_json:
        click.echo(json.dumps({"check": target.id, **explanation.as_dict()}, indent=2))
    else:
        click.echo(f"check:      {target.id}\n{explanation.render()}")
    healthy = explanation.verdict.status is Status.HEALTHY
    sys.exit(ExitCode.OK if healthy else ExitCode.GATE_FAILED)
