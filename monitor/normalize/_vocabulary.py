"""The words services use for their own health, and where they put messages and versions.

Shared by the JSON and text parsers so that `"ok"`, `"UP"`, `"pass"` and `true` mean the same
thing everywhere. A word not listed here is not guessed at: it yields None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from monitor.model import Component, Status

_WORDS: dict[str, Status] = {}
for _status, _words in (
    (
        Status.HEALTHY,
        "healthy ok okay up pass passed passing green good alive ready running available online "
        "serving success successful operational fine live normal true yes",
    ),
    (
        Status.DEGRADED,
        "degraded warn warning warnings yellow partial partially_available partial_outage limited "
        "impaired slow maintenance",
    ),
    (
        Status.UNHEALTHY,
        "unhealthy down fail failed failure failing error errored critical crit red bad dead "
        "unavailable not_serving out_of_service outage major_outage offline false no broken "
        "unreachable stopped",
    ),
    (Status.UNKNOWN, "unknown service_unknown indeterminate"),
):
    for _word in _words.split():
        _WORDS[_word] = _status

STATUS_KEYS = ("status", "state", "health", "healthStatus", "health_status", "overall", "result")
BOOL_KEYS = ("healthy", "ok", "up", "alive", "ready", "success", "live", "isHealthy", "is_healthy")
MESSAGE_KEYS = (
    "message",
    "error",
    "detail",
    "details",
    "reason",
    "output",
    "description",
    "msg",
    "cause",
    "error_message",
    "errorMessage",
    "notes",
)
VERSION_KEYS = (
    "version",
    "releaseId",
    "release",
    "commit",
    "commit_sha",
    "commitSha",
    "git_sha",
    "gitSha",
    "sha",
    "revision",
    "build",
    "buildVersion",
    "build_version",
    "git_commit",
    "gitCommit",
)
CONTAINER_KEYS = (
    "components",
    "checks",
    "details",
    "dependencies",
    "services",
    "subsystems",
    "entries",
)
_MAX_COMPONENTS = 50


def status_word(value: Any) -> Status | None:
    """Status named by a word or boolean; None for anything not in the vocabulary."""
    if isinstance(value, bool):
        return Status.HEALTHY if value else Status.UNHEALTHY
    if isinstance(value, str):
        key = re.sub(r"[\s-]+", "_", value.strip().lower())
        return _WORDS.get(key)
    return None


def short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message_of(data: Mapping[str, Any]) -> str:
    """The first human message in a mapping (`message`, `error`, ...), or ''."""
    for key in MESSAGE_KEYS:
        value = data.get(key)
        if value is None:  # most keys are absent: skip the isinstance checks (hot path)
            continue
        if isinstance(value, str) and value.strip():
            return short(value)
        if isinstance(value, Mapping):
            inner = message_of(value)
            if inner:
                return inner
    return ""


def version_of(data: Mapping[str, Any]) -> str | None:
    """A reported version or commit: `version`, `commit`, `git.commit.id`, `build.version`..."""
    for key in VERSION_KEYS:
        value = data.get(key)
        if value is None:
            continue
        if (
            isinstance(value, str | int | float)
            and not isinstance(value, bool)
            and str(value).strip()
        ):
            return short(str(value), 80)
        if isinstance(value, Mapping):
            inner = version_of(value)
            if inner:
                return inner
    git = data.get("git")
    if isinstance(git, Mapping):
        commit = git.get("commit")
        if isinstance(commit, Mapping) and isinstance(commit.get("id"), str):
            return short(commit["id"], 80)
        if isinstance(commit, str):
            return short(commit, 80)
    return None


def status_of(data: Mapping[str, Any]) -> Status | None:
    """The status a mapping declares for itself, by word key first and boolean key second."""
    for key in STATUS_KEYS:
        if key in data:
            value = data[key]
            if isinstance(value, Mapping):
                inner = status_of(value)
                if inner is not None:
                    return inner
                continue
            found = status_word(value)
            if found is not None:
                return found
    for key in BOOL_KEYS:
        if isinstance(data.get(key), bool):
            return Status.HEALTHY if data[key] else Status.UNHEALTHY
    return None


def components_of(data: Mapping[str, Any], skip: Iterable[str] = ()) -> dict[str, Component]:
    """Sub-objects that carry a status of their own: top-level `postgres: {status: ...}` and
    entries of containers such as `components`, `checks` or `services` (mapping or list)."""
    found: dict[str, Component] = {}
    skipped = set(skip)

    def add(name: str, value: Any) -> None:
        if len(found) >= _MAX_COMPONENTS or not isinstance(value, Mapping):
            return
        status = status_of(value)
        if status is not None:
            found[short(str(name), 60)] = Component(status=status, detail=message_of(value))

    for key, value in data.items():
        if key in skipped or key in STATUS_KEYS:
            continue
        if key in CONTAINER_KEYS and isinstance(value, Mapping) and status_of(value) is None:
            for name, item in value.items():
                add(name, item)
        elif key in CONTAINER_KEYS and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    name = item.get("name") or item.get("componentId") or item.get("id") or index
                    add(str(name), item)
        else:
            add(key, value)
    return found
