"""Dependency-aware paging: inhibit dependents of a failing dependency, name them, never hold
back a resolve, never hang on a cycle."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from monitor.alerting import dependencies
from monitor.alerting.evaluate import evaluate
from monitor.alerting.state import Phase, RuleInput, ServiceInput
from monitor.model import Status
from tests.alerting_fixtures import INTERVAL, SEED_DEPENDS, T0, D, H, U, rules, run, service

STATUS = """
rules:
  - name: ServiceDown
    kind: status
    status: [unhealthy]
    route: [page]
"""


def fleet(
    statuses: Mapping[str, Status], depends: Mapping[str, Sequence[str]]
) -> dict[str, ServiceInput]:
    return {
        n: service(n, s, T0, since=T0, depends_on=depends.get(n, ())) for n, s in statuses.items()
    }


def test_a_degraded_dependency_explains_a_healthy_services_latency_alert() -> None:
    """Only a failing service is explained on the page, but a healthy service's latency or
    burn-rate alert is held back by a failing dependency (the table: tests/test_root_cause.py)."""
    services = fleet({"do-db": D, "auth": H, "do-gateway": U}, SEED_DEPENDS)
    explained = dependencies.explain(services)
    assert [c.service for c in explained["auth"].roots] == ["do-db"]
    assert [c.service for c in explained["do-gateway"].suspects] == ["do-db"]
    assert dependencies.affected_dependents(explained, services) == {}


def test_cause_is_described_with_status_and_time() -> None:
    explained = dependencies.explain(fleet({"do-db": U, "auth": U}, SEED_DEPENDS))
    assert explained["auth"].describe() == "do-db unhealthy since 12:00"


def test_a_suspect_is_described_as_what_the_service_depends_on() -> None:
    explained = dependencies.explain(fleet({"do-db": D, "auth": U}, SEED_DEPENDS))
    assert explained["auth"].roots == ()
    assert explained["auth"].describe() == "depends on do-db degraded since 12:00"


def test_a_degraded_dependency_never_holds_back_a_down_services_page() -> None:
    events, state = run(rules(STATUS), {"do-db": "DDDDD", "auth": "UUUUU"}, depends=SEED_DEPENDS)
    assert events == [(2, "firing", "ServiceDown", "auth")]
    (record,) = state.alerts.values()
    assert record.suppressed_by is None
    assert record.annotations["likely_cause"] == "depends on do-db degraded since 12:00"


def test_db_down_pages_once_for_db_and_names_its_dependents() -> None:
    events, state = run(
        rules(STATUS),
        {"do-db": "HUUUU", "auth": "HUUUU", "do-gateway": "HHUUUU"},
        depends=SEED_DEPENDS,
    )
    assert events == [(3, "firing", "ServiceDown", "do-db")]
    records = {r.labels["service"]: r for r in state.alerts.values()}
    assert records["do-db"].annotations["likely_cause_of"] == "auth, do-gateway"
    assert records["auth"].phase is Phase.FIRING  # still monitored, just not paged
    assert records["auth"].suppressed_by == "dependency:do-db"
    assert records["auth"].annotations["likely_cause"] == "do-db unhealthy since 12:00"


def test_a_dependent_still_failing_pages_once_the_dependency_recovers() -> None:
    events, _ = run(rules(STATUS), {"do-db": "UUUUHHH", "auth": "UUUUUUU"}, depends=SEED_DEPENDS)
    assert events == [
        (2, "firing", "ServiceDown", "do-db"),
        (4, "firing", "ServiceDown", "auth"),
        (5, "resolved", "ServiceDown", "do-db"),
    ]


def test_suppression_never_holds_back_a_resolve() -> None:
    config = rules(STATUS)
    events, state = run(config, {"do-db": "HHHH", "auth": "UUUU"}, depends=SEED_DEPENDS)
    assert events == [(2, "firing", "ServiceDown", "auth")]
    # do-db goes down while auth recovers: auth's resolve must still go out
    out = []
    for tick, (db, auth) in enumerate([(U, H), (U, H)], start=4):
        now = T0 + tick * INTERVAL
        view = RuleInput(
            {
                "do-db": service("do-db", db, now),
                "auth": service("auth", auth, now, depends_on=["do-db"]),
            },
            T0,
            now,
        )
        state, got = evaluate(config, state, view, now)
        out += [(tick, e.kind, e.labels["service"]) for e in got]
    assert out == [(5, "resolved", "auth")]


def test_every_three_service_graph_pages_somebody_and_never_holds_a_root_back() -> None:
    """All 64 dependency graphs of three services under all 27 statuses: a root cause is never
    held back itself, a cause fails at least as badly, and a failure always pages someone."""
    names = ("a", "b", "c")
    pairs = [(x, y) for x in names for y in names if x != y]
    severity = {H: 0, D: 1, U: 2}
    for mask in range(2 ** len(pairs)):
        depends = {
            n: [y for i, (x, y) in enumerate(pairs) if x == n and mask >> i & 1] for n in names
        }
        for combo in itertools.product((H, D, U), repeat=3):
            services = fleet(dict(zip(names, combo, strict=True)), depends)
            explained = dependencies.explain(services)
            roots = {n: {c.service for c in why.roots} for n, why in explained.items()}
            for name, found in roots.items():
                for root in found:
                    assert not roots.get(root), (depends, combo, name)
                    assert severity[services[root].status] >= severity[services[name].status]
            failing = [n for n in names if services[n].status is not H]
            assert not failing or any(not roots.get(n) for n in failing), (depends, combo)
