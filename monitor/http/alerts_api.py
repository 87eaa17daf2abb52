"""HTTP API for alerts, silences and maintenance windows: `GET /api/alerts`,
`GET|POST /api/silences`, `DELETE /api/silences/{id}`, `GET|POST /api/maintenance`. Writes need
the admin token (a deploy window is silenced by the pipeline, not by anyone who can reach the
port)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.alerting.maintenance import MaintenanceWindow
from monitor.durations import parse_duration
from monitor.http.auth import Handler, admin_only
from monitor.http.json_api import MONITOR_KEY, json_response

MAX_SILENCE = timedelta(days=30)


class SilenceRequest(BaseModel):
    """`{"matchers": {"service": "auth"}, "duration": "30m", "comment": "deploy"}`."""

    model_config = ConfigDict(extra="forbid")

    matchers: dict[str, str] = Field(min_length=1)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    duration: str | None = None
    comment: str = Field(default="", max_length=500)
    created_by: str = Field(default="api", max_length=100)


def _alerter(request: web.Request) -> Any:
    alerter = request.app[MONITOR_KEY].alerter
    if alerter is None:
        raise web.HTTPNotFound(
            text='{"error": "alerting is not configured (--alerts)"}',
            content_type="application/json",
        )
    return alerter


async def list_alerts(request: web.Request) -> web.Response:
    alerter = _alerter(request)
    records = sorted(alerter.state.alerts.values(), key=lambda r: (r.rule, r.fingerprint))
    active = [r.model_dump(mode="json") for r in records if r.phase.value != "resolved"]
    return json_response({"alerts": active, "outbox": alerter.outbox.counts()})


async def list_silences(request: web.Request) -> web.Response:
    alerter = _alerter(request)
    return json_response({"silences": [s.model_dump(mode="json") for s in alerter.all_silences()]})


def _bad_request(exc: Exception) -> web.Response:
    return json_response({"error": str(exc)[:500]}, status=400)


def _admin_create(create: Callable[[Any, Any], Awaitable[BaseModel]]) -> Handler:
    """An admin write that makes one thing: 400 (with why) for a body that does not validate,
    else 201 with what `create(alerter, body)` made."""

    @admin_only
    async def handler(request: web.Request) -> web.Response:
        try:
            made = await create(_alerter(request), await request.json())
        except (ValidationError, ValueError) as exc:
            return _bad_request(exc)
        return json_response(made.model_dump(mode="json", exclude_none=True), status=201)

    return handler


def _span(
    start: datetime | None, end: datetime | None, duration: str | None, now: datetime
) -> tuple[datetime, datetime]:
    """From `start` (default now) to `end`, or for `duration`; at most 30 days."""
    begins = start or now
    if end is not None:
        ends = end
    elif duration is not None:
        ends = begins + timedelta(seconds=parse_duration(duration))
    else:
        raise ValueError("give an end time or a duration")
    if ends - begins > MAX_SILENCE:
        raise ValueError("at most 30 days")
    return begins, ends


async def _create_silence(alerter: Any, data: Any) -> BaseModel:
    body = SilenceRequest.model_validate(data)
    starts, ends = _span(body.starts_at, body.ends_at, body.duration, alerter.clock())
    silence: BaseModel = await alerter.add_silence(
        body.matchers, starts, ends, body.comment, body.created_by
    )
    return silence


add_silence = _admin_create(_create_silence)


@admin_only
async def delete_silence(request: web.Request) -> web.Response:
    removed = await _alerter(request).remove_silence(request.match_info["id"])
    return json_response({"removed": removed}, status=200 if removed else 404)


class WindowRequest(BaseModel):
    """`{"name": "db-migration", "services": ["do-db"], "duration": "1h", "comment": ...}`:
    a one-off window from `start` (default now) to `end` or for `duration`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    services: list[str] = Field(default_factory=list, max_length=1000)
    matchers: dict[str, str] = Field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
    duration: str | None = None
    comment: str = Field(default="", max_length=500)
    created_by: str = Field(default="api", max_length=100)


async def list_windows(request: web.Request) -> web.Response:
    alerter = _alerter(request)
    now = alerter.clock()
    listed = []
    for window in alerter.all_windows():
        opening = window.occurrence(now)
        entry = window.model_dump(mode="json", exclude_none=True)
        entry["open"] = opening is not None
        if opening is not None:
            entry["ends_at"] = opening[1].isoformat()
        upcoming = window.next_start(now)
        if upcoming is not None:
            entry["next_start"] = upcoming.isoformat()
        listed.append(entry)
    return json_response({"maintenance": listed})


async def _create_window(alerter: Any, data: Any) -> BaseModel:
    body = WindowRequest.model_validate(data)
    start, end = _span(body.start, body.end, body.duration, alerter.clock())
    if any(w.name == body.name for w in alerter.rules.config.maintenance):
        raise ValueError(f"alerts.yaml already has a window named {body.name!r}")
    window = MaintenanceWindow(
        name=body.name,
        services=tuple(body.services),
        matchers=body.matchers,  # the shorthand, validated
        start=start,
        end=end,
        comment=body.comment,
        created_by=body.created_by,
    )
    await alerter.add_window(window)
    return window


add_window = _admin_create(_create_window)


MAX_DEPLOY_HOLD = timedelta(hours=2)


class DeployRequest(BaseModel):
    """`{"services": ["auth"], "version": "4f2a9c1", "hold": "15m"}`: hold the services' pages
    while the gate runs (at most `hold`); `POST /api/deploys/{id}` `{"passed": ...}` ends it."""

    model_config = ConfigDict(extra="forbid")

    services: list[str] = Field(min_length=1, max_length=1000)
    version: str = Field(min_length=1, max_length=200)
    hold: str = "15m"


class VerdictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passed: bool


async def list_deploys(request: web.Request) -> web.Response:
    deploys = _alerter(request).deploys.values()
    return json_response({"deploys": [d.model_dump(mode="json") for d in deploys]})


async def _create_deploy(alerter: Any, data: Any) -> BaseModel:
    body = DeployRequest.model_validate(data)
    hold = parse_duration(body.hold)
    if not 0 < hold <= MAX_DEPLOY_HOLD.total_seconds():
        raise ValueError("hold: between 1s and 2h")
    deploy: BaseModel = await alerter.open_deploy(tuple(body.services), body.version, hold)
    return deploy


announce_deploy = _admin_create(_create_deploy)


@admin_only
async def deploy_verdict(request: web.Request) -> web.Response:
    alerter = _alerter(request)
    try:
        body = VerdictRequest.model_validate(await request.json())
    except (ValidationError, ValueError) as exc:
        return _bad_request(exc)
    deploy = await alerter.close_deploy(request.match_info["id"], body.passed)
    if deploy is None:
        return json_response({"error": "no such deploy"}, status=404)
    return json_response(deploy.model_dump(mode="json"))


def add_alert_routes(app: web.Application) -> None:
    app.router.add_get("/api/alerts", list_alerts)
    app.router.add_get("/api/silences", list_silences)
    app.router.add_post("/api/silences", add_silence)
    app.router.add_delete("/api/silences/{id}", delete_silence)
    app.router.add_get("/api/maintenance", list_windows)
    app.router.add_post("/api/maintenance", add_window)
    app.router.add_get("/api/deploys", list_deploys)
    app.router.add_post("/api/deploys", announce_deploy)
    app.router.add_post("/api/deploys/{id}", deploy_verdict)
