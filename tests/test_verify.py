"""The deploy gate end to end: `monitor verify` and `monitor discover` as a pipeline runs them
(a subprocess, exit codes, files), against the simulated fleet on loopback; and the pieces of
`monitor.gate.rounds` that are data in, data out."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import json5
import pytest
from aiohttp import web

from monitor.config import parse_config
from monitor.gate.rounds import (
    GateUsageError,
    Verifier,
    VerifyOptions,
    combine,
    parse_label,
    percentile,
    select,
    summarize,
    verify,
)
from monitor.model import Reason, Status, Verdict
from monitor.simulator import (
    Behavior,
    Latency,
    SimService,
    SimulatedFleet,
    fleet_config_yaml,
    healthy_fleet,
)
from monitor.simulator.fleet import WORKER_EXCEPTION
from tests.loopback import serving
from tests.test_cli import invoke
from tests.test_daemon import SEED_TABLE

FIXTURES = Path(__file__).parent / "fixtures" / "workers"
SEED_FAILING = {name: v for name, v in SEED_TABLE.items() if v[0] is not Status.HEALTHY}
OK_JSON = '{"status":"ok"}'


async def monitor_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 30
) -> tuple[int, str, str]:
    """`python -m monitor ...` without blocking the loop the simulated fleet answers on."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "GITHUB_ACTIONS": "", **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def write_config(tmp_path: Path, fleet: SimulatedFleet) -> str:
    path = tmp_path / "monitor.yaml"
    path.write_text(fleet_config_yaml(fleet))
    return str(path)


@pytest.fixture
async def healthy() -> AsyncIterator[SimulatedFleet]:
    async with SimulatedFleet(healthy_fleet()) as running:
        yield running


# --- the gate against the simulated fleet --------------------------------------------------


async def test_healthy_fleet_passes(healthy: SimulatedFleet, tmp_path: Path) -> None:
    code, out, err = await monitor_cli(
        "verify", "--config", write_config(tmp_path, healthy), "--samples", "20"
    )
    assert code == 0, out + err
    assert "do-gateway       healthy  ok" in out
    assert out.rstrip().endswith("deploy gate: OK (10 services pass)")
    assert "verify: round 1: 10/10 pass" in err


async def test_seed_fleet_fails_naming_each_service_and_reason(
    fleet: SimulatedFleet, tmp_path: Path
) -> None:
    code, out, err = await monitor_cli("verify", "--config", write_config(tmp_path, fleet))
    assert code == 1, err
    assert "round 1:" in err and "round 2:" not in err, "without --wait it checks once"
    failed = {
        line.split(":")[0].removeprefix("FAIL ")
        for line in out.splitlines()
        if line.startswith("FAIL ")
    }
    assert failed == set(SEED_FAILING) == {"auth", "do-mcp", "email", "do-db", "webhooks"}
    for name, (status, reason) in SEED_FAILING.items():
        assert f"FAIL {name}: not healthy: {status.value} ({reason.value})" in out
    assert "deploy gate: FAILED (5 of 10 services fail)" in out


async def test_json_has_the_status_fields_plus_ok(fleet: SimulatedFleet, tmp_path: Path) -> None:
    code, out, _ = await monitor_cli("verify", "--config", write_config(tmp_path, fleet), "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["exit_code"] == 1
    for service in data["services"]:
        assert {"name", "status", "reason", "detail", "ok"} <= set(service)
    got = {s["name"]: (s["status"], s["reason"], s["ok"]) for s in data["services"]}
    assert got == {
        name: (status.value, reason.value, status is Status.HEALTHY)
        for name, (status, reason) in SEED_TABLE.items()
    }


async def test_junit_has_one_case_per_service_and_check(
    fleet: SimulatedFleet, tmp_path: Path
) -> None:
    junit = tmp_path / "verify.xml"
    code, _, _ = await monitor_cli(
        "verify", "--config", write_config(tmp_path, fleet), "--junit", str(junit)
    )
    assert code == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case.find("failure") for case in suite.iter("testcase")}
    services = {name: failure for name, failure in cases.items() if name and " " not in name}
    assert set(services) == set(SEED_TABLE)
    assert {n for n, f in services.items() if f is not None} == set(SEED_FAILING)
    auth = services["auth"]
    assert auth is not None and "worker_exception" in (auth.get("message") or "")
    assert "do-gateway rpc/db" in cases and cases["do-gateway rpc/db"] is None
    checks = len(parse_config(Path(write_config(tmp_path, fleet)).read_text()).checks())
    assert suite.get("tests") == str(len(SEED_TABLE) + checks)  # one per service and check
    assert suite.get("failures") == str(2 * len(SEED_FAILING))


def turns_healthy_after(seconds: float) -> Behavior:
    healthy = Behavior(body=OK_JSON, latency=Latency(0.002, 0.004))
    return Behavior(
        status=WORKER_EXCEPTION.status,
        body=WORKER_EXCEPTION.body,
        content_type=WORKER_EXCEPTION.content_type,
        then=healthy,
        then_after=seconds,
    )


@pytest.mark.parametrize(("wait", "code"), [("60s", 0), ("0s", 1)])
async def test_wait_rechecks_a_service_warming_up(
    fleet: SimulatedFleet, tmp_path: Path, wait: str, code: int
) -> None:
    fleet.set_behavior("auth", turns_healthy_after(2.0))
    started = time.monotonic()
    got, out, err = await monitor_cli(
        "verify", "--config", write_config(tmp_path, fleet), "--service", "auth", "--wait", wait
    )
    elapsed = time.monotonic() - started
    assert got == code, out + err
    assert "verify: round 1: 0/1 pass" in err
    if code == 0:
        # passes once auth has warmed up (2 s), long before the 60 s wait would have run out:
        # it re-checks, it does not wait the whole --wait (the bound is the wait, not a guess;
        # 60 s leaves an interpreter start on a loaded 2-core CI room that 10 s did not)
        assert 2.0 <= elapsed < 60.0, elapsed
        assert "round 1: 0/1 pass; waiting for auth" in err and "1/1 pass" in err
    else:
        assert "FAIL auth: not healthy: unhealthy (worker_exception)" in out


@pytest.mark.parametrize(("samples", "code"), [("20", 1), ("0", 0)])
async def test_samples_fail_a_slow_smoke_path(
    fleet: SimulatedFleet, tmp_path: Path, samples: str, code: int
) -> None:
    slow = Latency(0.030, 0.032)
    fleet.set_behavior("do-gateway", Behavior(body=OK_JSON, latency=slow, rpc=slow), "/smoke/db")
    got, out, err = await monitor_cli(
        "verify",
        "--config",
        write_config(tmp_path, fleet),
        "--service",
        "do-gateway",
        "--samples",
        samples,
        "--json",
    )
    assert got == code, out + err
    service = json.loads(out)["services"][0]
    rpc = next(c for c in service["checks"] if c["kind"] == "rpc")
    if code == 1:
        assert rpc["samples"] == 20 and rpc["p95_ms"] >= 25 and rpc["target_ms"] == 5.0
        assert service["failures"] == [
            f"p95 {rpc['p95_ms']:.1f} ms over target 5.00 ms on check rpc/db"
        ]
    else:  # one probe is no percentile: latency is judged only when sampling
        assert rpc["samples"] == 0 and rpc["p95_ms"] is None


@pytest.mark.parametrize(
    ("reported", "expected", "code", "line"),
    [
        ("1.4.1", "1.4.2", 1, "FAIL deploy: version mismatch: reported 1.4.1, expected 1.4.2"),
        ("1.4.2", "1.4.2", 0, "deploy gate: OK (1 services pass)"),
        (None, "1.4.2", 0, "NOTE deploy: reports no version; expected 1.4.2 was not verified"),
    ],
)
async def test_expect_version(
    fleet: SimulatedFleet,
    tmp_path: Path,
    reported: str | None,
    expected: str,
    code: int,
    line: str,
) -> None:
    body = {"status": "ok"} | ({"version": reported} if reported else {})
    fleet.set_behavior("deploy", Behavior(body=json.dumps(body)))
    got, out, err = await monitor_cli(
        "verify",
        "--config",
        write_config(tmp_path, fleet),
        "--service",
        "deploy",
        "--expect-version",
        expected,
    )
    assert got == code, out + err
    assert line in out


async def test_from_judges_a_running_daemons_status(daemon_url: str) -> None:
    code, out, err = await monitor_cli("verify", "--from", daemon_url, "--json")
    assert code == 1, err
    failing = {s["name"]: s["reason"] for s in json.loads(out)["services"] if not s["ok"]}
    assert failing == {name: reason.value for name, (_, reason) in SEED_FAILING.items()}
    code, out, err = await monitor_cli(
        "verify", "--from", daemon_url + "/status", "--service", "do-gateway", "--service", "queue"
    )
    assert code == 0, out + err
    assert "deploy gate: OK (2 services pass)" in out


def test_from_a_daemon_that_does_not_answer_exits_2(refused_port: int) -> None:
    code, out, err = invoke("verify", "--from", f"http://127.0.0.1:{refused_port}")
    assert code == 2 and out == ""
    assert "/status: cannot read it" in err


async def test_from_with_a_config_fails_services_the_daemon_does_not_report(
    fleet: SimulatedFleet, daemon_url: str
) -> None:
    text = fleet_config_yaml(fleet).replace('"name": "queue"', '"name": "queue-v2"')
    options = VerifyOptions(sources=(daemon_url,), services=("queue-v2", "do-gateway"))
    report = await verify(parse_config(text), options)
    assert [(s.name, s.ok, s.reason) for s in report.services] == [
        ("do-gateway", True, Reason.OK),
        ("queue-v2", False, Reason.NOT_CHECKED),
    ]
    assert "not in the /status of" in report.services[1].detail


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (VerifyOptions(sources=("ftp://x",)), "expected an http:// or https:// URL"),
        (VerifyOptions(sources=("http://127.0.0.1:9/",), samples=5), "--samples needs probing"),
        (VerifyOptions(), "--config is required"),
    ],
)
async def test_unusable_flags_are_usage_errors(options: VerifyOptions, message: str) -> None:
    with pytest.raises(GateUsageError, match=message):
        await verify(None, options)


async def test_from_an_address_that_is_not_a_daemon(healthy: SimulatedFleet) -> None:
    with pytest.raises(GateUsageError, match="not a monitor /status document"):
        await verify(None, VerifyOptions(sources=(healthy.url("queue") + "/health",)))
    with pytest.raises(GateUsageError, match="HTTP 404"):
        await verify(None, VerifyOptions(sources=(healthy.url("queue"),)))


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        (
            "services:\n  - name: a\n    url: http://127.0.0.1:9\n    interval: soon\n",
            (),
            "monitor.yaml:4: services[0].interval: expected a duration",
        ),
        (
            "services:\n  - name: a\n    url: http://127.0.0.1:9\n    colour: red\n",
            (),
            "monitor.yaml:4: services[0].colour: unknown key",
        ),
        (
            "services:\n  - name: a\n    url: http://127.0.0.1:9\n",
            ("--service", "b"),
            "unknown service 'b'; expected one of: a",
        ),
        (
            "services:\n  - name: a\n    url: http://127.0.0.1:9\n",
            ("--label", "team=core"),
            "no service matches --label team=core; labels in use: none",
        ),
        (
            "services:\n  - name: a\n    url: http://127.0.0.1:9\n",
            ("--label", "team"),
            "expected key=value",
        ),
        (
            "services:\n  - name: a\n    url: http://127.0.0.1:9\n",
            ("--wait", "soon"),
            "expected a duration",
        ),
        (
            "services:\n  - name: a\n    url: http://127.0.0.1:9\n",
            ("--junit", "/nope/x.xml"),
            "its directory does not exist",
        ),
    ],
)
def test_bad_config_or_usage_exits_2(
    tmp_path: Path, text: str, args: tuple[str, ...], message: str
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(text)
    code, out, err = invoke("verify", "--config", str(config), *args)
    assert code == 2, out + err
    assert message in err
    assert out == ""


async def test_missing_config_exits_2(tmp_path: Path) -> None:
    code, _, err = await monitor_cli("verify", "--config", str(tmp_path / "nope.yaml"))
    assert code == 2 and "cannot read the file" in err


async def test_github_actions_summary_and_annotations(
    fleet: SimulatedFleet, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("### earlier step\n")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    config = write_config(tmp_path, fleet)
    code, out, _ = await monitor_cli("verify", "--config", config, env=env)
    assert code == 1
    text = summary.read_text()
    assert text.startswith("### earlier step\n### Deploy verification failed")
    assert "| `auth` | unhealthy | `worker_exception` |" in text
    errors = [line for line in out.splitlines() if line.startswith("::error ")]
    assert sorted(e.split("::")[1] for e in errors) == sorted(
        f"error title={name} failed deploy verification" for name in SEED_FAILING
    )
    code, out, err = await monitor_cli("verify", "--config", config, "--json", env=env)
    assert code == 1 and json.loads(out)["ok"] is False  # annotations keep off the JSON
    assert sum(line.startswith("::error ") for line in err.splitlines()) == len(SEED_FAILING)


# --- discover ------------------------------------------------------------------------------


def wrangler_bindings() -> dict[str, list[str]]:
    """Worker name -> its top-level service binding targets, read straight from the fixtures."""
    out = {}
    for path in sorted(FIXTURES.glob("*/wrangler.*")):
        data = (
            tomllib.loads(path.read_text())
            if path.suffix == ".toml"
            else json5.loads(path.read_text())
        )
        out[data["name"]] = [b["service"] for b in data.get("services", [])]
    return out


async def test_discover_writes_a_config_verify_accepts(tmp_path: Path) -> None:
    target = tmp_path / "monitor.yaml"
    code, out, err = invoke("discover", str(FIXTURES), "--subdomain", "acme", "-o", str(target))
    assert code == 0, err
    assert out == ""
    assert "could not resolve service binding 'AI'" in err
    config = parse_config(target.read_text(), str(target))
    bindings = wrangler_bindings()
    names = {s.name for s in config.services}
    for service in config.services:
        assert service.depends_on == tuple(t for t in bindings[service.name] if t in names)
    assert config.service("do-gateway").depends_on == ("do-db", "auth", "queue")  # type: ignore[union-attr]
    # and the gate runs on it: every discovered service simulated healthy on loopback, and
    # do-mcp's drafted mcp check answered by a (tool-less) server of the stateless MCP era
    assert [s.name for s in config.services if s.mcp] == ["do-mcp"]
    discovered = {"resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {}}
    mcp = Behavior(body=json.dumps({"jsonrpc": "2.0", "id": 1, "result": discovered}))
    specs = [
        SimService(s.name, {"/health": Behavior(body=OK_JSON), **({"/mcp": mcp} if s.mcp else {})})
        for s in config.services
    ]
    async with SimulatedFleet(specs) as sims:
        text = target.read_text()
        for name in sims.names:
            text = text.replace(f"https://{name}.acme.workers.dev", sims.url(name))
        target.write_text(text)
        code, out, err = await monitor_cli("verify", "--config", str(target))
    assert code == 0, out + err
    assert f"deploy gate: OK ({len(specs)} services pass)" in out


def test_discover_to_stdout_and_nothing_found(tmp_path: Path) -> None:
    code, out, _ = invoke("discover", str(FIXTURES))
    assert code == 0 and out.startswith("# monitor.yaml drafted by `monitor discover`")
    assert parse_config(out).service("queue") is not None
    code, out, err = invoke("discover", str(tmp_path))
    assert code == 2 and out == "" and "no worker with a URL found" in err


# --- sampling against a loopback server that counts what is in flight ----------------------


async def test_samples_are_bounded_per_check_and_in_total() -> None:
    in_flight: dict[str, int] = {}
    peak: dict[str, int] = {}
    served: dict[str, int] = {}
    total = {"now": 0, "peak": 0}

    async def handler(request: web.Request) -> web.Response:
        path = request.path
        in_flight[path] = in_flight.get(path, 0) + 1
        total["now"] += 1
        peak[path] = max(peak.get(path, 0), in_flight[path])
        total["peak"] = max(total["peak"], total["now"])
        await asyncio.sleep(0.002)  # the served behaviour: service time, so requests overlap
        in_flight[path] -= 1
        total["now"] -= 1
        served[path] = served.get(path, 0) + 1
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    async with serving(app) as url:
        smoke = ", ".join(f"{{name: s{i}, path: /s{i}}}" for i in range(4))
        config = parse_config(f"services:\n  - {{name: a, url: '{url}', rpc: [{smoke}]}}\n")
        options = VerifyOptions(samples=20, per_check_in_flight=4, max_in_flight=6)
        report = await Verifier(config, options).run()
    assert served == {p: 24 for p in ("/health", "/s0", "/s1", "/s2", "/s3")}  # + 4 warm-up
    assert max(peak.values()) <= 4 and total["peak"] <= 6
    assert total["peak"] >= 5, "checks are sampled concurrently"
    checks = report.services[0].checks
    assert [c.samples for c in checks] == [20] * 5


async def test_rpc_checks_are_judged_on_the_services_server_timing(
    healthy: SimulatedFleet,
) -> None:
    """30 ms round trip, 2 ms reported RPC: the rpc check passes its 5 ms target."""
    healthy.set_behavior(
        "do-gateway",
        Behavior(body=OK_JSON, latency=Latency(0.030), rpc=Latency(0.002)),
        "/smoke/db",
    )
    config = parse_config(fleet_config_yaml(healthy))
    report = await Verifier(config, VerifyOptions(services=("do-gateway",), samples=8)).run()
    rpc = report.services[0].checks[1]
    assert (rpc.name, rpc.p95_ms, rpc.samples, rpc.ok) == ("db", 2.0, 8, True)


# --- pure pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1.0], 95, 1.0),
        ([3.0, 1.0, 2.0], 50, 2.0),
        (list(range(1, 21)), 95, 19),  # nearest rank: ceil(0.95 * 20) = 19
        (list(range(1, 21)), 99, 20),
        (list(range(1, 51)), 95, 48),
        (list(range(1, 101)), 50, 50),
    ],
)
def test_percentile_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert percentile(sorted(values), q) == expected


def test_summarize_in_milliseconds_with_a_window_label() -> None:
    summary = summarize([i / 1000 for i in range(1, 51)])
    assert summary is not None
    assert (summary.p50, summary.p95, summary.p99, summary.count, summary.window) == (
        25.0,
        48.0,
        50.0,
        50,
        "50 samples",
    )
    assert summarize([]) is None


def test_combine_keeps_the_worst_sample_and_says_how_many() -> None:
    ok = Verdict(status=Status.HEALTHY, reason=Reason.OK, detail="fine")
    bad = Verdict(status=Status.UNHEALTHY, reason=Reason.TIMEOUT, detail="timed out")
    assert combine([ok, ok]) == ok
    assert combine([ok, bad, ok, bad]).detail == "timed out (2 of 4 samples)"
    assert combine([bad, bad]).detail == "timed out"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("team=core", ("team", "core")), ("tier=", ("tier", "")), ("a=b=c", ("a", "b=c"))],
)
def test_parse_label(text: str, expected: tuple[str, str]) -> None:
    assert parse_label(text) == expected


@pytest.mark.parametrize("text", ["team", "=core", "1x=y", "te am=x"])
def test_parse_label_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="expected key=value"):
        parse_label(text)


SELECT_CONFIG = parse_config(
    "services:\n"
    "  - {name: a, url: 'http://h:1', labels: {team: core, tier: edge}}\n"
    "  - {name: b, url: 'http://h:2', labels: {team: core}}\n"
    "  - {name: c, url: 'http://h:3', labels: {team: growth}}\n"
)


@pytest.mark.parametrize(
    ("services", "labels", "expected"),
    [
        ((), (), ["a", "b", "c"]),
        (("c", "a"), (), ["a", "c"]),
        ((), (("team", "core"),), ["a", "b"]),
        ((), (("team", "core"), ("tier", "edge")), ["a"]),
        (("b", "c"), (("team", "core"),), ["b"]),
    ],
)
def test_select(
    services: tuple[str, ...], labels: tuple[tuple[str, str], ...], expected: list[str]
) -> None:
    options = VerifyOptions(services=services, labels=labels)
    assert select(SELECT_CONFIG.services, options) == expected


def test_select_refuses_unknown_names_and_empty_matches() -> None:
    with pytest.raises(GateUsageError, match="unknown service 'x'; expected one of: a, b, c"):
        select(SELECT_CONFIG.services, VerifyOptions(services=("x",)))
    with pytest.raises(GateUsageError, match="labels in use: team=core, team=growth, tier=edge"):
        select(SELECT_CONFIG.services, VerifyOptions(labels=(("team", "ops"),)))
