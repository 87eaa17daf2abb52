"""The status page in a real browser: Debian's chromium driven by Playwright, against the
seed's fleet simulated on loopback and a monitor checking it every second.

Fails (never skips) without /usr/bin/chromium: scripts/test installs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, async_playwright

from monitor.config import parse_config
from monitor.http.app import serve
from monitor.runtime.daemon import Monitor
from monitor.runtime.store import Store
from monitor.simulator import Behavior, SimulatedFleet, fleet_config_yaml, seed_fleet
from tests.polling import until_value

# The words a person reads, written out (not taken from monitor.web.view, the module under test)
LABELS = {"healthy": "Healthy", "degraded": "Degraded", "unhealthy": "Down", "unknown": "Unknown"}
PHRASES = {
    "ok": "Working normally",
    "not_found": "No health endpoint (HTTP 404)",
    "reported_degraded": "Reports itself degraded",
    "server_error": "Server error (HTTP 5xx)",
    "worker_exception": "Crashing: the worker throws an exception",
}

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent.parent / "artifacts"
DEADLINE_MS = 20_000


@dataclass
class Running:
    url: str
    fleet: SimulatedFleet


async def _status(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(url + "/status") as r:
        data: dict[str, Any] = await r.json()
        return data


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    async with SimulatedFleet(seed_fleet()) as fleet:
        store = Store(":memory:")
        config = parse_config(fleet_config_yaml(fleet, interval="1s", timeout="1s"), "<test>")
        monitor = Monitor(config, store=store)
        await monitor.start()
        runner, port = await serve(monitor, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{port}"
        try:

            async def all_checked() -> bool:
                services = (await _status(url))["services"]
                return all(s["reason"] != "not_checked" for s in services)

            await until_value(all_checked, timeout=20, every=0.1, what="every service checked")
            yield Running(url, fleet)
        finally:
            await runner.cleanup()
            await monitor.stop(grace=1)
            store.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does)")
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def _rows(page: Page) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = await page.eval_on_selector_all(
        "article[data-service]",
        """els => Object.fromEntries(els.map(e => [e.dataset.service, {
            status: e.dataset.status, reason: e.dataset.reason,
            label: e.querySelector('.status .label').textContent.trim(),
            phrase: e.querySelector('.phrase').textContent.trim()}]))""",
    )
    return rows


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# Every status's colour, and the background it is drawn on, as the browser computes them.
COLOURS_JS = """() => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const backdrop = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return rgb(c);
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const s of ['healthy', 'degraded', 'unhealthy', 'unknown']) {
    const probe = document.createElement('span');
    probe.className = 'status st-' + s;
    probe.textContent = s;
    document.querySelector('article').appendChild(probe);
    out.push({status: s, fg: rgb(getComputedStyle(probe).color), bg: backdrop(probe)});
    probe.remove();
  }
  return out;
}"""


async def test_status_page_in_a_browser(running: Running, browser: Browser) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(running.url + "/")

    # rows, statuses and reasons match /status
    status = await _status(running.url)
    rows = await _rows(page)
    assert list(rows) == [s["name"] for s in status["services"]]
    for s in status["services"]:
        row = rows[s["name"]]
        assert (row["status"], row["reason"]) == (s["status"], s["reason"]), s["name"]
        assert row["label"] == LABELS[s["status"]]  # status in words, not colour alone
        assert row["phrase"] == PHRASES[s["reason"]]
    assert await page.inner_text("[data-banner] .text") == "3 down, 2 degraded · 5 of 10 healthy"
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "status-page.png"), full_page=True)

    # accessibility basics: every svg is labelled, every status has text, colours contrast
    unlabelled = await page.eval_on_selector_all(
        "svg",
        "els => els.filter(e => !e.getAttribute('aria-label') && !e.querySelector('title')).length",
    )
    assert unlabelled == 0
    texts = await page.eval_on_selector_all(".status", "els => els.map(e => e.textContent.trim())")
    assert texts and all(texts)
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        for c in await page.evaluate(COLOURS_JS):
            ratio = contrast(tuple(c["fg"]), tuple(c["bg"]))
            assert ratio >= 4.5, f"{scheme}: {c['status']} {c['fg']} on {c['bg']} is {ratio:.2f}"
    await page.screenshot(path=str(ARTIFACTS / "status-page-dark.png"), full_page=True)
    await page.emulate_media(color_scheme="light")

    # the page follows a change without reloading: do-db goes down, auth's cause is found
    await page.evaluate("window.__not_reloaded = true")
    running.fleet.set_behavior(
        "do-db", Behavior(status=503, body="Service Unavailable", content_type="text/plain")
    )
    await page.wait_for_selector(
        'article[data-service="do-db"][data-status="unhealthy"]', timeout=DEADLINE_MS
    )
    await page.wait_for_selector(
        'article[data-service="auth"] .cause.root[data-cause="do-db"]', timeout=DEADLINE_MS
    )
    assert await page.evaluate("window.__not_reloaded === true")
    assert await page.get_attribute('g[data-node="do-db"]', "data-root-cause") == "true"
    assert "4 down, 1 degraded" in await page.inner_text("[data-banner] .text")
    rows = await _rows(page)
    assert rows["do-db"]["reason"] == "server_error"
    assert rows["do-db"]["phrase"] == PHRASES["server_error"]
    await page.screenshot(path=str(ARTIFACTS / "status-page-db-down.png"), full_page=True)
    assert problems == [], "no console errors or CSP violations"

    # without JavaScript it is still the whole page, with a meta refresh
    plain = await browser.new_page(java_script_enabled=False)
    await plain.goto(running.url + "/")
    assert await plain.locator("article[data-service]").count() == len(status["services"])
    assert await plain.locator("noscript").count() == 1
    assert await plain.title() == "4 down, 1 degraded · 5 of 10 healthy · fleet status"
    # checks run every 1 s; the page never reloads itself more often than every 30 s
    refresh = plain.locator('noscript meta[http-equiv="refresh"]')
    assert await refresh.get_attribute("content") == "30"
    assert "Without JavaScript this page reloads every 30 s." in await plain.inner_text("body")
