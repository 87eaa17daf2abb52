"""The daemon's HTTP endpoints, served for real on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from monitor.model import FleetStatus, status_json_schema

SCHEMA_FILE = Path(__file__).parent.parent / "docs" / "status-schema.json"


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def test_status_contract(daemon_url: str) -> None:
    code, ctype, body = await get(daemon_url + "/status")
    assert code == 200 and ctype.startswith("application/json")
    data = json.loads(body)
    assert set(data) >= {"status", "generated_at", "services"}
    for service in data["services"]:
        assert {"name", "status", "reason", "detail"} <= set(service)
    by_name = {s["name"]: s for s in data["services"]}
    assert by_name["email"]["status"] == "unhealthy"
    assert by_name["email"]["reason"] == "worker_exception"
    assert by_name["do-db"]["components"]["postgres"]["status"] == "unhealthy"
    FleetStatus.model_validate(data)  # the served document matches its own schema


async def test_one_service_and_unknown_service(daemon_url: str) -> None:
    code, _, body = await get(daemon_url + "/status/webhooks")
    assert code == 200 and json.loads(body)["reason"] == "not_found"
    code, _, body = await get(daemon_url + "/status/nope")
    assert code == 404 and "webhooks" in json.loads(body)["services"]


async def test_schema_endpoint_matches_the_file_in_the_repo(daemon_url: str) -> None:
    code, _, body = await get(daemon_url + "/status/schema")
    assert code == 200
    assert json.loads(body) == status_json_schema()
    assert json.loads(SCHEMA_FILE.read_text()) == status_json_schema(), (
        "docs/status-schema.json is stale: python -m monitor schema > docs/status-schema.json"
    )


async def test_metrics_exposition(daemon_url: str) -> None:
    code, ctype, body = await get(daemon_url + "/metrics")
    assert code == 200 and ctype.startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(body)}
    assert {
        "monitor_check_status",
        "monitor_checks",
        "monitor_check_latency_seconds",
        "monitor_service_status",
    } <= set(families)
    assert "monitor_build_info{" in body
    assert "monitor_check_duration_seconds" not in families, "lean: one histogram a check"
    targets = {
        (s.labels["check"], s.labels["bucket"])
        for s in families["monitor_check_latency_target_seconds"].samples
    }
    buckets = {
        (s.labels["check"], s.labels["le"])
        for s in families["monitor_check_latency_seconds"].samples
        if s.name.endswith("_bucket")
    }
    assert targets and targets <= buckets, "a bound sits exactly on each check's target"


async def test_healthz(daemon_url: str) -> None:
    code, _, body = await get(daemon_url + "/healthz")
    data = json.loads(body)
    assert code == 503 and "scheduler is not running" in data["problems"]
