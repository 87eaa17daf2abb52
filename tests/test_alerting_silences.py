"""Run-time silences: add, match, expire, survive a restart."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.alerting.outbox import Outbox
from monitor.alerting.silences import SilenceSet
from monitor.alerting.state import Matcher
from tests.alerting_fixtures import T0

LABELS = {"alertname": "CoreServiceDown", "service": "do-db", "team": "core"}


@pytest.mark.parametrize(
    ("matchers", "silenced"),
    [
        ({"service": "do-db"}, True),
        ({"service": "auth"}, False),
        ({"service": "do-db", "team": "edge"}, False),
        ([Matcher(name="service", op="=~", value="do-.*")], True),
        ([Matcher(name="service", op="!=", value="do-db")], False),
        ([Matcher(name="team", op="!~", value="edge|web")], True),
        ({"missing": ""}, True),  # as in Alertmanager: an absent label equals ""
    ],
)
def test_matching(matchers: object, silenced: bool) -> None:
    silences = SilenceSet()
    silence = silences.add(matchers, T0, T0 + timedelta(hours=1))  # type: ignore[arg-type]
    assert silence.silences(LABELS, T0 + timedelta(minutes=5)) is silenced
    assert not silence.silences(LABELS, T0 + timedelta(hours=1))  # ends_at is exclusive


def test_add_is_idempotent_and_expire_drops_ended() -> None:
    silences = SilenceSet()
    first = silences.add({"service": "do-db"}, T0, T0 + timedelta(minutes=10))
    again = silences.add({"service": "do-db"}, T0, T0 + timedelta(minutes=10))
    later = silences.add({"service": "auth"}, T0, T0 + timedelta(hours=2))
    assert first.id == again.id and len(silences.all()) == 2
    assert silences.expire(T0 + timedelta(minutes=30)) == [first.id]
    assert [s.id for s in silences.active(T0 + timedelta(minutes=30))] == [later.id]
    assert silences.remove(later.id) and not silences.remove(later.id)


def test_refuses_an_empty_window() -> None:
    with pytest.raises(ValueError, match="after starts_at"):
        SilenceSet().add({"service": "x"}, T0, T0)


def test_silences_survive_a_restart(tmp_path: Path) -> None:
    silences = SilenceSet()
    silences.add({"service": "do-db"}, T0, T0 + timedelta(hours=1), comment="migration")
    outbox = Outbox(tmp_path / "a.db", {})
    outbox.save_silences(silences.all())
    outbox.close()
    restored = SilenceSet(Outbox(tmp_path / "a.db", {}).load_silences())
    assert restored.all() == silences.all()


def test_a_time_without_zone_is_utc() -> None:
    from monitor.alerting.state import Silence

    silence = Silence.model_validate(
        {
            "matchers": {"service": "x"},
            "starts_at": "2026-03-01T12:00:00",
            "ends_at": "2026-03-01T13:00:00",
        }
    )
    assert silence.active(T0)
