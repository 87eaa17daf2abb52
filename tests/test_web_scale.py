"""The status page of a big fleet, served for real on loopback (issue 18): summary first,
what is not healthy in full, the healthy folded into counts by team; search and pages through
/status's own filters; live changes instead of the page; deploys on a service's timeline."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from monitor.http.app import serve
from monitor.runtime.daemon import Monitor
from monitor.runtime.store import Store
from monitor.web.summary import MAX_CARDS
from tests.big_fleet import DOWN, OK, QUIET, big_config, feed, name, set_service, verdict_for
from tests.polling import until_value
from tests.test_alerts_api import TOKEN, api  # noqa: F401  # the fixture
from tests.test_web import base_url  # noqa: F401  # the fixture

N = 1_500
DOWN_N, DEGRADED_N = N // 50, N // 100  # big_fleet: one in fifty down, one in a hundred degraded


@dataclass
class Served:
    url: str
    monitor: Monitor
    session: aiohttp.ClientSession


@pytest.fixture
async def big() -> AsyncIterator[Served]:
    store = Store(":memory:")
    monitor = Monitor(big_config(N, interval="2s"), store=store, logger=QUIET)
    await monitor.start(schedule=False)
    await feed(monitor, datetime.now(UTC))
    runner, port = await serve(monitor, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            yield Served(f"http://127.0.0.1:{port}", monitor, session)
    finally:
        await runner.cleanup()
        await monitor.stop()
        store.close()


async def get(big: Served, path: str, **headers: str) -> tuple[int, Any, str]:
    async with big.session.get(big.url + path, headers=headers) as r:
        return r.status, r.headers, await r.text()


async def test_first_response_is_summary_first_bounded_and_folds_the_healthy(big: Served) -> None:
    code, headers, html = await get(big, "/", **{"Accept-Encoding": "identity"})
    assert code == 200
    assert len(html.encode()) <= 200_000  # main: 15 MB at 1,500 services
    assert re.fullmatch(r"page;dur=[\d.]+, cpu;dur=[\d.]+", headers["Server-Timing"])
    banner = f"{DOWN_N} down, {DEGRADED_N} degraded · {N - DOWN_N - DEGRADED_N:,} of {N:,} healthy"
    assert f'<span class="text">{banner}</span>' in html
    assert html.index('<span class="text">') < html.index("<article")  # the summary first
    cards = re.findall(r'<article [^>]*data-service="(s\d+)" data-status="(\w+)"', html)
    assert len(cards) == DOWN_N + DEGRADED_N  # every service not healthy, in full
    assert [s for _, s in cards] == ["unhealthy"] * DOWN_N + ["degraded"] * DEGRADED_N
    assert cards[0][0] == name(7) and cards[DOWN_N][0] == name(3)  # config order in a status
    teams = re.findall(r"<li data-team=\"(team-\d+)\"", html)
    assert len(teams) == 20 and f"{N - DOWN_N - DEGRADED_N:,} healthy services, by team" in html
    _, _, status = await get(big, "/status?status=unhealthy,degraded")
    assert {s["name"] for s in json.loads(status)["services"]} == {n for n, _ in cards}


async def test_a_mass_outage_shows_the_worst_and_counts_the_rest(big: Served) -> None:
    now = datetime.now(UTC)
    for i in range(0, 400, 2):  # 200 more down
        set_service(big.monitor, name(i), DOWN, now)
    _, _, html = await get(big, "/", **{"Accept-Encoding": "identity"})
    assert len(html.encode()) <= 200_000
    down = DOWN_N + 200 - len([i for i in range(0, 400, 2) if verdict_for(name(i)) is DOWN])
    attention = down + DEGRADED_N
    cards = re.findall(r'<article [^>]*data-status="(\w+)"', html)
    assert cards == ["unhealthy"] * MAX_CARDS  # the worst first, as many as fit
    assert f'data-attention="{attention}"' in html
    assert f"{attention} services are not healthy; the worst {MAX_CARDS} are shown here" in html


async def test_search_and_pages_use_the_same_filters_as_status(big: Served) -> None:
    code, _, body = await get(big, f"/page/services?search={name(1234).upper()}")
    found = json.loads(body)
    assert code == 200 and found["total"] == 1
    (line,) = found["services"]
    assert line == {
        "name": name(1234),
        "status": "healthy",
        "label": "Healthy",
        "icon": "✓",
        "reason": "ok",
        "phrase": "Working normally",
        "since": line["since"],
        "team": "team-14",
    }
    names: list[str] = []
    cursor = ""
    for _ in range(10):  # 30 down in pages of 15: two pages
        _, _, body = await get(big, f"/page/services?status=unhealthy&limit=15{cursor}")
        page = json.loads(body)
        names += [s["name"] for s in page["services"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    _, _, status = await get(big, "/status?status=unhealthy")
    assert names == [s["name"] for s in json.loads(status)["services"]] and len(names) == DOWN_N
    _, _, body = await get(big, "/page/services?team=team-7&status=healthy&limit=500")
    team = json.loads(body)
    healthy = [name(i) for i in range(7, N, 20) if verdict_for(name(i)) is OK]
    assert [s["name"] for s in team["services"]] == healthy and team["total"] == len(healthy)
    for bad in ("status=sideways", "limit=0", "cursor=%25", "nope=1", "search=" + "x" * 101):
        code, _, body = await get(big, "/page/services?" + bad)
        assert code == 400 and json.loads(body)["error"], bad


async def test_changes_send_what_changed_not_the_page(big: Served) -> None:
    _, headers, _ = await get(big, "/")
    seq = int(headers["X-Page-Seq"])
    code, headers, body = await get(big, f"/page/changes?since={seq}")
    quiet = json.loads(body)
    assert code == 200 and quiet["cards"] == [] and quiet["seq"] == seq
    assert len(body) < 8_000  # the banner and the team counts, no cards
    code, _, _ = await get(big, f"/page/changes?since={seq}", **{"If-None-Match": headers["ETag"]})
    assert code == 304

    victim = name(1001)
    set_service(big.monitor, victim, DOWN, datetime.now(UTC))

    async def news() -> dict[str, Any] | None:
        _, _, text = await get(big, f"/page/changes?since={seq}")
        answer: dict[str, Any] = json.loads(text)
        return answer if answer["cards"] else None

    answer = await until_value(news, timeout=20)  # the journal looks at most once a second
    (card,) = answer["cards"]
    assert card["name"] == victim and card["status"] == "unhealthy"
    assert f'data-service="{victim}" data-status="unhealthy"' in card["html"]
    assert answer["banner"]["text"].startswith(f"{DOWN_N + 1} down")
    assert answer["seq"] == seq + 1 and len(json.dumps(answer)) < 12_000

    set_service(big.monitor, victim, OK, datetime.now(UTC))

    async def healed() -> dict[str, Any] | None:
        _, _, text = await get(big, f"/page/changes?since={seq + 1}")
        answer: dict[str, Any] = json.loads(text)
        return answer if answer["cards"] else None

    (card,) = (await until_value(healed, timeout=20))["cards"]
    assert card == {"name": victim, "status": "healthy", "html": None}  # drop its card

    _, _, body = await get(big, "/page/changes?since=999999")
    assert json.loads(body)["reset"] is True  # a page from before a restart
    for bad in ("", "?since=-1", "?since=abc", "?since=" + "9" * 30):
        code, _, body = await get(big, "/page/changes" + bad)
        assert code == 400 and "since" in json.loads(body)["error"], bad


async def test_a_small_fleet_gets_its_main_part_and_no_folding(base_url: str) -> None:  # noqa: F811
    async with aiohttp.ClientSession() as session:
        async with session.get(base_url + "/") as r:
            seq, html = r.headers["X-Page-Seq"], await r.text()
        async with session.get(base_url + f"/page/changes?since={seq}") as r:
            answer = await r.json()
    assert "Needs attention" not in html and html.count("<article") == 10
    assert answer["main"].count("<article") == 10 and "cards" not in answer


async def test_a_deploy_is_marked_on_its_service_s_timeline(api: Any) -> None:  # noqa: F811
    session, _ = api
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = {"services": ["queue"], "version": "4f2a9c1", "hold": "10m"}
    async with session.post("/api/deploys", json=body, headers=auth) as r:
        assert r.status == 201
        deploy = await r.json()
    at = datetime.fromisoformat(deploy["started_at"]).astimezone(UTC)
    running = f"Deploy 4f2a9c1 at {at:%H:%M} UTC, gate running"

    async def queue_card() -> str:
        async with session.get("/") as r:
            html = await r.text()
        return html.split('data-service="queue"', 1)[1].split("</article>", 1)[0]

    card = await queue_card()
    assert f'<li class="deploy" data-deploy>{running}</li>' in card
    assert re.search(
        rf'<path class="deploy" d="M[\d.]+ 0V28[^"]*" data-deploy-mark><title>{running}', card
    )
    async with session.post(f"/api/deploys/{deploy['id']}", json={"passed": True}, headers=auth):
        pass
    assert f"Deploy 4f2a9c1 at {at:%H:%M} UTC, gate passed" in await queue_card()
    async with session.get("/") as r:
        assert (await r.text()).count("data-deploy-mark") == 1  # queue's only


async def test_the_page_reads_statuses_as_service_status_now_does(big: Served) -> None:
    names = [name(i) for i in range(0, N, 7)] + ["never-configured"]
    expected = [big.monitor.service_status_now(n) for n in names]
    assert big.monitor.services.statuses(names) == expected
    assert expected[-1].value == "unknown" and {s.value for s in expected} >= {"healthy"}


async def test_what_a_service_says_is_escaped_in_cards_and_changes(big: Served) -> None:
    _, headers, _ = await get(big, "/")
    seq = int(headers["X-Page-Seq"])
    evil = DOWN.model_copy(update={"detail": '<script>alert(1)</script><img src=x onerror="y">'})
    set_service(big.monitor, name(1001), evil, datetime.now(UTC))
    _, _, html = await get(big, "/")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    async def card() -> str | None:
        _, _, text = await get(big, f"/page/changes?since={seq}")
        cards = json.loads(text).get("cards", [])
        return next((c["html"] for c in cards if c["html"]), None)

    html = await until_value(card, timeout=20)
    assert "<img" not in html and "&lt;img src=x onerror=&#34;y&#34;&gt;" in html
