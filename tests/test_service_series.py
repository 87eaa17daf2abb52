"""Services declared in bulk (a start-up's 100,000 at once) export exactly what declaring
them one by one does: a new slot per service, freed slots reused, known ones back to
unknown, `detailed` only for the services named."""

from __future__ import annotations

from monitor.metrics.check_series import CheckSeries
from monitor.metrics.daemon_metrics import LATENCY_BUCKETS
from monitor.metrics.exposition import text_chunks
from monitor.model import Status


def text(series: CheckSeries) -> list[str]:
    return sorted(b"".join(text_chunks(series)).decode().splitlines())


def one_by_one(steps: list[tuple[list[str], set[str], list[str]]]) -> CheckSeries:
    series = CheckSeries(LATENCY_BUCKETS)
    for declared, detailed, forgotten in steps:
        for name in declared:
            series.declare_service(name, name in detailed)
        for name in forgotten:
            series.forget_service(name)
        if "b" in declared:
            series.observe_service("b", Status.HEALTHY)
    return series


def in_bulk(steps: list[tuple[list[str], set[str], list[str]]]) -> CheckSeries:
    series = CheckSeries(LATENCY_BUCKETS)
    for declared, detailed, forgotten in steps:
        series.declare_services(declared, detailed)
        for name in forgotten:
            series.forget_service(name)
        if "b" in declared:
            series.observe_service("b", Status.HEALTHY)
    return series


def test_bulk_declaration_exports_what_one_by_one_does() -> None:
    steps = [
        (["a", "b", "c", "a"], {"c", "not-declared"}, ["a"]),  # a duplicate, a stray detailed
        (["d", "b"], set(), []),  # d takes a's freed slot; b, known, back to unknown and lean
        (["e", "f"], {"f"}, []),  # no free slot left: the arrays grow
    ]
    bulk, single = in_bulk(steps), one_by_one(steps)
    assert text(bulk) == text(single)
    assert 'monitor_service_status{service="f",status="healthy"} 0.0' in text(bulk)
    assert not any('service="a"' in line for line in text(bulk))
    assert not any('service="not-declared"' in line for line in text(bulk))
    assert bulk._services == single._services  # the same slots
