"""What every rule kind shares: the alerts.yaml fields of all rules, the signal a rule's
condition yields, and `RuleKind`, the interface one module per kind implements.

Pure, and free of `rules.py`, which imports the kinds to build its union: kind modules import
only the private modules of kinds/ and the shared domain.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Generic,
    Literal,
    Protocol,
    TypeVar,
    cast,
)

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from monitor.alerting.state import AlertState, RuleInput, ServiceHistory, ServiceInput
from monitor.alerting.template import template_errors
from monitor.config import Duration, link_url
from monitor.durations import format_duration, parse_duration

Severity = Literal["critical", "error", "warning", "info"]
"""The PagerDuty Events v2 severities; every receiver maps from these."""

ALERT_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


@dataclass(frozen=True, slots=True)
class Threshold:
    """`checks` consecutive observations and/or `seconds` of elapsed time; both must hold."""

    checks: int | None = None
    seconds: float | None = None

    def met(self, count: int, elapsed: float) -> bool:
        return (self.checks is None or count >= self.checks) and (
            self.seconds is None or elapsed >= self.seconds
        )


AT_ONCE = Threshold(checks=None)
"""What a kind without `for` / `resolve_after` waits: nothing."""


def _threshold(value: Any) -> Threshold:
    if isinstance(value, Threshold):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a number of checks (3) or a duration (1m), not a boolean")
    if isinstance(value, int):
        if value < 1:
            raise ValueError("a number of checks must be at least 1")
        return Threshold(checks=value)
    if isinstance(value, str) and not value.strip().isdigit():
        return Threshold(seconds=parse_duration(value))
    raise ValueError(
        f"expected a number of checks (3) or a duration with a unit (1m), got {value!r}"
    )


ThresholdField = Annotated[Threshold, BeforeValidator(_threshold)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Match(Strict):
    """Which services a rule applies to: all by default; `services` and `labels` narrow it."""

    services: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)

    def matches(self, service: str, labels: Mapping[str, str]) -> bool:
        if self.services and service not in self.services:
            return False
        return all(labels.get(k) == v for k, v in self.labels.items())


class RuleModel(Strict):
    """The fields every rule has; each kind's model adds `kind: Literal[...]` and its own."""

    if TYPE_CHECKING:
        kind: str

    name: Annotated[str, Field(pattern=ALERT_NAME)]
    severity: Severity = "warning"
    match: Match = Field(default_factory=Match)
    labels: dict[Annotated[str, Field(pattern=ALERT_NAME)], str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    route: list[str] | None = None
    repeat_interval: Duration = Field(default=4 * 3600.0, gt=0)
    send_resolved: bool = True

    @field_validator("annotations")
    @classmethod
    def _check_templates(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            errors = template_errors(text)
            if errors:
                raise ValueError(f"annotation {key}: {errors[0]}")
            if key.endswith("_url") and not text.startswith("{"):  # receivers render a link
                try:
                    link_url(text)
                except ValueError as exc:
                    raise ValueError(f"annotation {key}: {exc}") from None
        return value


# --------------------------------------------------------------------------- evaluation


@dataclass(slots=True)
class Signal:
    """One condition outcome. `active` None means no data: keep the record as it is."""

    labels: dict[str, str]
    active: bool | None
    observed: bool
    values: dict[str, object] = field(default_factory=dict)
    service: str | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule's condition reads at one evaluation."""

    state: AlertState
    view: RuleInput
    now: datetime
    seen: set[str]
    seen_checks: set[tuple[str, str]]
    bucket_seconds: float


@dataclass(frozen=True, slots=True)
class Subject:
    """One matched service at one evaluation: what a per-service condition reads."""

    ctx: Context
    service: ServiceInput
    values: dict[str, object]
    """The service's template values (`service_values`)."""
    observed: bool
    """Whether the service was checked since the last evaluation."""

    @property
    def history(self) -> ServiceHistory | None:
        return self.ctx.state.services.get(self.service.name)


def ms(seconds: float | None) -> str | None:
    return None if seconds is None else f"{seconds * 1000:.1f}".rstrip("0").rstrip(".")


def base_labels(rule: RuleModel, service: ServiceInput | None) -> dict[str, str]:
    labels: dict[str, str] = {}
    if service is not None:
        labels.update(service.labels)
        if service.team:
            labels["team"] = service.team
        labels["service"] = service.name
    else:
        labels["service"] = "monitor"
    labels.update(rule.labels)
    labels["alertname"] = rule.name
    labels["severity"] = rule.severity
    return labels


def service_values(s: ServiceInput) -> dict[str, object]:
    return {
        "service": s.name,
        "status": s.status.value,
        "reason": s.reason,
        "detail": s.detail,
        "since": f"{s.since:%H:%M}" if s.since else None,
        "team": s.team,
        "runbook": s.runbook,
    }


R = TypeVar("R", bound=RuleModel)


class RuleKind(Generic[R]):
    """One rule kind: its model, how it is evaluated, exported to Prometheus and annotated.

    The defaults describe a per-service kind that fires and resolves at once; a kind module
    overrides what differs. `RULE_KINDS` (kinds/__init__.py) is the one list of kinds.
    """

    model: type[R]
    summary: ClassVar[str]
    """The default `summary` annotation template (one line: a page's title)."""
    description: ClassVar[str]
    """The default `description` annotation template."""
    about_monitor: ClassVar[bool] = False
    """Labelled service="monitor" and never matched to a service (watchdog, lags, ...)."""
    held_while_flapping: ClassVar[bool] = False
    """Its firing waits while a flapping rule fires for the same service."""
    rechecks_while_pending: ClassVar[bool] = False
    """While pending, its service is re-checked at the fast interval to confirm sooner."""
    names_dependents: ClassVar[bool] = False
    """Its annotations name the services whose alerts it is the likely cause of."""
    marks_flapping: ClassVar[bool] = False
    """Evaluated first: while it fires, `held_while_flapping` kinds of that service wait."""

    @property
    def annotations(self) -> Mapping[str, str]:
        """Default annotation templates; a rule's own `annotations` override them key by key."""
        return {"summary": self.summary, "description": self.description}

    # -- config

    def problems(self, rule: R) -> list[tuple[str, str]]:
        """(field, message) for what the model alone cannot check."""
        return []

    # -- evaluation

    def thresholds(self, rule: R) -> tuple[Threshold, Threshold] | None:
        """(`for`, `resolve_after`); None for a kind that fires and resolves at once."""
        return None

    def inhibited_by_dependencies(self, rule: R) -> bool:
        """Whether a failing dependency holds its pages back."""
        return False

    def burn_windows(self, rule: R) -> tuple[float, float] | None:
        """(long, short) windows of check-result history the rule reads, if any."""
        return None

    def change_window(self, rule: R) -> float:
        """How long a service's status changes must be kept for the rule."""
        return 0.0

    def signals(self, rule: R, ctx: Context) -> Iterator[Signal]:
        """One signal per service the rule matches (monitor kinds override this)."""
        for s in ctx.view.services.values():
            if rule.match.matches(s.name, s.labels):
                yield from self.service_signals(
                    rule, Subject(ctx, s, service_values(s), s.name in ctx.seen)
                )

    def service_signals(self, rule: R, at: Subject) -> Iterator[Signal]:
        raise NotImplementedError

    # -- Prometheus export

    def expr(self, rule: R) -> str:
        raise NotImplementedError

    def export_fields(self, rule: R, fields: dict[str, str]) -> None:
        """Adjust the annotation fields (Prometheus templates) for this kind, in place."""

    def export_timing(self, rule: R, interval: float) -> dict[str, str]:
        """`for` and `keep_firing_for` of the alerting rule."""
        held = self.thresholds(rule)
        out: dict[str, str] = {}
        if held is not None:
            for key, threshold in zip(("for", "keep_firing_for"), held, strict=True):
                if (text := duration(threshold, interval)) != "0s":
                    out[key] = text
        return out


class _Held(Protocol):
    for_: Threshold
    resolve_after: Threshold


class _Inhibitable(_Held, Protocol):
    inhibit_by_dependencies: bool


class HeldKind(RuleKind[R]):
    """A kind whose model has `for` and `resolve_after`: its condition must hold that long to
    fire and be clear that long to resolve.

    Each kind's model declares these fields itself rather than inheriting them, so that its
    fields (and the order config problems are listed in) stay in the order written there."""

    def thresholds(self, rule: R) -> tuple[Threshold, Threshold]:
        held = cast("_Held", rule)
        return held.for_, held.resolve_after


class ServicePageKind(HeldKind[R]):
    """A held kind whose model also has `inhibit_by_dependencies`: a page about a service that
    a failing dependency may explain (status, latency, burn_rate)."""

    def inhibited_by_dependencies(self, rule: R) -> bool:
        return cast("_Inhibitable", rule).inhibit_by_dependencies


def duration(threshold: Threshold, interval: float) -> str:
    """A threshold as Prometheus `for:`; N checks are N - 1 intervals after the first."""
    seconds = max(
        threshold.seconds or 0.0,
        0.0 if threshold.checks is None else (threshold.checks - 1) * interval,
    )
    return format_duration(seconds) if seconds else "0s"
