"""The rule-kind registry: every module of alerting/kinds/ is registered, every kind alerts.yaml
accepts has evaluation, export and annotations, and nothing dispatches on rule classes."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path
from typing import Any

import pytest

import monitor.alerting.kinds as kinds_pkg
from monitor.alerting.evaluate import evaluate
from monitor.alerting.kinds import RULE_KINDS, RuleKind
from monitor.alerting.prometheus_export import alerting_rule
from monitor.alerting.rules import AlertsConfig, parse_alert_rules
from monitor.alerting.state import AlertState, CheckInput, RuleInput
from monitor.alerting.template import template_errors
from monitor.errors import ConfigError
from monitor.model import CheckKind, Status
from tests.alerting_fixtures import T0, H, service

ALERTING = Path(kinds_pkg.__file__).parent.parent
MODELS = {kind.model.__name__ for kind in RULE_KINDS.values()}


def accepted_kinds() -> set[str]:
    """The `kind:` values AlertsConfig validates, read from its schema."""
    schema = AlertsConfig.model_json_schema()
    return set(schema["properties"]["rules"]["items"]["discriminator"]["mapping"])


def test_every_kind_module_is_registered() -> None:
    modules = {
        m.name for m in pkgutil.iter_modules(kinds_pkg.__path__) if not m.name.startswith("_")
    }
    registered = {type(kind).__module__.rsplit(".", 1)[1] for kind in RULE_KINDS.values()}
    assert modules == registered
    assert len(set(map(id, RULE_KINDS.values()))) == len(RULE_KINDS)


def test_the_registry_and_the_config_model_agree() -> None:
    assert accepted_kinds() == set(RULE_KINDS)
    with pytest.raises(ConfigError) as caught:  # the message lists the kinds in registry order
        parse_alert_rules("rules: [{name: R, kind: nope}]\n")
    assert ", ".join(f"'{k}'" for k in RULE_KINDS) in str(caught.value)
    for name, kind in RULE_KINDS.items():
        assert kind.model.model_validate({"name": "R", "kind": name}).kind == name


@pytest.mark.parametrize("name", list(RULE_KINDS))
def test_every_kind_has_annotations_export_and_evaluation(name: str) -> None:
    kind: RuleKind[Any] = RULE_KINDS[name]
    cls = type(kind)
    assert cls.expr is not RuleKind.expr
    assert (
        cls.signals is not RuleKind.signals or cls.service_signals is not RuleKind.service_signals
    )
    assert {"summary", "description"} <= set(kind.annotations)
    for text in kind.annotations.values():
        assert template_errors(text) == []  # only known fields
    rule = RULE_KINDS[name].model.model_validate({"name": "R", "kind": name})
    exported = alerting_rule(rule, AlertsConfig(), 30.0)
    assert exported["expr"] and exported["annotations"]["summary"]
    config = parse_alert_rules(
        f"route: [log]\nreceivers: [{{name: log, type: log}}]\nrules: [{{name: R, kind: {name}}}]\n"
    )
    rpc = CheckInput("db", CheckKind.RPC, H, T0, duration_s=0.5, target_s=0.005)
    view = RuleInput({"svc": service("svc", Status.UNHEALTHY, T0, checks=[rpc])}, T0, T0)
    evaluate(config, AlertState(), view, T0)  # no kind raises NotImplementedError


def _isinstance_targets(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "isinstance" and len(node.args) == 2:
                found += [n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)]
            if node.func.id == "getattr" and node.args and isinstance(node.args[0], ast.Name):
                found.append(f"getattr({node.args[0].id})")
    return found


@pytest.mark.parametrize(
    "module", ["evaluate.py", "prometheus_export.py", "rules.py", "template.py"]
)
def test_no_dispatch_on_rule_classes(module: str) -> None:
    names = _isinstance_targets(ALERTING / module)
    rule_names = MODELS | {"HELD_RULES", "MONITOR_RULES", "SERVICE_RULES", "getattr(rule)"}
    assert not set(names) & rule_names, names


def test_the_dispatch_check_sees_an_isinstance_chain(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text(
        "def f(rule):\n"
        "    if isinstance(rule, StatusRule | LoopLagRule):\n"
        "        return getattr(rule, 'x', 0)\n"
    )
    assert _isinstance_targets(source) == ["StatusRule", "LoopLagRule", "getattr(rule)"]
