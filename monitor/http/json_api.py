"""What every JSON handler of the daemon shares: the app key under which the running `Monitor`
lives, and the one way a JSON answer is written (indented, never cached)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from monitor.runtime.daemon import Monitor

MONITOR_KEY: web.AppKey[Monitor] = web.AppKey("monitor", Monitor)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, indent=2, default=str),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
