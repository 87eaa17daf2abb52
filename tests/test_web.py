"""The status page and badges, served for real on loopback by the daemon's app."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import aiohttp
import pytest

from monitor.config import parse_config
from monitor.model import Status
from monitor.runtime.daemon import Monitor
from monitor.runtime.store import Store
from monitor.simulator import SimulatedFleet, fleet_config
from monitor.web.badge import badge
from tests.serving import serving

READ = "read-secret-1234"


async def _serve(fleet: SimulatedFleet, extra: dict[str, object]) -> AsyncIterator[str]:
    config = {**fleet_config(fleet), **extra}
    store = Store(":memory:")
    monitor = Monitor(parse_config(json.dumps(config), "<test>"), store=store)
    await monitor.start(schedule=False)
    await monitor.run_all_once()
    await monitor.flush()
    try:
        async with serving(monitor) as url:
            yield url
    finally:
        store.close()


@pytest.fixture
async def base_url(fleet: SimulatedFleet) -> AsyncIterator[str]:
    async for url in _serve(fleet, {}):
        yield url


@pytest.fixture
async def locked_url(fleet: SimulatedFleet) -> AsyncIterator[str]:
    async for url in _serve(fleet, {"auth": {"read_token": READ}}):
        yield url


async def get(url: str, token: str | None = None) -> tuple[int, dict[str, str], str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as r:
        return r.status, dict(r.headers), await r.text()


async def test_page_has_every_service_with_its_status_and_reason(base_url: str) -> None:
    code, headers, html = await get(base_url + "/")
    assert code == 200 and headers["Content-Type"].startswith("text/html")
    _, _, body = await get(base_url + "/status")
    for service in json.loads(body)["services"]:
        assert (
            f'data-service="{service["name"]}" data-status="{service["status"]}" '
            f'data-reason="{service["reason"]}"'
        ) in html
    assert "3 down, 2 degraded · 5 of 10 healthy" in html
    assert "Depends on do-db, which is degraded" in html  # auth is down, db degraded
    bars = re.findall(r'<rect class="(healthy|degraded|unhealthy|unknown|none)" x=', html)
    assert len(bars) == 10 * 90  # an uptime bar per service
    assert "healthy" in bars and "unhealthy" in bars  # the current bucket is observed


async def test_page_csp_is_strict_and_json_routes_keep_none(base_url: str) -> None:
    _, headers, html = await get(base_url + "/")
    csp = headers["Content-Security-Policy"]
    nonce = csp.split("'nonce-", 1)[1].split("'", 1)[0]
    assert csp.startswith("default-src 'none';")
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert html.count(f'nonce="{nonce}"') == 2  # the one <style> and the one <script>
    assert "<script src" not in html and "http://" not in html.split("<main", 1)[0]
    _, again, _ = await get(base_url + "/")
    assert again["Content-Security-Policy"] != csp, "a fresh nonce per response"
    for path in ("/status", "/metrics", "/healthz", "/badge/auth.svg"):
        _, h, _ = await get(base_url + path)
        assert h["Content-Security-Policy"] == "default-src 'none'", path


async def test_fragment_for_the_self_refresh(base_url: str) -> None:
    code, _, html = await get(base_url + "/?part=main")
    assert code == 200
    assert "<html" not in html and "<script" not in html
    assert html.count("data-service=") == 10


async def test_badge_is_valid_svg_with_the_status(base_url: str) -> None:
    code, headers, body = await get(base_url + "/badge/email.svg")
    assert code == 200 and headers["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(body)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("aria-label") == "email: down"
    code, _, body = await get(base_url + "/badge/nope.svg")
    assert code == 404 and ET.fromstring(body).get("aria-label") == "nope: not found"


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", 'a"b&c', "x' onload='y", "]]><svg>"])
def test_badge_escapes_names(name: str) -> None:
    body = badge(name, Status.HEALTHY)
    root = ET.fromstring(body)  # still well-formed XML
    assert root.get("aria-label") == f"{name}: healthy"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == [name, "healthy"]
    assert "<script" not in body


async def test_badge_route_escapes_what_it_is_asked(base_url: str) -> None:
    code, _, body = await get(base_url + "/badge/%3Cb%3E%22x%22.svg")
    assert code == 404
    assert ET.fromstring(body).get("aria-label") == '<b>"x": not found'


async def test_page_and_badges_need_the_read_token(locked_url: str) -> None:
    for path in ("/", "/?part=main", "/badge/auth.svg", "/page/services", "/page/changes?since=0"):
        assert (await get(locked_url + path))[0] == 401, path
        code, _, body = await get(locked_url + path, READ)
        assert code == 200 and body, path
