"""`alerts.yaml`: rules, routes, receivers and silences, validated while decoded.

Models only and pure: each rule kind's model is in `kinds/`, the decisions in `evaluate.py`.
Thresholds are written either as a number of consecutive checks (`for: 3`) or as a duration
(`for: 1m`); a rule fires when its
condition has held that long and resolves when it has been clear for `resolve_after`, a
separate threshold so a flapping service does not page on every flip (hysteresis).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union, cast

from pydantic import Field, ValidationError, field_validator

from monitor.alerting.grouping import Grouping
from monitor.alerting.kinds import RULE_KINDS, RuleModel, Strict, kind_of
from monitor.alerting.maintenance import MaintenanceWindow
from monitor.alerting.state import Silence
from monitor.alerting.template import template_errors
from monitor.config import link_url
from monitor.config.yaml_lines import line_for, load_yaml, path_to_loc, validation_problems
from monitor.errors import ConfigError, ConfigProblem

if TYPE_CHECKING:  # the receivers pull in aiohttp; this module stays pure
    from monitor.receivers import ReceiverConfig

_MODELS = tuple(kind.model for kind in RULE_KINDS.values())
if TYPE_CHECKING:
    Rule = RuleModel
else:  # the union pydantic validates with, in RULE_KINDS' order
    Rule = Annotated[Union[_MODELS], Field(discriminator="kind")]  # noqa: UP007


class AlertsConfig(Strict):
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
        kind = kind_of(rule)
        if services is not None and not kind.about_monitor:
            for j, name in enumerate(rule.match.services):
                if name not in services:
                    problems.append(
                        ConfigProblem(
                            f"rules[{i}].match.services[{j}]", f"unknown service {name!r}"
                        )
                    )
        problems += [ConfigProblem(f"rules[{i}].{f}", text) for f, text in kind.problems(rule)]
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
