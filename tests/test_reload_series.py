"""A reload reconfigures the series of the checks whose target or `metrics:` mode changed,
and of their services, and only those: a reload that changes every interval (100,000
checks) leaves every series as it was."""

from __future__ import annotations

from monitor.config import parse_config
from monitor.runtime.daemon import Monitor
from tests.big_fleet import QUIET

BEFORE = """
services:
  - {name: a, url: "http://127.0.0.1:9"}
  - {name: b, url: "http://127.0.0.1:9", rpc: [{name: db, path: /db, target: 5ms}]}
  - {name: c, url: "http://127.0.0.1:9", metrics: detailed}
"""


def text(monitor: Monitor) -> str:
    """The per-check and per-service series (not the process's own, which move by themselves)."""
    lines = b"".join(monitor.metrics.render()).decode().splitlines()
    return "\n".join(line for line in lines if 'service="' in line)


def test_a_reload_restyles_what_changed_and_nothing_else() -> None:
    monitor = Monitor(parse_config(BEFORE), logger=QUIET)
    after = BEFORE.replace(
        'name: a, url: "http://127.0.0.1:9"',
        'name: a, url: "http://127.0.0.1:9", metrics: detailed',
    ).replace("target: 5ms", "target: 7ms")
    counts = monitor.apply_config(parse_config(after))
    assert counts == {"added": 0, "removed": 0, "changed": 2}
    out = text(monitor)
    assert (
        'monitor_check_reason{check="health",kind="health",reason="not_checked",service="a"}' in out
    )
    assert 'monitor_service_status{service="a",status="healthy"} 0.0' in out  # detailed
    assert (
        'monitor_check_latency_target_seconds{bucket="0.007",check="db",kind="rpc",service="b"}'
        in out
    )
    assert 'monitor_service_status{service="b",status="healthy"}' not in out  # lean
    assert 'monitor_service_status{service="c",status="healthy"} 0.0' in out
    unchanged = text(monitor)
    monitor.apply_config(
        parse_config(after.replace("services:", "defaults: {interval: 9s}\nservices:"))
    )
    assert text(monitor) == unchanged  # every check changed, no series did
