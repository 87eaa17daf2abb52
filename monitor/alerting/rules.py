"""`alerts.yaml`: rules, routes, receivers and silences, validated while decoded.

Models only and pure: the decisions live in `evaluate.py`. Thresholds are written either as a
number of consecutive checks (`for: 3`) or as a duration (`for: 1m`); a rule fires when its
condition has held that long and resolves when it has been clear for `resolve_after`, a
separate threshold so a flapping service does not page on every flip (hysteresis).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from monitor.alerting.grouping import Grouping
from monitor.alerting.maintenance import MaintenanceWindow
from monitor.alerting.state import Silence
from monitor.alerting.template import template_errors
from monitor.config import Duration, link_url
from monitor.durations import parse_duration
from monitor.errors import ConfigError, ConfigProblem
from monitor.model import CheckKind, Status
from monitor.yaml_lines import line_for, load_yaml, path_to_loc, validation_problems

if TYPE_CHECKING:  # the receivers pull in aiohttp; this module stays pure
    from monitor.receivers import ReceiverConfig

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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Match(_Strict):
    """Which services a rule applies to: all by default; `services` and `labels` narrow it."""

    services: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)

    def matches(self, service: str, labels: Mapping[str, str]) -> bool:
        if self.services and service not in self.services:
            return False
        return all(labels.get(k) == v for k, v in self.labels.items())


class _Rule(_Strict):
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


class StatusRule(_Rule):
    """A service's status is one of `status` for `for`; resolves after `resolve_after` clear."""

    kind: Literal["status"]
    status: list[Status] = Field(default_factory=lambda: [Status.UNHEALTHY], min_length=1)
    for_: ThresholdField = Field(default=Threshold(checks=3), alias="for")
    resolve_after: ThresholdField = Threshold(checks=2)
    inhibit_by_dependencies: bool = True

    @field_validator("status")
    @classmethod
    def _not_healthy(cls, value: list[Status]) -> list[Status]:
        if Status.HEALTHY in value:
            raise ValueError("a status rule cannot alert on healthy")
        return value


class LatencyRule(_Rule):
    """A check's rolling p95 is over `factor` x its target for `for`."""

    kind: Literal["latency"]
    checks: list[CheckKind] = Field(default_factory=lambda: [CheckKind.RPC, CheckKind.HTTP])
    factor: float = Field(default=1.0, gt=0)
    for_: ThresholdField = Field(default=Threshold(seconds=300.0), alias="for")
    resolve_after: ThresholdField = Threshold(seconds=300.0)
    inhibit_by_dependencies: bool = True


class BurnRateRule(_Rule):
    """Error-budget burn over a long and a short window (SRE workbook, multiwindow).

    A check result is bad when the check failed or took longer than its target. Fires when the
    bad ratio divided by the budget (1 - objective) is at least `burn_rate` in both windows.
    """

    kind: Literal["burn_rate"]
    checks: list[CheckKind] = Field(default_factory=lambda: [CheckKind.RPC, CheckKind.HTTP])
    objective: float = Field(default=0.99, gt=0, lt=1)
    long: Duration = Field(default=3600.0, gt=0)
    short: Duration = Field(default=300.0, gt=0)
    burn_rate: float = Field(default=14.4, gt=0)
    min_samples: int = Field(default=10, ge=1)
    for_: ThresholdField = Field(default=Threshold(checks=1), alias="for")
    resolve_after: ThresholdField = Threshold(checks=1)
    inhibit_by_dependencies: bool = True


class FlappingRule(_Rule):
    """More than `changes` status changes within `window` is one alert of its own.

    While it holds, the service's status rules are held back (they stay pending). It resolves
    after `quiet` (default: `window`) without a change.
    """

    kind: Literal["flapping"]
    changes: int = Field(default=4, ge=1)
    window: Duration = Field(default=600.0, gt=0)
    quiet: Duration | None = None


class WatchdogRule(_Rule):
    """Always firing, re-sent every `repeat_interval`: a receiver outside expects it."""

    kind: Literal["watchdog"]
    severity: Severity = "info"
    repeat_interval: Duration = Field(default=60.0, gt=0)
    send_resolved: bool = False


class ChecksStalledRule(_Rule):
    """No check has completed for `after`: the scheduler or the loop is stuck."""

    kind: Literal["checks_stalled"]
    after: Duration = Field(default=120.0, gt=0)


class LoopLagRule(_Rule):
    """The event loop lags more than `threshold` for `for`: latencies are being distorted."""

    kind: Literal["loop_lag"]
    threshold: Duration = Field(default=0.1, gt=0)
    for_: ThresholdField = Field(default=Threshold(seconds=60.0), alias="for")
    resolve_after: ThresholdField = Threshold(seconds=60.0)


class ScheduleLagRule(_Rule):
    """Checks start more than `threshold` late (p99 over the last minute) for `for`: the
    monitor cannot keep up and runs every check less often than configured."""

    kind: Literal["schedule_lag"]
    threshold: Duration = Field(default=1.0, gt=0)
    for_: ThresholdField = Field(default=Threshold(seconds=300.0), alias="for")
    resolve_after: ThresholdField = Threshold(seconds=300.0)


Rule = Annotated[
    StatusRule
    | LatencyRule
    | BurnRateRule
    | FlappingRule
    | WatchdogRule
    | ChecksStalledRule
    | LoopLagRule
    | ScheduleLagRule,
    Field(discriminator="kind"),
]
MONITOR_RULES = (WatchdogRule, ChecksStalledRule, LoopLagRule, ScheduleLagRule)
"""Rules about the monitor itself: labelled service="monitor", never matched to a service."""
HELD_RULES = (StatusRule, LatencyRule, BurnRateRule, LoopLagRule, ScheduleLagRule)
"""Rules with `for` and `resolve_after`: a condition must hold that long to fire or resolve."""
SERVICE_RULES = (StatusRule, LatencyRule, BurnRateRule, FlappingRule)


class AlertsConfig(_Strict):
    """The whole `alerts.yaml`. `receivers` are validated against the receiver registry."""

    external_url: str = ""
    dashboard_url: str = ""
    route: list[str] = Field(default_factory=list)
    receivers: list[dict[str, Any]] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    silences: list[Silence] = Field(default_factory=list)
    grouping: Grouping = Field(default_factory=Grouping)
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)

    @field_validator("dashboard_url")
    @classmethod
    def _check_dashboard(cls, value: str) -> str:
        errors = template_errors(value)
        if errors:
            raise ValueError(errors[0])
        return link_url(value) if value else value

    @field_validator("external_url")
    @classmethod
    def _check_external(cls, value: str) -> str:
        return link_url(value) if value else value

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

    def routes(self, rule: Rule) -> list[str]:
        return rule.route if rule.route is not None else self.route


@dataclass(frozen=True, slots=True)
class AlertRules:
    """The loaded file: rules plus each receiver's validated config model, by receiver name."""

    config: AlertsConfig
    receivers: Mapping[str, ReceiverConfig]


def _cross_check(
    config: AlertsConfig, receiver_names: set[str], services: set[str] | None
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    seen: set[str] = set()
    for i, rule in enumerate(config.rules):
        if rule.name in seen:
            problems.append(ConfigProblem(f"rules[{i}].name", f"duplicate rule name {rule.name!r}"))
        seen.add(rule.name)
        if not config.routes(rule):
            problems.append(
                ConfigProblem(
                    f"rules[{i}].route", "no receivers: set route here or a top-level route"
                )
            )
        for j, receiver in enumerate(rule.route or []):
            if receiver not in receiver_names:
                problems.append(
                    ConfigProblem(
                        f"rules[{i}].route[{j}]",
                        f"unknown receiver {receiver!r}; expected one of {sorted(receiver_names)}",
                    )
                )
        if services is not None and isinstance(rule, SERVICE_RULES):
            for j, name in enumerate(rule.match.services):
                if name not in services:
                    problems.append(
                        ConfigProblem(
                            f"rules[{i}].match.services[{j}]", f"unknown service {name!r}"
                        )
                    )
        if isinstance(rule, BurnRateRule) and rule.short >= rule.long:
            problems.append(
                ConfigProblem(
                    f"rules[{i}].short", "the short window must be shorter than the long one"
                )
            )
    for j, receiver in enumerate(config.route):
        if receiver not in receiver_names:
            problems.append(ConfigProblem(f"route[{j}]", f"unknown receiver {receiver!r}"))
    names: set[str] = set()
    for i, window in enumerate(config.maintenance):
        if window.name in names:
            problems.append(
                ConfigProblem(f"maintenance[{i}].name", f"duplicate window {window.name!r}")
            )
        names.add(window.name)
        for j, name in enumerate(window.services):
            if services is not None and name not in services:
                problems.append(
                    ConfigProblem(f"maintenance[{i}].services[{j}]", f"unknown service {name!r}")
                )
    ids: set[str] = set()
    for i, silence in enumerate(config.silences):
        if silence.ends_at <= silence.starts_at:
            problems.append(ConfigProblem(f"silences[{i}].ends_at", "must be after starts_at"))
        if silence.id in ids:
            problems.append(
                ConfigProblem(f"silences[{i}].id", f"duplicate silence id {silence.id!r}")
            )
        ids.add(silence.id)
    return problems


def parse_alert_rules(
    text: str,
    file: str = "<alerts>",
    env: Mapping[str, str] | None = None,
    services: Iterable[str] | None = None,
) -> AlertRules:
    """Validate `alerts.yaml` text; raise ConfigError with file, line and field for every problem.

    `services`, when given, are the names from monitor.yaml that `match.services` may use.
    """
    # Imported here: the registry pulls in the receivers' HTTP code, which the pure model
    # classes above do not need.
    from monitor.receivers import RECEIVERS

    data, lines = load_yaml(text, file)
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(file, [ConfigProblem("", "expected a mapping with a rules: list", 1)])
    try:
        config = AlertsConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(file, validation_problems(exc, lines, data=data)) from None
    context = {"env": os.environ if env is None else env}
    problems: list[ConfigProblem] = []
    receivers: dict[str, ReceiverConfig] = {}
    for i, raw in enumerate(config.receivers):
        kind, name = raw.get("type"), raw.get("name")
        if kind not in RECEIVERS:
            problems.append(
                ConfigProblem(
                    f"receivers[{i}].type",
                    f"expected one of {sorted(RECEIVERS)}, got {kind!r}",
                    line_for(("receivers", i, "type"), lines),
                )
            )
            continue
        try:
            model = cast(
                "ReceiverConfig", RECEIVERS[kind].config_model.model_validate(raw, context=context)
            )
        except ValidationError as exc:
            problems += validation_problems(exc, lines, ("receivers", i))
            continue
        if name in receivers:
            problems.append(
                ConfigProblem(
                    f"receivers[{i}].name",
                    f"duplicate receiver {name!r}",
                    line_for(("receivers", i, "name"), lines),
                )
            )
        receivers[str(name)] = model
    if problems:
        raise ConfigError(file, problems)
    known = set(receivers)
    found = _cross_check(config, known, None if services is None else set(services))
    for i, rule in enumerate(config.rules):
        for name in config.routes(rule):
            hold = getattr(receivers.get(name), "hold", None)
            if hold is not None and rule.repeat_interval >= hold:
                found.append(
                    ConfigProblem(
                        f"rules[{i}].repeat_interval",
                        f"must be shorter than the hold ({hold:g}s) of receiver {name!r}, or "
                        "Alertmanager resolves the alert before it is re-sent",
                    )
                )
    problems = [
        ConfigProblem(p.location, p.message, line_for(path_to_loc(p.location), lines))
        for p in found
    ]
    if problems:
        raise ConfigError(file, problems)
    silences = [
        s if s.id else s.model_copy(update={"id": f"file-{i}"})
        for i, s in enumerate(config.silences)
    ]
    config = config.model_copy(update={"silences": silences})
    return AlertRules(config=config, receivers=receivers)


def load_alert_rules(
    path: str | Path, env: Mapping[str, str] | None = None, services: Iterable[str] | None = None
) -> AlertRules:
    """Read and validate `alerts.yaml`; an unreadable file is a ConfigError too (exit 2)."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, [ConfigProblem("", f"cannot read the file: {exc}")]) from None
    return parse_alert_rules(text, file, env, services)
