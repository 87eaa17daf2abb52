"""A service that echoes the request's headers in its error page: the daemon, as a real process,
must not republish the configured token in /status, its SQLite files or its log."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
import structlog
from aiohttp import web

from monitor.alerting.outbox import Outbox
from monitor.alerting.state import AlertState, Batch
from monitor.logs import configure_logging, set_log_scrubber
from monitor.receivers.webhook import WebhookConfig, WebhookReceiver
from monitor.secrets_scrub import NO_SECRETS, scrubber_for
from tests.alerting_fixtures import T0, event
from tests.test_lifecycle import Launch, all_checked, by_name, launch, wait_for_rows
from tests.test_probes_http_redirects import Start, serve

__all__ = ["launch", "serve"]  # fixtures: loopback servers, daemons killed after the test

TOKEN = "echo-7e2b4c9d1f0a3856"


@pytest.fixture
async def echo_service(serve: Start) -> str:
    """503 with a body that repeats every request header, raw and in other encodings, mid-text
    (no `Authorization:` prefix a pattern could key on)."""

    async def echo(request: web.Request) -> web.Response:
        sent = dict(request.headers)
        credential = sent.get("Authorization", "").rpartition(" ")[2]
        body = "\n".join(
            [
                f"upstream rejected credential {credential} (retry later)",
                f"trace=GET%20/health%3Fauth%3D{quote(sent.get('Authorization', ''), safe='')}",
                base64.b64encode(sent.get("Authorization", "").encode()).decode(),
                json.dumps({"headers": sent}),
            ]
        )
        return web.Response(status=503, text=body)

    app = web.Application()
    app.router.add_get("/health", echo)
    return await serve(app)


async def test_an_echoed_token_never_reaches_status_store_or_log(
    echo_service: str, tmp_path: Path, launch: Launch
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        json.dumps(
            {
                "defaults": {"interval": "300ms", "timeout": "250ms"},
                "services": [
                    {
                        "name": "echo",
                        "url": echo_service,
                        "headers": {"Authorization": "Bearer ${ECHO_TOKEN}"},
                    }
                ],
            }
        )
    )
    daemon = await launch(config, tmp_path, env={"ECHO_TOKEN": TOKEN})
    status = await daemon.until(all_checked)
    await wait_for_rows(tmp_path / "monitor.sqlite3", 1)
    assert await daemon.stop() == 0
    stores = b"".join(p.read_bytes() for p in tmp_path.glob("*.sqlite3*"))
    encodings = (TOKEN, base64.b64encode(f"Bearer {TOKEN}".encode()).decode())
    for secret in encodings:
        assert secret not in json.dumps(status)
        assert secret.encode() not in stores
        assert secret.encode() not in daemon.stderr
    echo = by_name(status)["echo"]
    assert echo["status"] == "unhealthy" and "[redacted]" in echo["evidence"], "echo was seen"
    assert b"check.status_changed" in daemon.stderr, "the run did log the change"


HOOK_KEY = "hookkey-31c9f07a52"


@pytest.fixture
async def quoting_receiver(serve: Start) -> str:
    """A receiver whose error page quotes the URL it was called on, key and all, at length."""

    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=401, text=f"no such hook {request.path_qs} " + "x" * 300)

    app = web.Application()
    app.router.add_post("/{tail:.*}", refuse)
    return await serve(app)


async def test_a_receiver_quoting_its_key_leaves_it_out_of_the_outbox_and_the_log(
    quoting_receiver: str, tmp_path: Path
) -> None:
    hook = WebhookConfig.model_validate(
        {"type": "webhook", "name": "hook", "url": f"{quoting_receiver}/hooks/{HOOK_KEY}"}
    )
    scrubber = scrubber_for(hook)
    outbox = Outbox(tmp_path / "alerts.sqlite3", {"hook": WebhookReceiver(hook)}, scrubber=scrubber)
    outbox.save(AlertState(), [Batch(receiver="hook", events=(event(),))], T0)
    stream = io.StringIO()
    configure_logging("info", stream=stream, json=True)
    set_log_scrubber(scrubber)
    try:
        async with aiohttp.ClientSession() as session:
            await outbox.deliver_due(session, now=T0)
    finally:
        set_log_scrubber(NO_SECRETS)
        structlog.reset_defaults()
    (row,) = outbox.rows()
    outbox.close()
    assert row["state"] == "dead" and row["last_status"] == 401
    assert "no such hook" in row["last_error"] and HOOK_KEY not in row["last_error"]
    assert "alert_notification_dead" in stream.getvalue()
    assert HOOK_KEY not in stream.getvalue()
    assert HOOK_KEY.encode() not in (tmp_path / "alerts.sqlite3").read_bytes()
