"""Apprise: one receiver for the ~150 services the apprise library speaks (Discord, Teams,
Telegram, Opsgenie, ntfy, Matrix, Gotify, Pushover, email via `mailto://`, `json://`, ...).

Its URLs carry credentials: each is a secret (`${VAR}` or `urls_file:`), registered with the
scrubber, never logged. Apprise runs each service's blocking send on its own bounded thread
pool; the call is awaited under `timeout` (apprise's own deadline, and ours around it: a send
once hung for two minutes, apprise#244), and a receiver has at most `SENDS_AT_ONCE` calls in
flight, so a slow service holds neither the event loop, nor other receivers, nor the threads.
A send that did not reach every URL is retried by the outbox, to the URLs that did not take
it (at-least-once: after a crash, to all of them again). Apprise's HTTP schemes for programs
(`json://`, `form://`, `xml://`) carry the outbox row's key as an `Idempotency-Key` header: a
page re-sent after a crash (or a retry after a lost answer) has the same key, so a receiver that
keeps the keys it saw takes it once.
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
REMEMBERED = 10_000
"""URLs that took a page still being retried, kept at most (each a key and an index)."""


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
        self._reached: dict[tuple[str, int], None] = {}
        """(outbox row key, URL index) that took a page still being retried, oldest first;
        in memory: after a crash the retry goes to every URL again (at-least-once)."""

    def render(self, batch: Batch) -> list[Request]:
        title, body = text(batch)
        headers = {"title": title, KEY_HEADER: batch.dedup_key}
        return [Request("NOTIFY", "apprise:", headers, body.encode())]

    async def send(self, session: aiohttp.ClientSession, batch: Batch) -> DeliveryResult:
        """Each URL on its own call, so that a retry goes only to the services that did not
        take the page (mail is not sent twice because a JSON endpoint was down)."""
        title, body = text(batch)
        kind = (
            apprise.NotifyType.SUCCESS if batch.status == "resolved" else apprise.NotifyType.FAILURE
        )
        key = batch.dedup_key
        todo = [i for i in range(len(self.config.urls)) if (key, i) not in self._reached]
        async with self._slots:
            failures = await asyncio.gather(
                *(self._notify(i, key, title, body, kind) for i in todo)
            )
        for i, failure in zip(todo, failures, strict=True):
            if failure is None:
                self._reached[(key, i)] = None
        while len(self._reached) > REMEMBERED:
            del self._reached[next(iter(self._reached))]
        errors = [failure for failure in failures if failure is not None]
        if errors:
            return DeliveryResult(Outcome.RETRY, None, None, errors[0])
        for i in range(len(self.config.urls)):  # the row is done: nothing to remember
            self._reached.pop((key, i), None)
        return DeliveryResult(Outcome.DELIVERED, None, None, "notified")

    async def _notify(
        self, index: int, key: str, title: str, body: str, kind: apprise.NotifyType
    ) -> str | None:
        """Send to URL `index`: None if the service took it, else why not."""
        notifier = apprise.Apprise()
        notifier.add(keyed(self.config.urls[index].get_secret_value(), key))
        timeout = self.config.timeout
        try:
            result = await asyncio.wait_for(
                notifier.async_notify(body=body, title=title, notify_type=kind, timeout=timeout),
                timeout=timeout + 1.0,
            )
        except TimeoutError:
            return "timed out"
        except Exception as exc:  # a plugin's bug is a failed attempt, never a crash
            return type(exc).__name__
        if bool(result):
            return None
        status = getattr(getattr(result, "status", None), "name", "FAILURE")
        return f"apprise: {status.lower()}"
