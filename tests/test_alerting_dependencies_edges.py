"""Root causes at the edges of the graph: a chain three deep, a dependency reached twice, an
unmonitored dependency, every service that has a root named, and the exact annotation words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.alerting.dependencies import Cause, Explanation, explain
from monitor.model import Status

T9 = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)
DOWN, SLOW = Status.UNHEALTHY, Status.DEGRADED


@dataclass(frozen=True)
class Svc:
    status: Status
    depends_on: Sequence[str] = ()
    since: datetime | None = None


def roots(services: dict[str, Svc]) -> dict[str, list[str]]:
    return {name: [c.service for c in why.roots] for name, why in explain(services).items()}


def test_a_chain_three_deep_ends_at_its_last_failing_link() -> None:
    services = {"gw": Svc(DOWN, ["auth"]), "auth": Svc(DOWN, ["db"]), "db": Svc(DOWN)}
    assert roots(services) == {"gw": ["db"], "auth": ["db"]}


def test_a_dependency_reached_twice_does_not_hide_the_ones_after_it() -> None:
    services = {
        "gw": Svc(DOWN, ["auth", "db", "queue"]),
        "auth": Svc(DOWN, ["db"]),
        "db": Svc(DOWN),
        "queue": Svc(DOWN),
    }
    assert roots(services) == {"gw": ["db", "queue"], "auth": ["db"]}


def test_every_service_with_a_root_is_explained() -> None:
    services = {
        "auth": Svc(DOWN, ["db"]),
        "gw": Svc(DOWN, ["db"]),
        "mail": Svc(DOWN, ["smtp"]),
        "db": Svc(DOWN),
        "smtp": Svc(SLOW),
    }
    explained = explain(services)
    assert roots(services) == {"auth": ["db"], "gw": ["db"], "mail": []}
    assert [c.service for c in explained["mail"].suspects] == ["smtp"]


def test_an_unmonitored_dependency_is_ignored() -> None:
    assert explain({"gw": Svc(SLOW, ["ghost"]), "auth": Svc(DOWN, ["ghost"])}) == {}


def test_annotation_words() -> None:
    db = Cause("do-db", DOWN, T9)
    queue = Cause("queue", SLOW, None)
    assert queue.describe() == "queue degraded"
    assert Explanation(roots=(db, queue)).describe() == (
        "do-db unhealthy since 09:05; queue degraded"
    )
    assert Explanation(suspects=(db, queue)).describe() == (
        "depends on do-db unhealthy since 09:05; depends on queue degraded"
    )


def test_a_healthy_service_first_does_not_end_the_search_for_suspects() -> None:
    services = {"web": Svc(Status.HEALTHY), "mail": Svc(DOWN, ["smtp"]), "smtp": Svc(SLOW)}
    explained = explain(services)
    assert list(explained) == ["mail"]
    assert [c.service for c in explained["mail"].suspects] == ["smtp"]
