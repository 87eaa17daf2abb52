"""HTTP API for alerts and silences: `GET /api/alerts`, `GET|POST /api/silences`,
`DELETE /api/silences/{id}`. Writes need the admin token (a deploy window is silenced by the
pipeline, not by anyone who can reach the port)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.durations import parse_duration
from monitor.http.auth import require_admin
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


async def add_silence(request: web.Request) -> web.Response:
    refused = require_admin(request)
    if refused is not None:
        return refused
    alerter = _alerter(request)
    try:
        body = SilenceRequest.model_validate(await request.json())
        now = alerter.clock()
        starts = body.starts_at or now
        if body.ends_at is not None:
            ends = body.ends_at
        elif body.duration is not None:
            ends = starts + timedelta(seconds=parse_duration(body.duration))
        else:
            raise ValueError("give ends_at or duration")
        if ends - starts > MAX_SILENCE:
            raise ValueError("a silence lasts at most 30 days")
        silence = await alerter.add_silence(
            body.matchers, starts, ends, body.comment, body.created_by
        )
    except (ValidationError, ValueError) as exc:
        return json_response({"error": str(exc)[:500]}, status=400)
    return json_response(silence.model_dump(mode="json"), status=201)


async def delete_silence(request: web.Request) -> web.Response:
    refused = require_admin(request)
    if refused is not None:
        return refused
    removed = await _alerter(request).remove_silence(request.match_info["id"])
    return json_response({"removed": removed}, status=200 if removed else 404)


def add_alert_routes(app: web.Application) -> None:
    app.router.add_get("/api/alerts", list_alerts)
    app.router.add_get("/api/silences", list_silences)
    app.router.add_post("/api/silences", add_silence)
    app.router.add_delete("/api/silences/{id}", delete_silence)
