"""What every receiver shares: the interface, the request it renders, and how an HTTP answer
is classified (delivered / retry / give up).

A receiver's `render` is pure (batch -> requests) so the wire format is tested without a
network; `send` posts what `render` made and classifies the answer for the outbox.
"""

from __future__ import annotations

import email.utils
import enum
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, Protocol, TypeVar

import aiohttp
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    model_validator,
)

from monitor.alerting.state import AlertEvent, Batch
from monitor.config import Duration, expand_env
from monitor.tracebacks import drop_tracebacks

DETAIL_CHARS = 200
"""A receiver's answer is kept this long in `DeliveryResult.detail`: text this long was cut."""


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """How one delivery attempt ended. `detail` never contains a URL or a secret."""

    outcome: Outcome
    status: int | None = None
    retry_after: float | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request a receiver wants sent. Its repr hides the URL and headers (secrets)."""

    method: str
    url: str = field(repr=False)
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)


class Receiver(Protocol):
    """The interface every receiver module implements."""

    kind: ClassVar[str]
    name: str

    def render(self, batch: Batch) -> list[Request]:
        """The request(s) that deliver `batch`; pure."""
        ...

    async def send(self, session: aiohttp.ClientSession, batch: Batch) -> DeliveryResult:
        """Deliver `batch`; never raises for a failing endpoint."""
        ...


class ReceiverFactory(Protocol):
    """A registry entry: the receiver class, its config model, built from a validated config."""

    @property
    def config_model(self) -> type[BaseModel]: ...

    def __call__(self, config: Any, /) -> Receiver: ...


def rfc3339(moment: datetime) -> str:
    """`2026-01-02T03:04:05.678Z`, the form Alertmanager writes and reads."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header: delay-seconds or an HTTP-date; None if absent/bad."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def classify(status: int, retry_after: str | None, now: datetime, body: str = "") -> DeliveryResult:
    """2xx delivered; 408, 429 and 5xx retried (honouring Retry-After); any other answer final."""
    snippet = body[:DETAIL_CHARS]
    if 200 <= status < 300:
        return DeliveryResult(Outcome.DELIVERED, status, None, snippet)
    if status in (408, 429) or status >= 500:
        return DeliveryResult(Outcome.RETRY, status, parse_retry_after(retry_after, now), snippet)
    return DeliveryResult(Outcome.FAILED, status, None, snippet)


async def post(session: aiohttp.ClientSession, request: Request, timeout: float) -> DeliveryResult:
    """Send one request; network errors and timeouts are retryable, never raised."""
    try:
        async with session.request(
            request.method,
            request.url,
            data=request.body,
            headers=dict(request.headers),
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=False,
        ) as response:
            text = (await response.content.read(4096)).decode("utf-8", errors="replace")
            return classify(
                response.status, response.headers.get("Retry-After"), datetime.now(UTC), text
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        drop_tracebacks(exc)  # a receiver failing on every retry must not pile up buffers
        return DeliveryResult(Outcome.RETRY, None, None, type(exc).__name__)


async def post_all(
    session: aiohttp.ClientSession, requests: Sequence[Request], timeout: float
) -> DeliveryResult:
    """Send requests in order, stopping at the first that is not delivered."""
    result = DeliveryResult(Outcome.DELIVERED, None, None, "nothing to send")
    for request in requests:
        result = await post(session, request, timeout)
        if result.outcome is not Outcome.DELIVERED:
            return result
    return result


def _secret(value: Any, info: ValidationInfo) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a string, e.g. ${SLACK_WEBHOOK_URL}")
    env = (info.context or {}).get("env", os.environ)
    return SecretStr(expand_env(value, env))


Secret = Annotated[SecretStr, BeforeValidator(_secret)]
"""A secret written as `${VAR}` (expanded from the environment); never shown in repr or logs."""


def read_secret_files(data: Any, names: Sequence[str]) -> Any:
    """`url_file: /run/secrets/x` -> `url: <file content>`, for each of `names`."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for name in names:
        path = data.pop(f"{name}_file", None)
        if path is None:
            continue
        if name in data:
            raise ValueError(f"set either {name} or {name}_file, not both")
        try:
            data[name] = SecretStr(Path(str(path)).read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ValueError(f"{name}_file: cannot read it: {exc.strerror}") from None
    return data


class ReceiverConfig(BaseModel):
    """Common keys of every receiver: `type`, `name`, a delivery timeout in seconds and the
    grouping keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    name: str
    timeout: Duration = Field(default=10.0, gt=0)
    group_by: tuple[str, ...] | None = None
    """Grouping keys (`alerting/grouping.py`); unset: the top-level `grouping:` block's."""
    group_wait: Duration | None = Field(default=None, ge=0)
    group_interval: Duration | None = Field(default=None, ge=0)

    secret_files: ClassVar[tuple[str, ...]] = ()
    """Secret keys that may be read from a file instead: `<key>_file: /run/secrets/x`."""

    @model_validator(mode="before")
    @classmethod
    def _secret_files(cls, data: Any) -> Any:
        return read_secret_files(data, cls.secret_files)


ConfigT = TypeVar("ConfigT", bound=ReceiverConfig)


class HttpReceiver(Generic[ConfigT]):
    """The shell every HTTP receiver shares: keep the config, POST what `render` makes.
    A receiver module writes only its config model and its pure `render`."""

    kind: ClassVar[str]

    def __init__(self, config: ConfigT) -> None:
        self.config = config
        self.name = config.name

    def render(self, batch: Batch) -> list[Request]:
        raise NotImplementedError

    async def send(self, session: aiohttp.ClientSession, batch: Batch) -> DeliveryResult:
        return await post_all(session, self.render(batch), self.config.timeout)


LISTED_CHARS = 2500
"""A grouped message lists alerts up to this much text (Slack's section holds 3000); the rest
are named only, then counted ("and 10 more")."""


def group_title(batch: Batch) -> str:
    """`[FIRING:30] ServiceDown`, Alertmanager's default title; resolved ones are counted."""
    firing = sum(1 for e in batch.events if e.status == "firing")
    resolved = len(batch.events) - firing
    head = f"[FIRING:{firing}]" if firing else f"[RESOLVED:{resolved}]"
    labels = batch.group_labels or {}
    if labels and len(labels) <= 3:
        name = " ".join(v for _, v in sorted(labels.items()))
    else:
        name = ", ".join(sorted({e.rule for e in batch.events}))
    tail = f" ({resolved} resolved)" if firing and resolved else ""
    return f"{head} {name}{tail}"


def alert_line(event: AlertEvent) -> str:
    """One alert of a grouped message: its state and summary (naming the service)."""
    service = event.labels.get("service", "")
    summary = event.annotations.get("summary", event.rule)
    if service and service not in summary:
        summary = f"{service}: {summary}"
    if event.annotations.get("deploy"):
        summary += f" ({event.annotations['deploy']})"
    return f"{event.status.upper()} {summary}"


def listed(batch: Batch, budget: int = LISTED_CHARS) -> list[str]:
    """The lines a grouped message shows, firing first: one per alert while they fit in
    `budget` characters, then one line naming the rest, cut with a count when even that
    does not fit. Every alert is named or counted."""
    ordered = sorted(batch.events, key=lambda e: e.status != "firing")
    lines = [alert_line(e) for e in ordered]
    if sum(len(line) + 1 for line in lines) <= budget:
        return lines
    kept: list[str] = []
    used = 0
    for line in lines:  # half the budget for detail, half for naming the rest
        if used + len(line) + 1 > budget // 2:
            break
        kept.append(line)
        used += len(line) + 1
    rest = [e.labels.get("service") or e.rule for e in ordered[len(kept) :]]
    room = budget - used - 40
    shown: list[str] = []
    for name in rest:
        room -= len(name) + 2
        if room < 0:
            break
        shown.append(name)
    tail = f"and {len(rest)} more: " + ", ".join(shown)
    others = len(rest) - len(shown)
    return [*kept, tail + (f" and {others} others" if others else "")]
