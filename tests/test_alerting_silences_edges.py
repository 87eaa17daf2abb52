"""Run-time silences at their edges: the defaults an API call gets, the exact refusal, an id
that must not change between versions (it is stored in the outbox and used to delete), and a
silence that ends exactly now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerting.silences import SilenceSet

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_an_api_silence_has_no_comment_and_says_who_made_it() -> None:
    silence = SilenceSet().add({"service": "queue"}, T0, T0 + HOUR)
    assert (silence.comment, silence.created_by) == ("", "api")


def test_comment_and_author_are_kept() -> None:
    silence = SilenceSet().add(
        {"service": "queue"}, T0, T0 + HOUR, comment="deploy", created_by="ops"
    )
    assert (silence.comment, silence.created_by) == ("deploy", "ops")


def test_ids_are_stable_across_versions() -> None:
    """Fixed values: a silence stored by the previous version must keep its id."""
    silences = SilenceSet()
    assert silences.add({"service": "queue"}, T0, T0 + HOUR).id == "api-3fb3ca56012a"
    by_file = silences.add({"service": "queue"}, T0, T0 + HOUR, created_by="file")
    assert by_file.id == "api-4dd262b02117", "the author is part of the id"


def test_an_empty_window_is_refused_with_its_reason() -> None:
    with pytest.raises(ValueError) as caught:
        SilenceSet().add({"service": "x"}, T0, T0 - timedelta(seconds=1))
    assert str(caught.value) == "ends_at must be after starts_at"


def test_a_silence_ending_now_is_expired_and_one_ending_later_is_not() -> None:
    silences = SilenceSet()
    ends_now = silences.add({"service": "a"}, T0 - HOUR, T0)
    later = silences.add({"service": "b"}, T0 - HOUR, T0 + timedelta(microseconds=1))
    assert silences.expire(T0) == [ends_now.id]
    assert [s.id for s in silences.all()] == [later.id]
