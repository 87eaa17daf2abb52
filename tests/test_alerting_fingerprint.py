"""Alert fingerprints are Alertmanager's (issue 21, item 5), and state and outbox rows written
with the old ones still find, order and resolve their alerts after an upgrade.

Golden values: prometheus/common `model/signature_test.go` (uint64, printed `%016x`), and the
`fingerprint` a real Alertmanager 0.25 reported in `/api/v2/alerts` for the label sets below
(the live comparison is in tests/test_alertmanager.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import aiohttp
import pytest

from monitor.alerting import evaluate as evaluate_module
from monitor.alerting import send_queue as send_queue_module
from monitor.alerting import state as state_module
from monitor.alerting.evaluate import evaluate
from monitor.alerting.outbox import Outbox, batches_for
from monitor.alerting.rules import parse_alert_rules
from monitor.alerting.state import AlertState, Phase, RuleInput, fingerprint
from monitor.model import Status
from monitor.receivers.webhook import WebhookConfig, WebhookReceiver
from tests.alerting_fixtures import INTERVAL, T0, H, Recorder, U, service

MANY = {"alertname": "D", **{f"l{i:02d}": f"v{i}" for i in range(40)}}


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({}, f"{14695981039346656037:016x}"),
        ({"name": "garland, briggs", "fear": "love is not enough"}, f"{5799056148416392346:016x}"),
        ({"first-label": "first-label-value"}, f"{5146282821936882169:016x}"),
        (
            {"first-label": "first-label-value", "second-label": "second-label-value"},
            f"{3195800080984914717:016x}",
        ),
        (
            {
                "first-label": "first-label-value",
                "second-label": "second-label-value",
                "third-label": "third-label-value",
            },
            f"{13843036195897128121:016x}",
        ),
        ({"alertname": "A", "service": "do-db"}, "71b8fa0c2d8910a4"),
        ({"alertname": "B", "empty": "", "service": "x"}, "47b1e5153bb8fce1"),
        ({"alertname": "B", "service": "x"}, "47b1e5153bb8fce1"),
        ({"alertname": "C", "service": "Zürich ☃ 東京"}, "7b6aee4339a0101c"),
        (MANY, "d31f9c45561ab8f4"),
    ],
)
def test_golden_fingerprints(labels: Mapping[str, str], expected: str) -> None:
    assert fingerprint(labels) == expected
    assert fingerprint(dict(reversed(list(labels.items())))) == expected  # order-free


def test_the_separator_keeps_names_and_values_apart() -> None:
    assert fingerprint({"a": "bc"}) != fingerprint({"ab": "c"})
    assert fingerprint({"a": "b", "c": "d"}) != fingerprint({"a": "b\xffc", "": "d"})


def old_fingerprint(labels: Mapping[str, str]) -> str:
    """`fingerprint` as main had it before issue 21 (SHA-256 of our own encoding)."""
    text = "\xff".join(f"{k}\xfe{labels[k]}" for k in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


RULES = """
receivers:
  - {name: hook, type: webhook, url: "http://127.0.0.1:9/unused"}
rules:
  - {name: Down, kind: status}
route: [hook]
"""


def hook(url: str) -> dict[str, WebhookReceiver]:
    config = {"type": "webhook", "name": "hook", "url": url + "/hook", "timeout": "5s"}
    return {"hook": WebhookReceiver(WebhookConfig.model_validate(config))}


async def test_an_alert_firing_across_the_upgrade_is_not_re_paged_and_resolves(
    tmp_path: Path,
    recorder: Recorder,
    session: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The old code (its fingerprint patched in) pages and leaves the firing row pending; the
    new code loads that database, stays quiet while the service is down, resolves it under
    the fingerprint it was paged with (after the firing, even when that is retried), and
    pages the next incident with Alertmanager's fingerprint."""
    config = parse_alert_rules(RULES, "alerts.yaml", env={})
    db = tmp_path / "alerts.db"

    def tick(
        state: AlertState, n: int, status: Status, outbox: Outbox
    ) -> tuple[AlertState, list[str]]:
        now = T0 + n * INTERVAL
        view = RuleInput({"svc": service("svc", status, now)}, T0)
        state, events = evaluate(config, state, view, now)
        outbox.save(state, batches_for(events), now)
        return state, [e.kind for e in events]

    with monkeypatch.context() as old:
        old.setattr(state_module, "fingerprint", old_fingerprint)
        old.setattr(evaluate_module, "fingerprint", old_fingerprint)
        old.setattr(send_queue_module, "fingerprint", old_fingerprint)
        outbox = Outbox(db, {})
        state = AlertState()
        kinds: list[str] = []
        for n in range(3):
            state, new = tick(state, n, U, outbox)
            kinds += new
        outbox.close()
    assert kinds == ["firing"]
    (record,) = state.alerts.values()
    paged_with = record.fingerprint
    assert paged_with == old_fingerprint(record.labels) != fingerprint(record.labels)

    outbox = Outbox(db, hook(recorder.url))  # the upgraded daemon starts
    state = outbox.load_state()
    (key,) = state.alerts
    assert key == f"Down/{fingerprint(record.labels)}"
    assert state.alerts[key].phase is Phase.FIRING
    kinds = []
    for n, status in enumerate([U, U, H, H, H, U, U, U], start=3):
        state, new = tick(state, n, status, outbox)
        kinds += new
    assert kinds == ["resolved", "firing"]
    recorder.script = [(503, {"Retry-After": "600"})]  # the old firing waits: none may pass it
    for _ in range(10):
        due = outbox.next_due()
        if due is None:
            break
        await outbox.deliver_due(session, now=due)
    sent = [json.loads(body)["alerts"][0] for _, _, body in recorder.requests]
    assert [(a["status"], a["fingerprint"]) for a in sent] == [
        ("firing", paged_with),
        ("firing", paged_with),
        ("resolved", paged_with),
        ("firing", fingerprint(record.labels)),
    ]
    assert outbox.counts() == {"delivered": 3}
    outbox.close()
    assert Outbox(db, {}).load_state().alerts.keys() == {key}  # saved under the new key
