"""Receivers: the registry, each wire format, and how answers are classified."""

from __future__ import annotations

import hashlib
import hmac
import json
import pkgutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from yarl import URL

import monitor.receivers as receivers_pkg
from monitor.alerting.state import Batch
from monitor.receivers import RECEIVERS, Outcome, build_receivers
from monitor.receivers._base import classify, parse_retry_after
from monitor.receivers.alertmanager import AlertmanagerConfig, AlertmanagerReceiver
from monitor.receivers.log import LogConfig, LogReceiver
from monitor.receivers.pagerduty import PagerDutyConfig, PagerDutyReceiver
from monitor.receivers.slack import SlackConfig, SlackReceiver
from monitor.receivers.webhook import SIGNATURE_HEADER, WebhookConfig, WebhookReceiver
from tests.alerting_fixtures import T0, Recorder, event

ENV = {"SECRET": "s3cr3t-value", "KEY": "R0UT1NGKEY0123456789012345678901"}


def test_every_receiver_module_is_registered_once() -> None:
    modules = {
        m.name for m in pkgutil.iter_modules(receivers_pkg.__path__) if not m.name.startswith("_")
    }
    registered = {cls.__module__.rsplit(".", 1)[1] for cls in RECEIVERS.values()}
    assert modules == registered
    for kind, cls in RECEIVERS.items():
        assert cls.kind == kind  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "retry_after", "outcome", "delay"),
    [
        (200, None, Outcome.DELIVERED, None),
        (202, None, Outcome.DELIVERED, None),
        (400, None, Outcome.FAILED, None),
        (403, "10", Outcome.FAILED, None),
        (404, None, Outcome.FAILED, None),
        (301, None, Outcome.FAILED, None),
        (408, None, Outcome.RETRY, None),
        (429, "7", Outcome.RETRY, 7.0),
        (429, "Sun, 01 Mar 2026 12:01:00 GMT", Outcome.RETRY, 60.0),
        (429, "soon", Outcome.RETRY, None),
        (500, None, Outcome.RETRY, None),
        (503, "3", Outcome.RETRY, 3.0),
    ],
)
def test_classify(
    status: int, retry_after: str | None, outcome: Outcome, delay: float | None
) -> None:
    result = classify(status, retry_after, T0)
    assert (result.outcome, result.status, result.retry_after) == (outcome, status, delay)


def test_retry_after_in_the_past_is_zero() -> None:
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", T0) == 0.0


async def test_network_error_is_retryable(session: aiohttp.ClientSession) -> None:
    config = WebhookConfig.model_validate(
        {"type": "webhook", "name": "w", "url": "http://127.0.0.1:9/x", "timeout": "2s"}
    )
    result = await WebhookReceiver(config).send(session, Batch(receiver="w", events=(event(),)))
    assert result.outcome is Outcome.RETRY and result.status is None
    assert "127.0.0.1" not in result.detail


async def test_webhook_sends_alertmanager_v4_payload_signed(
    recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    config = WebhookConfig.model_validate(
        {
            "type": "webhook",
            "name": "hook",
            "url": recorder.url + "/hook",
            "hmac_secret": "${SECRET}",
        },
        context={"env": ENV},
    )
    batch = Batch(
        receiver="hook",
        events=(event(), event("resolved", "auth")),
        external_url="http://localhost:8700",
    )
    result = await WebhookReceiver(config).send(session, batch)
    assert result.outcome is Outcome.DELIVERED
    path, headers, body = recorder.requests[0]
    assert path == "/hook" and headers["Content-Type"] == "application/json"
    expected = "sha256=" + hmac.new(b"s3cr3t-value", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers[SIGNATURE_HEADER], expected)
    sent = json.loads(body)
    assert set(sent) == {
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
    }
    assert sent["version"] == "4" and sent["status"] == "firing" and sent["receiver"] == "hook"
    assert sent["truncatedAlerts"] == 0
    assert sent["groupLabels"] == {"alertname": "CoreServiceDown"}
    assert sent["groupKey"] == '{}:{alertname="CoreServiceDown"}'
    assert sent["commonLabels"] == {"alertname": "CoreServiceDown", "severity": "critical"}
    assert sent["externalURL"] == "http://localhost:8700"
    firing, resolved = sent["alerts"]
    assert firing == {
        "status": "firing",
        "labels": event().labels,
        "annotations": event().annotations,
        "startsAt": "2026-03-01T12:00:00.000Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://localhost:8700/status?service=do-db",
        "fingerprint": event().fingerprint,
    }
    assert resolved["status"] == "resolved" and resolved["endsAt"] == "2026-03-01T12:05:00.000Z"
    assert len(firing["fingerprint"]) == 16


def test_webhook_truncates_and_counts() -> None:
    config = WebhookConfig.model_validate(
        {"type": "webhook", "name": "h", "url": "http://x/", "max_alerts": 1}
    )
    batch = Batch(receiver="h", events=(event(), event(service_name="auth")))
    (request,) = WebhookReceiver(config).render(batch)
    sent = json.loads(request.body)
    assert len(sent["alerts"]) == 1 and sent["truncatedAlerts"] == 1
    assert SIGNATURE_HEADER not in request.headers


async def test_slack_blocks_and_rate_limit(
    recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    recorder.script = [(429, {"Retry-After": "1"}), (200, {})]
    config = SlackConfig.model_validate(
        {"type": "slack", "name": "s", "url": recorder.url + "/services/T/B/X"}
    )
    receiver = SlackReceiver(config)
    batch = Batch(receiver="s", events=(event(),))
    first = await receiver.send(session, batch)
    assert (first.outcome, first.retry_after) == (Outcome.RETRY, 1.0)
    second = await receiver.send(session, batch)
    assert second.outcome is Outcome.DELIVERED
    message = recorder.json()
    assert message["text"].startswith(":rotating_light: FIRING: do-db is unhealthy")
    blocks = message["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "section", "actions"]
    assert len(blocks[0]["text"]["text"]) <= 150
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in blocks[1]["fields"]}
    assert fields["*Service*"] == "do-db" and fields["*Severity*"] == "critical"
    assert "DATABASE_URL not configured" in blocks[2]["text"]["text"]
    assert "*Likely cause of:* auth, do-gateway" in blocks[2]["text"]["text"]
    assert [b["text"]["text"] for b in blocks[3]["elements"]] == ["Runbook", "Dashboard", "Status"]
    assert blocks[3]["elements"][0]["url"] == "https://runbooks.example/do-db"


def test_slack_resolved_title() -> None:
    config = SlackConfig.model_validate({"type": "slack", "name": "s", "url": "https://x/"})
    (request,) = SlackReceiver(config).render(Batch(receiver="s", events=(event("resolved"),)))
    assert json.loads(request.body)["text"].startswith(":white_check_mark: RESOLVED:")


PD_URL = "https://events.pagerduty.com/v2/enqueue"


async def test_pagerduty_events_v2_wire_format(
    http_mock: Any, session: aiohttp.ClientSession
) -> None:
    http_mock.post(
        PD_URL,
        status=202,
        payload={"status": "success", "message": "Event processed", "dedup_key": "x"},
        repeat=True,
    )
    config = PagerDutyConfig.model_validate(
        {"type": "pagerduty", "name": "pd", "routing_key": "${KEY}"}, context={"env": ENV}
    )
    receiver = PagerDutyReceiver(config)
    fired = await receiver.send(session, Batch(receiver="pd", events=(event(),)))
    resolved = await receiver.send(session, Batch(receiver="pd", events=(event("resolved"),)))
    assert fired.outcome is resolved.outcome is Outcome.DELIVERED
    calls = http_mock.requests[("POST", URL(PD_URL))]
    trigger, resolve = (json.loads(c.kwargs["data"]) for c in calls)
    dedup = f"CoreServiceDown/{event().fingerprint}"
    assert trigger == {
        "routing_key": ENV["KEY"],
        "event_action": "trigger",
        "dedup_key": dedup,
        "payload": {
            "summary": "do-db is unhealthy: server_error",
            "source": "do-db",
            "severity": "critical",
            "timestamp": "2026-03-01T12:00:00.000Z",
            "component": "do-db",
            "class": "CoreServiceDown",
            "custom_details": {
                "description": "DATABASE_URL not configured",
                "likely_cause": "",
                "likely_cause_of": "auth, do-gateway",
                "labels": event().labels,
                "fingerprint": event().fingerprint,
            },
        },
        "client": "fleet monitor",
        "client_url": "http://localhost:8700/status?service=do-db",
        "links": [
            {"href": "https://runbooks.example/do-db", "text": "Runbook"},
            {"href": "https://grafana.example/d/fleet?var-service=x", "text": "Dashboard"},
            {"href": "http://localhost:8700/status?service=do-db", "text": "Status"},
        ],
    }
    assert resolve == {"routing_key": ENV["KEY"], "event_action": "resolve", "dedup_key": dedup}


@pytest.mark.parametrize(
    ("status", "outcome"), [(400, Outcome.FAILED), (429, Outcome.RETRY), (500, Outcome.RETRY)]
)
async def test_pagerduty_answers(
    http_mock: Any, session: aiohttp.ClientSession, status: int, outcome: Outcome
) -> None:
    http_mock.post(PD_URL, status=status, payload={"status": "invalid event"})
    config = PagerDutyConfig.model_validate({"type": "pagerduty", "name": "pd", "routing_key": "k"})
    result = await PagerDutyReceiver(config).send(session, Batch(receiver="pd", events=(event(),)))
    assert result.outcome is outcome


def test_pagerduty_summary_is_capped() -> None:
    long = event().model_copy(update={"annotations": {"summary": "x" * 5000}})
    config = PagerDutyConfig.model_validate({"type": "pagerduty", "name": "pd", "routing_key": "k"})
    (request,) = PagerDutyReceiver(config).render(Batch(receiver="pd", events=(long,)))
    assert len(json.loads(request.body)["payload"]["summary"]) == 1024


def test_alertmanager_postable_alerts() -> None:
    config = AlertmanagerConfig.model_validate(
        {"type": "alertmanager", "name": "am", "url": "http://127.0.0.1:9093/", "hold": "1h"}
    )
    batch = Batch(receiver="am", events=(event(), event("resolved", "auth")))
    (request,) = AlertmanagerReceiver(config).render(batch)
    assert request.url == "http://127.0.0.1:9093/api/v2/alerts"
    firing, resolved = json.loads(request.body)
    assert set(firing) == {"labels", "annotations", "startsAt", "endsAt", "generatorURL"}
    assert firing["endsAt"] == "2026-03-01T13:05:00.000Z"  # decision time + hold
    assert resolved["endsAt"] == "2026-03-01T12:05:00.000Z"


async def test_log_receiver_logs_one_event_per_alert(session: aiohttp.ClientSession) -> None:
    receiver = LogReceiver(LogConfig(type="log", name="log"))
    with structlog.testing.capture_logs() as logs:
        result = await receiver.send(session, Batch(receiver="log", events=(event(),)))
    assert result.outcome is Outcome.DELIVERED
    assert [(entry["event"], entry["service"], entry["kind"]) for entry in logs] == [
        ("alert_notification", "do-db", "firing")
    ]


def test_secrets_never_show_in_repr_and_come_from_env_or_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("FROM-A-FILE\n")
    configs = {
        "pd": PagerDutyConfig.model_validate(
            {"type": "pagerduty", "name": "pd", "routing_key_file": str(key_file)}
        ),
        "hook": WebhookConfig.model_validate(
            {
                "type": "webhook",
                "name": "hook",
                "url": "https://h.example/${SECRET}",
                "hmac_secret": "${SECRET}",
            },
            context={"env": ENV},
        ),
    }
    assert configs["pd"].routing_key.get_secret_value() == "FROM-A-FILE"  # type: ignore[attr-defined]
    built = build_receivers(configs)
    (request,) = built["hook"].render(Batch(receiver="hook", events=(event(),)))
    for text in (repr(configs), str(configs), repr(built), repr(request)):
        assert "FROM-A-FILE" not in text and ENV["SECRET"] not in text


@pytest.mark.parametrize(
    ("config", "fields", "key"),
    [
        (SlackConfig, {"type": "slack"}, "url"),
        (PagerDutyConfig, {"type": "pagerduty"}, "routing_key"),
        (WebhookConfig, {"type": "webhook"}, "url"),
        (WebhookConfig, {"type": "webhook", "url": "https://h.example/"}, "hmac_secret"),
    ],
)
def test_each_secret_key_may_come_from_a_file_but_not_from_both(
    config: Any, fields: dict[str, str], key: str, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("https://FROM-A-FILE.example/\n")
    read = config.model_validate({**fields, "name": "r", f"{key}_file": str(secret)})
    assert getattr(read, key).get_secret_value() == "https://FROM-A-FILE.example/"
    both = {**fields, "name": "r", key: "https://inline.example/", f"{key}_file": str(secret)}
    with pytest.raises(ValueError, match=f"set either {key} or {key}_file, not both"):
        config.model_validate(both)


def test_a_secret_from_a_file_is_only_for_the_keys_that_take_one(tmp_path: Path) -> None:
    """Alertmanager's URL is written inline: `url_file` stays an unknown key there."""
    secret = tmp_path / "secret"
    secret.write_text("http://am.example/")
    with pytest.raises(ValueError, match="url_file"):
        AlertmanagerConfig.model_validate(
            {"type": "alertmanager", "name": "am", "url_file": str(secret)}
        )


def test_unset_env_var_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="environment variable NOPE is not set"):
        SlackConfig.model_validate(
            {"type": "slack", "name": "s", "url": "${NOPE}"}, context={"env": {}}
        )


def test_rfc3339_is_utc_with_z() -> None:
    from monitor.receivers._base import rfc3339

    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"
