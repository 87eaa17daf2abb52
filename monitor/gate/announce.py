"""`monitor verify --announce URL`: tell the running daemon a deploy is under way, and how the
gate judged it (the daemon's `POST /api/deploys`, docs/alerting.md).

While the gate waits for the new version to warm up, the daemon holds the deploying services'
pages; the verdict closes the window: a pass goes back to normal, a failure pages at the next
evaluation and names the version. A daemon that cannot be reached does not change the gate's
verdict: it is said on stderr and the gate runs as without `--announce`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

TIMEOUT = 10.0


class AnnounceError(Exception):
    """The daemon did not take the announcement (its answer, never the token)."""


def _post(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            data = json.loads(answer.read(65536) or b"{}")
    except urllib.error.HTTPError as exc:
        raise AnnounceError(f"{url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise AnnounceError(f"{url}: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise AnnounceError(f"{url} answered something that is not a JSON object")
    return data


def announce(
    daemon: str, token: str, services: Sequence[str], version: str, hold: str = "15m"
) -> str:
    """Open the deploy's window; return its id."""
    body = {"services": list(services), "version": version, "hold": hold}
    data = _post(daemon.rstrip("/") + "/api/deploys", token, body)
    deploy_id = data.get("id")
    if not isinstance(deploy_id, str):
        raise AnnounceError("the daemon's answer has no deploy id")
    return deploy_id


def report(daemon: str, token: str, deploy_id: str, passed: bool) -> None:
    """Close the deploy's window with the gate's verdict."""
    _post(daemon.rstrip("/") + f"/api/deploys/{deploy_id}", token, {"passed": passed})
