"""`monitor explain`: a real probe of a loopback service, the parser that decided, exit codes."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from monitor.simulator import SimulatedFleet

MONITOR = [sys.executable, "-m", "monitor"]


async def run_cli(*args: str) -> tuple[int, str, str]:
    """The command in a child process, while this loop keeps serving the fleet."""
    proc = await asyncio.create_subprocess_exec(
        *MONITOR, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_healthy_answer_names_its_parser_and_exits_0(fleet: SimulatedFleet) -> None:
    code, out, _ = await run_cli("explain", fleet.url("do-gateway") + "/health", "--json")
    assert code == 0
    got = json.loads(out)
    assert got["check"] == "explain/health/health"
    assert (got["status"], got["reason"]) == ("healthy", "ok")
    assert got["decided_by"] == "generic_json"
    assert got["read"] == "status='healthy'"  # the field the verdict rests on
    assert set(got) >= {"reason", "why", "declined", "failed", "evidence", "http_status"}


async def test_a_degraded_report_exits_1_and_says_what_it_read(fleet: SimulatedFleet) -> None:
    code, out, _ = await run_cli("explain", fleet.url("do-db") + "/health")
    assert code == 1
    assert "verdict:    degraded (reported_degraded)" in out
    assert "decided by: generic_json" in out
    assert "read:       status='degraded'" in out


async def test_a_worker_exception_page_is_decided_before_the_json_parsers(
    fleet: SimulatedFleet,
) -> None:
    code, out, _ = await run_cli("explain", fleet.url("auth") + "/health", "--json")
    assert code == 1
    got = json.loads(out)
    assert (got["status"], got["reason"], got["decided_by"]) == (
        "unhealthy",
        "worker_exception",
        "cloudflare",
    )
    assert "transport" in got["declined"]  # the parsers before it said "not mine"


@pytest.mark.parametrize(
    "args",
    [
        ("explain",),  # neither a URL nor --config
        ("explain", "ftp://127.0.0.1/health"),
        ("explain", "http://127.0.0.1:1/health", "--header", "no-colon"),
        ("explain", "http://127.0.0.1:1/health", "--config", "monitor.yaml"),
    ],
)
async def test_bad_usage_exits_2(args: tuple[str, ...]) -> None:
    code, _, err = await run_cli(*args)
    assert code == 2, err
