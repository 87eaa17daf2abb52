"""What a big fleet's page folds (summary.py), the change journal its live updates read
(journal.py), merged uptime bars and deploys on the timeline (view.py). Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerting.maintenance import Deploy
from monitor.config import ServiceConfig
from monitor.http.service_index import NO_TEAM, ServiceIndex
from monitor.model import Status
from monitor.web.history import BUCKET_WIDTH, Bucket, bucket_starts
from monitor.web.journal import ChangeJournal
from monitor.web.summary import FOLD_ABOVE, MAX_CARDS, summarize
from monitor.web.timeline import bars, deploy_marks, deploy_text

H, D, U, K = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY, Status.UNKNOWN
NOW = datetime(2026, 11, 30, 13, 7, tzinfo=UTC)


def fleet(n: int, team: str | None = "core") -> ServiceIndex:
    return ServiceIndex(
        [ServiceConfig(name=f"s{i:05d}", url=f"http://x/{i}", team=team) for i in range(n)]
    )


@pytest.mark.parametrize(("n", "folded"), [(FOLD_ABOVE, False), (FOLD_ABOVE + 1, True)])
def test_a_fleet_is_folded_only_above_the_threshold(n: int, folded: bool) -> None:
    statuses = [H] * n
    statuses[3] = U
    summary = summarize(fleet(n), statuses)
    assert summary.folded is folded
    assert summary.attention == 1
    assert summary.counts == {H: n - 1, U: 1, D: 0, K: 0}
    assert summary.status is U
    if folded:
        assert summary.shown == ["s00003"]  # healthy services are counts, not cards
    else:
        assert len(summary.shown) == n  # the small case: every service in full, in order
        assert summary.shown[:2] == ["s00000", "s00001"] and summary.teams == []


def test_cards_come_worst_first_in_config_order_and_are_capped() -> None:
    n = 1000
    statuses = [H] * n
    for i in (900, 5):
        statuses[i] = K
    for i in (700, 20):
        statuses[i] = D
    for i in range(400, 400 + MAX_CARDS):  # more down than fit
        statuses[i] = U
    summary = summarize(fleet(n), statuses)
    assert summary.attention == MAX_CARDS + 4
    assert len(summary.shown) == MAX_CARDS
    assert summary.shown[0] == "s00400" and summary.shown[-1] == f"s{400 + MAX_CARDS - 1:05d}"
    statuses[400 + MAX_CARDS - 1] = H  # one slot left: the first degraded, in config order
    assert summarize(fleet(n), statuses).shown[-1] == "s00020"


def test_teams_biggest_first_with_their_healthy_counts_and_the_rest_counted() -> None:
    services = [
        ServiceConfig(name=f"s{i}", url="http://x", team=team)
        for i, team in enumerate(["a"] * 3 + ["b"] * 5 + ["c"] * 3 + [None] * 60)
    ]
    statuses = [H] * len(services)
    statuses[0] = U  # team a: 2 of 3 healthy
    summary = summarize(ServiceIndex(services), statuses, max_teams=3)
    got = [(t.team, t.healthy, t.total) for t in summary.teams]
    assert got == [(NO_TEAM, 60, 60), ("b", 5, 5), ("a", 2, 3)]  # a before c: same size, name
    assert summary.more_teams == 1


def test_the_journal_numbers_changes_and_a_page_gets_each_service_once() -> None:
    journal = ChangeJournal()
    names = ["a", "b", "c"]
    assert journal.record(names, [H, H, H]) == 0
    assert journal.since(0) == []
    assert journal.record(names, [U, H, H]) == 1
    assert journal.record(names, [U, H, H]) == 1  # nothing new, no new number
    assert journal.record(names, [H, D, H]) == 2
    assert journal.since(0) == ["a", "b"]  # a twice, once
    assert journal.since(1) == ["a", "b"]
    assert journal.since(2) == []
    assert journal.since(3) is None  # a page from before a restart: reset


def test_the_journal_is_bounded_and_a_page_it_no_longer_reaches_resets() -> None:
    journal = ChangeJournal(keep=4)
    names = [f"s{i}" for i in range(6)]
    journal.record(names, [H] * 6)
    journal.record(names, [U, U, H, H, H, H])  # seq 1: two entries
    journal.record(names, [U, U, U, U, U, H])  # seq 2: three entries, the log holds 4
    assert journal.since(0) is None  # seq 1's entries are partly gone
    assert journal.since(1) == ["s2", "s3", "s4"]
    assert len(journal._log) == 4


def test_a_page_from_before_a_restart_resets() -> None:
    before, after = ChangeJournal(start=1_000), ChangeJournal(start=5_000_000)
    for journal in (before, after):
        journal.record(["a"], [H])
        journal.record(["a"], [U])
    assert before.since(1_000) == ["a"] and after.since(5_000_000) == ["a"]
    assert after.since(1_001) is None  # another journal's number: reset
    assert before.since(5_000_001) is None


def test_the_journal_follows_a_reload_that_adds_and_removes_services() -> None:
    journal = ChangeJournal()
    journal.record(["a", "b"], [H, U])
    assert journal.record(["b", "c"], [U, H]) == 1
    assert journal.since(0) == ["c", "a"]  # c came, a went; b did not change


def buckets_of(*statuses: Status | None) -> list[Bucket]:
    starts = bucket_starts(NOW)[-len(statuses) :]
    return [Bucket(s, s + BUCKET_WIDTH, st) for s, st in zip(starts, statuses, strict=True)]


def test_merged_bars_are_runs_placed_where_the_slices_were() -> None:
    got = bars(buckets_of(None, H, H, H, U, H), merge=True)
    assert [(b.css, b.x, b.width) for b in got] == [
        ("none", 0, 4),
        ("healthy", 5, 14),
        ("unhealthy", 20, 4),
        ("healthy", 25, 4),
    ]
    assert got[1].title == "12:00 to 12:48 UTC (48 min): Healthy"
    sliced = bars(buckets_of(None, H, H), merge=False)
    assert [(b.x, b.width) for b in sliced] == [(0, 4), (5, 4), (10, 4)]
    assert sliced[1].title == "12:48 to 13:04 UTC: Healthy"


def test_deploys_are_marked_on_their_service_s_bar_only() -> None:
    first = bucket_starts(NOW)[0]
    ours = Deploy(
        id="1",
        services=("auth", "queue"),
        version="4f2a9c1",
        started_at=first + 10 * BUCKET_WIDTH + BUCKET_WIDTH / 2,
        passed=True,
    )
    other = Deploy(id="2", services=("email",), version="1", started_at=NOW)
    old = Deploy(id="3", services=("auth",), version="0", started_at=first - timedelta(hours=1))
    (mark,) = deploy_marks([other, old, ours], "auth", NOW)
    assert mark.x == 52.5  # slice 10 (x 50), half way through it
    assert mark.title == "Deploy 4f2a9c1 at 16:08 UTC, gate passed"  # 13:20 + 10.5 slices
    assert mark.passed is True
    assert deploy_text(other) == "Deploy 1 at 13:07 UTC, gate running"
    failed = Deploy(id="4", services=("a",), version="2", started_at=NOW, passed=False)
    assert deploy_text(failed).endswith("gate failed")
