"""The corpus of real health answers (tests/fixtures/health_corpus/, one file per product family)
and a scorer for the hold-out check: `python -m tests.health_corpus [build|holdout]`.

Each row is data quoted from a product's own docs or source, with what an operator reads in it
at a glance. The corpus tests the parsers; it is never read by them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from monitor.answer import Answer
from monitor.model import Reason, Status

HERE = Path(__file__).parent / "fixtures"
CORPUS_DIR = HERE / "health_corpus"
SPLIT_FILE = HERE / "health_corpus_split.yaml"
_FIELDS = {"product", "source", "status", "content_type", "headers", "body", "health", "reason"}


@dataclass(frozen=True)
class CorpusRow:
    family: str
    index: int
    product: str
    source: str
    answer: Answer
    health: Status
    reason: Reason | None

    @property
    def id(self) -> str:
        return f"{self.family}:{self.index}:{self.product}"


def _row(family: str, index: int, raw: dict[str, Any]) -> CorpusRow:
    unknown = set(raw) - _FIELDS
    if unknown or not raw.get("source") or not raw.get("product"):
        raise ValueError(f"{family}.yaml row {index}: bad fields {sorted(unknown)} or no source")
    headers = {str(k).lower(): str(v) for k, v in (raw.get("headers") or {}).items()}
    if raw.get("content_type"):
        headers["content-type"] = raw["content_type"]
    answer = Answer(
        url="http://svc.test/health",
        status_code=int(raw["status"]),
        headers=headers,
        body=str(raw.get("body") or "").encode(),
    )
    reason = Reason(raw["reason"]) if raw.get("reason") else None
    return CorpusRow(
        family, index, raw["product"], raw["source"], answer, Status(raw["health"]), reason
    )


def load_corpus() -> list[CorpusRow]:
    rows = []
    for path in sorted(CORPUS_DIR.glob("*.yaml")):
        for index, raw in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))):
            rows.append(_row(path.stem, index, raw))
    return rows


def load_split() -> dict[str, list[str]]:
    split: dict[str, list[str]] = yaml.safe_load(SPLIT_FILE.read_text(encoding="utf-8"))
    return split


def score(half: str | None = None) -> tuple[int, int, list[str]]:
    """(right, total, ids of the wrong rows) for `build`, `holdout`, or all rows."""
    from monitor.normalize import normalize_response

    products = set(load_split()[half]) if half else None
    right, total, wrong = 0, 0, []
    for row in load_corpus():
        if products is not None and row.product not in products:
            continue
        total += 1
        verdict = normalize_response(row.answer)
        ok = verdict.status is row.health and (row.reason is None or verdict.reason is row.reason)
        if ok:
            right += 1
        else:
            wrong.append(f"{row.id}: got {verdict.status.value}/{verdict.reason.value}")
    return right, total, wrong


if __name__ == "__main__":
    half = sys.argv[1] if len(sys.argv) > 1 else None
    right, total, wrong = score(half)
    print(f"{half or 'all'}: {right}/{total} right")
    for line in wrong:
        print("  wrong", line)
