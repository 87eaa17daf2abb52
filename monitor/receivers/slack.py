"""Slack incoming webhook: one message of Block Kit blocks per batch.

Limits respected (Slack docs): header text <= 150 chars, section text <= 3000, <= 10 fields,
<= 50 blocks, button text <= 75. Slack allows about one message per second per channel; the
outbox retries its 429 with Retry-After.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from monitor.alerting.state import AlertEvent, Batch
from monitor.receivers._base import (
    HttpReceiver,
    ReceiverConfig,
    Request,
    Secret,
    group_title,
    listed,
)

_ICON = {"firing": ":rotating_light:", "repeat": ":repeat:", "resolved": ":white_check_mark:"}
_LINKS = (("runbook_url", "Runbook"), ("dashboard_url", "Dashboard"))


class SlackConfig(ReceiverConfig):
    type: Literal["slack"]
    secret_files = ("url",)
    url: Secret


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _title(event: AlertEvent) -> str:
    word = {"firing": "FIRING", "repeat": "STILL FIRING", "resolved": "RESOLVED"}[event.kind]
    summary = event.annotations.get("summary", event.rule)
    return f"{_ICON[event.kind]} {word}: {summary}"


def _blocks(event: AlertEvent) -> list[dict[str, Any]]:
    labels = event.labels
    fields = [
        ("Service", labels.get("service", "")),
        ("Severity", event.severity),
        ("Alert", event.rule),
        ("Since", event.starts_at.strftime("%Y-%m-%d %H:%M UTC")),
    ]
    if "check" in labels:
        fields.append(("Check", labels["check"]))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(_title(event), 150), "emoji": True},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _cut(f"*{k}*\n{v}", 2000)} for k, v in fields if v
            ][:10],
        },
    ]
    description = event.annotations.get("description", "")
    for key, label in (
        ("likely_cause", "Likely cause"),
        ("likely_cause_of", "Likely cause of"),
        ("deploy", "Deploy"),
    ):
        if key in event.annotations:
            description += f"\n*{label}:* {event.annotations[key]}"
    if description.strip():
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(description.strip(), 3000)}}
        )
    links = [(text, event.annotations.get(key, "")) for key, text in _LINKS]
    links.append(("Status", event.generator_url))
    buttons = [
        {"type": "button", "text": {"type": "plain_text", "text": text}, "url": _cut(url, 3000)}
        for text, url in links
        if url.startswith(("http://", "https://"))
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def _group_message(batch: Batch) -> dict[str, Any]:
    """A group of alerts as one message: a title with the counts and one line per alert,
    the rest named and counted (Slack's 50 blocks would cut a storm silently)."""
    title = group_title(batch)
    icon = _ICON["firing" if batch.status == "firing" else "resolved"]
    lines = listed(batch)
    text = "\n".join(f"• {line}" for line in lines)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(f"{icon} {title}", 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, 3000)}},
    ]
    status = f"{batch.external_url.rstrip('/')}/status" if batch.external_url else ""
    if status.startswith(("http://", "https://")):
        button = {"type": "button", "text": {"type": "plain_text", "text": "Status"}}
        blocks.append({"type": "actions", "elements": [{**button, "url": _cut(status, 3000)}]})
    return {"text": _cut(f"{icon} {title}", 3000), "blocks": blocks}


def message(batch: Batch) -> dict[str, Any]:
    """The incoming-webhook body (pure). `text` is the notification/fallback line. A group of
    several alerts is one message listing them."""
    if len(batch.events) > 1 and batch.group_labels is not None:
        return _group_message(batch)
    blocks: list[dict[str, Any]] = []
    for event in batch.events:
        if blocks:
            blocks.append({"type": "divider"})
        blocks.extend(_blocks(event))
    text = "; ".join(_title(e) for e in batch.events)
    return {"text": _cut(text, 3000), "blocks": blocks[:50]}


class SlackReceiver(HttpReceiver[SlackConfig]):
    kind: ClassVar[str] = "slack"
    config_model: ClassVar[type[SlackConfig]] = SlackConfig

    def render(self, batch: Batch) -> list[Request]:
        body = json.dumps(message(batch), ensure_ascii=False).encode()
        return [
            Request(
                "POST",
                self.config.url.get_secret_value(),
                {"Content-Type": "application/json"},
                body,
            )
        ]
