"""One root-cause story: the same graphs drive the status page's view model and the pager's
decision, and both must name the same causes (issue 13: they used to disagree)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from monitor.model import FleetStatus, Reason, ServiceStatus, Status
from monitor.web.history import FleetHistory
from monitor.web.view import page
from tests.alerting_fixtures import T0, D, H, U, rules, run

# Every failing service has a firing alert of its own, so the pager's decision is visible for
# each of them: held back by a root cause, or paged (naming a suspect, if any).
EVERY_FAILURE = """
rules:
  - name: ServiceFailing
    kind: status
    status: [degraded, unhealthy]
    route: [page]
"""
TICKS = 5  # the rule's default `for` is 3 checks
LETTER = {H: "H", D: "D", U: "U"}

Named = dict[str, tuple[str, tuple[str, ...]]]

CASES = [
    pytest.param(
        {"auth": U, "do-db": U, "disk": D},
        {"auth": ["do-db"], "do-db": ["disk"]},
        {"auth": ("root", ("do-db",)), "do-db": ("suspect", ("disk",))},
        id="issue 13: a degraded disk under a down db is a suspect, the db is the root",
    ),
    pytest.param(
        {"gw": U, "auth": U, "db": U},
        {"gw": ["auth"], "auth": ["db"]},
        {"gw": ("root", ("db",)), "auth": ("root", ("db",))},
        id="down all the way: the deepest down service",
    ),
    pytest.param(
        {"auth": U, "db": D, "disk": D},
        {"auth": ["db"], "db": ["disk"]},
        {"auth": ("suspect", ("db",)), "db": ("root", ("disk",))},
        id="degraded only: a suspect for the down service, a root for the degraded one",
    ),
    pytest.param(
        {"web": D, "db": U},
        {"web": ["db"]},
        {"web": ("root", ("db",))},
        id="down explains degraded",
    ),
    pytest.param(
        {"a": U, "b": U},
        {"a": ["b"], "b": ["a"]},
        {},
        id="a cycle: both page, neither holds the other back",
    ),
    pytest.param(
        {"a": U, "b": U, "c": U},
        {"a": ["b"], "b": ["c"], "c": ["b"]},
        {"a": ("root", ("b", "c"))},
        id="behind a cycle: the cycle is named whole",
    ),
    pytest.param(
        {"a": U, "b": D},
        {"a": ["b"], "b": ["a"]},
        {"b": ("root", ("a",))},
        id="a cycle of a down and a degraded service: the down one",
    ),
    pytest.param(
        {"gw": U, "a": U, "b": U, "db": U},
        {"gw": ["a", "b"], "a": ["db"], "b": ["db"]},
        {"gw": ("root", ("db",)), "a": ("root", ("db",)), "b": ("root", ("db",))},
        id="diamond: the shared root once",
    ),
    pytest.param(
        {"gw": U, "a": U, "b": U},
        {"gw": ["a", "b"]},
        {"gw": ("root", ("a", "b"))},
        id="several roots, in declared order",
    ),
    pytest.param(
        {"gw": D, "a": U, "b": D},
        {"gw": ["a", "b"]},
        {"gw": ("root", ("a", "b"))},
        id="several roots of mixed status",
    ),
    pytest.param(
        {"a": U, "b": H, "c": U},
        {"a": ["b"], "b": ["c"]},
        {},
        id="a healthy link breaks the chain",
    ),
    pytest.param({"a": U}, {"a": ["ghost"]}, {}, id="a dependency not monitored is ignored"),
]


def page_names(statuses: Mapping[str, Status], depends: Mapping[str, Sequence[str]]) -> Named:
    services = [
        ServiceStatus(
            name=n,
            status=s,
            reason=Reason.OK if s is H else Reason.TIMEOUT,
            detail="",
            url="http://x",
            depends_on=list(depends.get(n, ())),
        )
        for n, s in statuses.items()
    ]
    fleet = FleetStatus(status=U, generated_at=T0, counts={}, services=services)
    view = page(fleet, FleetHistory({}, []), T0, 30)
    return {r.name: (r.cause.kind, r.cause.services) for r in view.rows if r.cause}


def pager_names(
    statuses: Mapping[str, Status], depends: Mapping[str, Sequence[str]]
) -> tuple[Named, set[str], dict[str, str]]:
    """What the pager names per service, who it pages, and each alert's `likely_cause_of`."""
    timeline = {n: LETTER[s] * TICKS for n, s in statuses.items()}
    events, state = run(rules(EVERY_FAILURE), timeline, depends=depends)
    named: Named = {}
    cause_of: dict[str, str] = {}
    for rec in state.alerts.values():
        service = rec.labels["service"]
        if "likely_cause_of" in rec.annotations:
            cause_of[service] = rec.annotations["likely_cause_of"]
        held = rec.suppressed_by or ""
        cause = rec.annotations.get("likely_cause", "")
        if held.startswith("dependency:"):
            named[service] = ("root", tuple(held.removeprefix("dependency:").split(",")))
            assert cause.startswith(named[service][1][0])
        elif cause:
            parts = [p.removeprefix("depends on ").split()[0] for p in cause.split("; ")]
            named[service] = ("suspect", tuple(parts))
    paged = {service for _, kind, _, service in events if kind == "firing"}
    return named, paged, cause_of


@pytest.mark.parametrize(("statuses", "depends", "expected"), CASES)
def test_page_and_pager_name_the_same_causes(
    statuses: Mapping[str, Status],
    depends: Mapping[str, Sequence[str]],
    expected: Named,
) -> None:
    pager, paged, cause_of = pager_names(statuses, depends)
    assert page_names(statuses, depends) == expected
    assert pager == expected
    explained: dict[str, list[str]] = {}
    for name, (kind, found) in expected.items():
        for root in found if kind == "root" else ():
            explained.setdefault(root, []).append(name)
    assert cause_of == {root: ", ".join(sorted(names)) for root, names in explained.items()}
    failing = {n for n, s in statuses.items() if s is not H}
    held_back = {n for n, (kind, _) in expected.items() if kind == "root"}
    assert paged == failing - held_back
    assert paged or not failing  # an outage always pages somebody


def test_the_page_words_the_issue_13_case() -> None:
    services = {"auth": U, "do-db": U, "disk": D}
    depends = {"auth": ["do-db"], "do-db": ["disk"]}
    fleet = FleetStatus(
        status=U,
        generated_at=T0,
        counts={},
        services=[
            ServiceStatus(
                name=n,
                status=s,
                reason=Reason.TIMEOUT,
                detail="",
                url="http://x",
                depends_on=depends.get(n, []),
            )
            for n, s in services.items()
        ],
    )
    rows = {r.name: r for r in page(fleet, FleetHistory({}, []), T0, 30).rows}
    assert rows["auth"].cause is not None and rows["do-db"].cause is not None
    assert rows["auth"].cause.text == "Likely caused by do-db, which is down"
    assert rows["do-db"].cause.text == "Depends on disk, which is degraded"
    assert rows["disk"].cause is None
