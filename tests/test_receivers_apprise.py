"""The apprise receiver against real loopback services: an SMTP server (aiosmtpd) for
`mailto://`, a JSON recorder for `json://`; through the outbox, across an outage."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from monitor.alerting.outbox import Outbox
from monitor.alerting.rules import parse_alert_rules
from monitor.alerting.state import Batch
from monitor.errors import ConfigError
from monitor.receivers import Outcome, build_receivers
from monitor.receivers.apprise import AppriseConfig, AppriseReceiver, keyed, text
from monitor.secrets_scrub import scrubber_for
from tests.alerting_fixtures import T0, Recorder, event, serve_posts
from tests.conftest import reserved_port

TOKEN = "tok-5f2a9c81e4"
PASSWORD = "smtp-pw-77d1e0"


class Mailbox:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"


class SharedPortController(Controller):
    """aiosmtpd's Controller binding with SO_REUSEPORT, so that it can listen on the port the
    test holds with `reserved_port()` (aiosmtpd 1.4 passes no socket options through)."""

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(
            self._factory_invoker,
            host=self.hostname,
            port=self.port,
            ssl=self.ssl_context,
            reuse_port=True,
        )


@pytest.fixture
def smtp_port() -> Iterator[int]:
    """Held for the whole test: refused while the SMTP server is down, never another's."""
    with reserved_port() as port:
        yield port


def start_smtp(port: int, mailbox: Mailbox) -> Controller:
    controller = SharedPortController(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


@pytest.fixture
def mailbox(smtp_port: int) -> Iterator[Mailbox]:
    box = Mailbox()
    controller = start_smtp(smtp_port, box)
    yield box
    controller.stop()


def mailto(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from=monitor@example.com&to=oncall@example.com&mode=insecure"


def grouped(n: int) -> Batch:
    events = tuple(event(service_name=f"svc-{i:02d}") for i in range(n))
    return Batch(
        receiver="ap",
        events=events,
        group_labels={"alertname": "CoreServiceDown"},
        flushed_at=T0,
        external_url="http://m.example:8700",
    )


def config(*urls: str, timeout: float = 5.0) -> AppriseConfig:
    return AppriseConfig.model_validate(
        {"type": "apprise", "name": "ap", "urls": list(urls), "timeout": timeout}
    )


async def test_a_group_reaches_a_real_smtp_server_and_a_json_endpoint(
    mailbox: Mailbox, smtp_port: int, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    json_url = recorder.url.replace("http://", "json://") + f"/hook/{TOKEN}"
    receiver = AppriseReceiver(config(mailto(smtp_port), json_url))
    result = await receiver.send(session, grouped(3))
    assert result.outcome is Outcome.DELIVERED
    (mail,) = mailbox.messages
    assert mail.rcpt_tos == ["oncall@example.com"]
    content = mail.content.decode() if isinstance(mail.content, bytes) else str(mail.content)
    assert "Subject: [FIRING:3] CoreServiceDown" in content
    (request,) = recorder.requests
    body = json.loads(request[2])
    assert body["title"] == "[FIRING:3] CoreServiceDown" and body["type"] == "failure"
    assert all(f"svc-{i:02d}" in body["message"] for i in range(3))
    assert request[0] == f"/hook/{TOKEN}"


def test_the_text_lists_a_group_and_details_a_single_alert() -> None:
    title, body = text(grouped(30))
    assert title == "[FIRING:30] CoreServiceDown"
    assert all(f"svc-{i:02d}" in body for i in range(30))
    assert body.endswith("http://m.example:8700/status")
    title, body = text(Batch(receiver="ap", events=(event("resolved"),)))
    assert title.startswith("[RESOLVED:1]") and "DATABASE_URL not configured" in body


async def test_a_hung_service_times_out_as_a_retry(session: aiohttp.ClientSession) -> None:
    release = asyncio.Event()

    async def hang(_: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    runner, base = await serve_posts(hang)
    try:
        url = base.replace("http://", "json://") + "/x"
        receiver = AppriseReceiver(config(url, timeout=0.5))
        result = await asyncio.wait_for(receiver.send(session, grouped(1)), timeout=10)
        assert result.outcome is Outcome.RETRY
    finally:
        release.set()
        await runner.cleanup()


@pytest.fixture
async def flaky_json() -> AsyncIterator[dict[str, Any]]:
    """A JSON endpoint that answers 503 while `state["down"]`, records what it accepted."""
    state: dict[str, Any] = {"down": True, "accepted": [], "refused": 0}

    async def handle(request: web.Request) -> web.Response:
        body = await request.json()
        if state["down"]:
            state["refused"] += 1
            return web.Response(status=503)
        state["accepted"].append(body)
        return web.Response(text="ok")

    runner, base = await serve_posts(handle)
    state["url"] = base.replace("http://", "json://") + f"/page/{TOKEN}"
    yield state
    await runner.cleanup()


async def test_through_the_outbox_a_page_survives_an_outage_and_arrives_once(
    tmp_path: Path, smtp_port: int, flaky_json: dict[str, Any], session: aiohttp.ClientSession
) -> None:
    rules = parse_alert_rules(
        "receivers:\n  - {name: ap, type: apprise, urls: ['${MAIL_URL}', '${JSON_URL}']}\n"
        "route: [ap]\nrules:\n  - {name: Down, kind: status}\n",
        env={"MAIL_URL": mailto(smtp_port), "JSON_URL": flaky_json["url"]},
    )
    scrubber = scrubber_for(rules.receivers)
    outbox = Outbox(tmp_path / "a.db", build_receivers(rules.receivers), scrubber=scrubber)
    outbox.save(outbox.load_state(), [grouped(2)], T0)
    down = await outbox.deliver_due(session, now=T0)  # SMTP not listening, JSON answers 503
    assert (down.sent, down.retried) == (0, 1)
    assert flaky_json["refused"] >= 1
    mailbox = Mailbox()
    controller = start_smtp(smtp_port, mailbox)
    try:
        flaky_json["down"] = False
        later = T0 + timedelta(hours=1)  # past any backoff
        back = await outbox.deliver_due(session, now=later)
        assert (back.sent, back.retried) == (1, 0)
        again = await outbox.deliver_due(session, now=later + timedelta(hours=1))
        assert (again.sent, again.retried) == (0, 0)
    finally:
        controller.stop()
    assert len(mailbox.messages) == 1 and len(flaky_json["accepted"]) == 1
    stored = json.dumps(outbox.rows())
    outbox.close()
    raw = (tmp_path / "a.db").read_bytes()
    for secret in (TOKEN, str(smtp_port)):
        assert secret not in stored
    assert TOKEN.encode() not in raw


def test_urls_are_secrets_and_a_bad_one_is_refused_without_showing_it() -> None:
    url = f"json://127.0.0.1:9/hook/{TOKEN}"
    cfg = config(url, f"mailto://user:{PASSWORD}@127.0.0.1:25?from=m@example.com&to=a@example.com")
    built = build_receivers({"ap": cfg})
    for shown in (repr(cfg), str(cfg), repr(built), repr(built["ap"].render(grouped(1)))):
        assert TOKEN not in shown and PASSWORD not in shown
    scrubbed = scrubber_for({"ap": cfg}).scrub(f"failed {url} and user:{PASSWORD}")
    assert TOKEN not in scrubbed and PASSWORD not in scrubbed
    with pytest.raises(ConfigError) as caught:
        parse_alert_rules(
            "receivers:\n  - {name: ap, type: apprise, urls: ['nope://x-" + TOKEN + "']}\n",
            env={},
        )
    (problem,) = caught.value.problems
    assert problem.location.startswith("receivers[0].urls") and problem.line == 2
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("json://h:8/p", "json://h:8/p?+Idempotency-Key=k1"),
        ("JSONS://h/p?method=PUT", "JSONS://h/p?method=PUT&+Idempotency-Key=k1"),
        ("form://h/p#frag", "form://h/p?+Idempotency-Key=k1#frag"),
        ("xml://h", "xml://h?+Idempotency-Key=k1"),
        ("mailto://u:p@h?to=a@example.com", "mailto://u:p@h?to=a@example.com"),
        ("discord://id/token", "discord://id/token"),
        ("json://", "json://"),
    ],
)
def test_http_schemes_carry_the_rows_key_as_an_idempotency_header(url: str, sent: str) -> None:
    assert keyed(url, "k1") == sent


async def test_a_json_endpoint_gets_the_outbox_rows_key(
    recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    batch = grouped(2)
    json_url = recorder.url.replace("http://", "json://") + f"/hook/{TOKEN}"
    result = await AppriseReceiver(config(json_url)).send(session, batch)
    assert result.outcome is Outcome.DELIVERED
    ((_, headers, _),) = recorder.requests
    assert headers["Idempotency-Key"] == batch.dedup_key


async def test_a_retry_goes_only_to_the_services_that_did_not_take_the_page(
    mailbox: Mailbox, smtp_port: int, flaky_json: dict[str, Any], session: aiohttp.ClientSession
) -> None:
    """Mail is up, the JSON endpoint down: the retry must not mail the page a second time."""
    receiver = AppriseReceiver(config(mailto(smtp_port), flaky_json["url"]))
    batch = grouped(1)
    assert (await receiver.send(session, batch)).outcome is Outcome.RETRY
    assert len(mailbox.messages) == 1 and flaky_json["refused"] == 1
    flaky_json["down"] = False
    assert (await receiver.send(session, batch)).outcome is Outcome.DELIVERED
    assert len(mailbox.messages) == 1 and len(flaky_json["accepted"]) == 1
    assert (await receiver.send(session, grouped(2))).outcome is Outcome.DELIVERED  # a new page
    assert len(mailbox.messages) == 2 and len(flaky_json["accepted"]) == 2
