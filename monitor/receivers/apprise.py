"""Apprise: one receiver for the ~150 services the apprise library speaks (Discord, Teams,
Telegram, Opsgenie, ntfy, Matrix, Gotify, Pushover, email via `mailto://`, `json://`, ...).

Its URLs carry credentials: each is a secret (`${VAR}` or `urls_file:`), registered with the
scrubber, never logged. Apprise runs each service's blocking send on its own bounded thread
pool; the call is awaited under `timeout` (apprise's own deadline, and ours around it: a send
once hung for two minutes, apprise#244), and a receiver has at most `SENDS_AT_ONCE` calls in
flight, so a slow service holds neither the event loop, nor other receivers, nor the threads.
A send that did not reach every URL is retried by the outbox (at-least-once: a duplicate
rather than a miss). Apprise's HTTP schemes for programs (`json://`, `form://`, `xml://`) carry
the outbox row's key as an `Idempotency-Key` header: a page re-sent after a crash (or a retry
after a lost answer) has the same key, so a receiver that keeps the keys it saw takes it once.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, Literal

import aiohttp
import apprise
from pydantic import Field, SecretStr, field_validator, model_validator

from monitor.alerting.state import Batch
from monitor.receivers._base import (
    DeliveryResult,
    Outcome,
    ReceiverConfig,
    Request,
    Secret,
    alert_line,
    group_title,
    listed,
)

SENDS_AT_ONCE = 2
"""Apprise calls one receiver may have in flight (each may hold pool threads)."""
KEYED_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
"""Apprise's custom HTTP notifications: they take extra headers as `+Name=value` arguments."""
KEY_HEADER = "Idempotency-Key"


def keyed(url: str, key: str) -> str:
    """`url` with the `Idempotency-Key` header argument, where its scheme takes headers."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in KEYED_SCHEMES or not rest:
        return url
    base, hash_mark, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}+{KEY_HEADER}={key}{hash_mark}{fragment}"


class AppriseConfig(ReceiverConfig):
    type: Literal["apprise"]
    urls: list[Secret] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _file(cls, data: Any) -> Any:
        """`urls_file: /run/secrets/apprise`: one URL per line."""
        if not isinstance(data, dict) or "urls_file" not in data:
            return data
        data = dict(data)
        path = data.pop("urls_file")
        if "urls" in data:
            raise ValueError("set either urls or urls_file, not both")
        try:
            with open(str(path), encoding="utf-8") as handle:
                lines = [line.strip() for line in handle]
        except OSError as exc:
            raise ValueError(f"urls_file: cannot read it: {exc.strerror}") from None
        data["urls"] = [SecretStr(line) for line in lines if line and not line.startswith("#")]
        return data

    @field_validator("urls")
    @classmethod
    def _known(cls, urls: list[SecretStr]) -> list[SecretStr]:
        for i, url in enumerate(urls):
            if not apprise.Apprise().add(url.get_secret_value()):
                raise ValueError(f"urls[{i}]: not a URL apprise knows (the URL is not shown)")
        return urls


def text(batch: Batch) -> tuple[str, str]:
    """The title and body apprise sends (pure): one message per batch, listing a group."""
    if len(batch.events) == 1:
        event = batch.events[0]
        body = [alert_line(event)]
        for key in ("description", "likely_cause", "likely_cause_of", "runbook_url"):
            if event.annotations.get(key):
                body.append(f"{key.replace('_', ' ')}: {event.annotations[key]}")
        if event.generator_url:
            body.append(event.generator_url)
        return group_title(batch), "\n".join(body)
    body = listed(batch)
    if batch.external_url:
        body.append(batch.external_url.rstrip("/") + "/status")
    return group_title(batch), "\n".join(body)


class AppriseReceiver:
    kind: ClassVar[str] = "apprise"
    config_model: ClassVar[type[AppriseConfig]] = AppriseConfig

    def __init__(self, config: AppriseConfig) -> None:
        self.config = config
        self.name = config.name
        self._slots = asyncio.Semaphore(SENDS_AT_ONCE)

    def render(self, batch: Batch) -> list[Request]:
        title, body = text(batch)
        headers = {"title": title, KEY_HEADER: batch.dedup_key}
        return [Request("NOTIFY", "apprise:", headers, body.encode())]

    async def send(self, session: aiohttp.ClientSession, batch: Batch) -> DeliveryResult:
        title, body = text(batch)
        notifier = apprise.Apprise()
        for url in self.config.urls:
            notifier.add(keyed(url.get_secret_value(), batch.dedup_key))
        kind = (
            apprise.NotifyType.SUCCESS if batch.status == "resolved" else apprise.NotifyType.FAILURE
        )
        timeout = self.config.timeout
        async with self._slots:
            try:
                result = await asyncio.wait_for(
                    notifier.async_notify(
                        body=body, title=title, notify_type=kind, timeout=timeout
                    ),
                    timeout=timeout + 1.0,
                )
            except TimeoutError:
                return DeliveryResult(Outcome.RETRY, None, None, "timed out")
            except Exception as exc:  # a plugin's bug is a failed attempt, never a crash
                return DeliveryResult(Outcome.RETRY, None, None, type(exc).__name__)
        if bool(result):
            return DeliveryResult(Outcome.DELIVERED, None, None, "notified")
        status = getattr(getattr(result, "status", None), "name", "FAILURE")
        return DeliveryResult(Outcome.RETRY, None, None, f"apprise: {status.lower()}")
