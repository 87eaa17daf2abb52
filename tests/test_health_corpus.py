"""Every real answer in the corpus gets the verdict an operator reads in it at a glance."""

from __future__ import annotations

import pytest

from monitor.normalize import explain, normalize_response
from tests.health_corpus import CorpusRow, load_corpus, load_split

ROWS = load_corpus()


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_corpus_answer(row: CorpusRow) -> None:
    verdict = normalize_response(row.answer)
    assert verdict.status is row.health, f"{verdict.reason.value}: {verdict.detail}"
    if row.reason is not None:
        assert verdict.reason is row.reason, verdict.detail
    assert verdict.detail


def test_corpus_is_broad_enough() -> None:
    products = {row.product for row in ROWS}
    assert len(ROWS) >= 80 and len(products) >= 40


def test_split_covers_every_product_once() -> None:
    split = load_split()
    build, holdout = set(split["build"]), set(split["holdout"])
    assert not build & holdout
    assert build | holdout == {row.product for row in ROWS}


@pytest.mark.parametrize("row", ROWS[::7], ids=[row.id for row in ROWS[::7]])
def test_explain_says_what_was_read(row: CorpusRow) -> None:
    got = explain(row.answer)
    assert got.verdict == normalize_response(row.answer)
    assert got.read and got.why and got.decided_by
