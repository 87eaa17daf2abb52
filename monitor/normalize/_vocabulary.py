"""The words services use for their own health, and where they put messages and versions.

Shared by the JSON and text parsers so that `"ok"`, `"UP"`, `"pass"` and `true` mean the same
thing everywhere. A word not listed here is not guessed at: it yields None. The mappings read
here are decoded JSON objects, whose keys are always strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from monitor.model import Component, Status

_WORDS: dict[str, Status] = {}
for _status, _words in (
    (
        Status.HEALTHY,
        "healthy ok okay up pass passed passing green good alive ready running available online "
        "serving success successful operational fine live normal true yes working reachable",
    ),
    (
        Status.DEGRADED,
        "degraded warn warning warnings yellow partial partially_available partial_outage limited "
        "impaired slow maintenance",
    ),
    (
        Status.UNHEALTHY,
        "unhealthy down fail failed failure failing error errored err critical crit red bad dead "
        "unavailable not_serving out_of_service outage major_outage offline false no broken "
        "unreachable stopped not_ready unready not_available starting initializing initialising "
        "pre_initializing draining shutting_down stopping sealed",
    ),
    (Status.UNKNOWN, "unknown service_unknown indeterminate"),
):
    for _word in _words.split():
        _WORDS[_word] = _status

STATUS_KEYS = ("status", "state", "health", "healthStatus", "health_status", "overall", "result")
BOOL_KEYS = ("healthy", "ok", "up", "alive", "ready", "success", "live", "isHealthy", "is_healthy")
# the same keys in any case and spelling (`Status`, `AggregatedStatus`, `overall_status`), by rank
_RANKED = ("status", "aggregatedstatus", "overallstatus", "state", "health", "healthstatus")
_STATUS_RANK = {k: i for i, k in enumerate((*_RANKED, "overall", "result"))}
_BOOL_NAMES = {k.lower().replace("_", "") for k in BOOL_KEYS} | {"reachable", "connected"}
# string booleans count under a status or boolean key, never as a component's plain value:
# `{"debug": "false"}` is a setting, not a failing part
_STRING_BOOLEANS = {"true", "false", "yes", "no"}
# keys whose plain-string values describe the answer, not a part of the service
_DESCRIPTIVE_KEYS = {
    "name", "id", "type", "kind", "mode", "role", "env", "environment", "region", "zone", "host",
    "hostname", "node", "service", "timestamp", "time", "uptime", "since", "started", "date",
}  # fmt: skip
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
    if isinstance(value, str) and len(value) <= 40:
        return _word_status(value)
    return None


@lru_cache(maxsize=4096)  # the same few words arrive on every answer: spare the regex
def _word_status(value: str) -> Status | None:
    key = re.sub(r"[\s-]+", "_", value.strip().lower())
    found = _WORDS.get(key)
    if found is None and key.startswith(_WORD_PREFIXES):  # `HEALTH_OK`, `STATE_DOWN`
        found = _WORDS.get(key.split("_", 1)[1])
    return found


_WORD_PREFIXES = ("health_", "status_", "state_")


_NEGATIONS = {"not", "no", "never", "isn't", "aren't", "isnt", "arent"}
_FLIPPED = {Status.HEALTHY: Status.UNHEALTHY, Status.UNHEALTHY: Status.HEALTHY}
_SENTENCE = re.compile(r"^[\w .,'()/&+-]{1,100}$")
_LEADING_CODE = re.compile(r"^(?:error\s+)?[1-5]\d\d\s+", re.IGNORECASE)
# what an HTTP server prints for the status code itself says nothing about the service's health
_REASON_PHRASES = {s.phrase.lower() for s in HTTPStatus} | {
    "service temporarily unavailable",
    "gateway time-out",
    "server error",
}


def sentence_status(text: str) -> Status | None:
    """A one-sentence answer whose last word (or two) is a status: `Prometheus Server is Healthy.`,
    `Ingester not ready`, `Application up`, `SERVER_IS_NOT_SHUTTING_DOWN`.

    The status must end the sentence: `No server is available to handle this request` states
    nothing. A bare HTTP reason phrase (`Service Unavailable`, `200 OK`) is the server talking
    about the status code, not a report: None.
    """
    text = _LEADING_CODE.sub("", text.strip().replace("_", " ")).rstrip(".! ")
    if not _SENTENCE.match(text) or text.lower() in _REASON_PHRASES:
        return None
    words = text.lower().split()
    if len(words) > 10:
        return None
    for size in (2, 1):  # two-word predicates first: "shutting down", "not ready"
        if len(words) < size:
            continue
        found = status_word("_".join(words[-size:]))
        if found is None:
            continue
        if len(words) > size and words[-size - 1] in _NEGATIONS:
            return _FLIPPED.get(found)
        return found
    return None


def status_phrase(text: str) -> tuple[Status, str] | None:
    """A one-line answer: a status word (`ERROR`), a word or sentence before a colon and a detail
    (`WARN: inconsistent objects`, `unavailable: connection refused`, `Ingester not ready:
    waiting for 15s`), or a sentence. Returns the status and the detail after the colon.

    The head before the first colon must be a status on its own, so a multi-line value (a
    component's string) is read only as `status: detail`, its detail collapsed by `short`."""
    line = text.strip()
    if len(line) > 300:
        return None
    head, _, rest = line.partition(":")  # without a colon, the head is the whole line
    found = status_word(head.rstrip(".!")) or sentence_status(head)
    return None if found is None else (found, short(rest.strip()))


CONTROL_CHARS = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]"
)
"""Control, zero-width and direction characters: dropped from what people read (a NUL or a
right-to-left override in a detail; a zero-width space splitting a secret past the scrubber)."""


def short(text: str, limit: int = 160) -> str:
    text = " ".join(CONTROL_CHARS.sub("", text).split())
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


@lru_cache(maxsize=4096)
def _key_rank(key: str) -> int | None:
    return _STATUS_RANK.get(key.lower().replace("_", ""))


def _ranked_status_keys(data: Mapping[str, Any]) -> list[str]:
    found = []
    for key in data:
        rank = _key_rank(key)
        if rank is not None:
            found.append((rank, key))
    return [key for _, key in sorted(found)]


def status_field(data: Mapping[str, Any]) -> tuple[str, Status] | None:
    """The status a mapping declares for itself and the key it sits under (`status`, `Status`,
    `AggregatedStatus`, `health.status`...), by word key first and boolean key second. String
    booleans count under boolean keys: `{"healthy": "true"}`."""
    for key in _ranked_status_keys(data):
        value = data[key]
        if isinstance(value, Mapping):
            inner = status_field(value)
            if inner is not None:
                return f"{key}.{inner[0]}", inner[1]
            continue
        found = status_word(value)
        if found is not None:
            return key, found
    for key, value in data.items():
        if key.lower().replace("_", "") not in _BOOL_NAMES:
            continue
        if isinstance(value, bool) or (
            isinstance(value, str) and value.strip().lower() in _STRING_BOOLEANS
        ):
            return key, Status.HEALTHY if status_word(value) is Status.HEALTHY else Status.UNHEALTHY
    return None


def status_of(data: Mapping[str, Any]) -> Status | None:
    """The status a mapping declares for itself (see `status_field`)."""
    field = status_field(data)
    return None if field is None else field[1]


def _item_name(item: Mapping[str, Any], index: int) -> str:
    for key in ("name", "Name", "componentId", "CheckID", "id", "ID"):
        if isinstance(item.get(key), str | int) and not isinstance(item.get(key), bool):
            return str(item[key])
    return str(index)


def _item_detail(item: Mapping[str, Any]) -> str:
    detail = message_of(item)
    if detail:
        return detail
    for key in ("Output", "Notes"):  # Consul's; `output` and `notes` are message keys
        if isinstance(item.get(key), str) and item[key].strip():
            return short(item[key])
    return ""


def components_of_list(items: list[Any]) -> dict[str, Component]:
    """A list of checks, each an object with its own status: `[{"Name": ..., "Status":
    "passing", "Output": ...}]`."""
    found: dict[str, Component] = {}
    for index, item in enumerate(items[: _MAX_COMPONENTS * 2]):
        if len(found) >= _MAX_COMPONENTS:
            break
        if isinstance(item, Mapping):
            status = status_of(item)
            if status is not None:
                name = short(_item_name(item, index), 60)
                found[name] = Component(status=status, detail=_item_detail(item))
    return found


def _plain_component(key: str, value: str) -> Component | None:
    """`"database": "ok"`, `"DatabaseBackend": "unavailable: connection refused"`."""
    if key.lower() in _DESCRIPTIVE_KEYS or value.strip().lower() in _STRING_BOOLEANS:
        return None
    phrase = status_phrase(value)
    return None if phrase is None else Component(status=phrase[0], detail=phrase[1])


_NOT_PARTS = set(MESSAGE_KEYS) | set(VERSION_KEYS)


def components_of(data: Mapping[str, Any]) -> dict[str, Component]:
    """Sub-objects that carry a status of their own: top-level `postgres: {status: ...}` and
    entries of containers such as `components`, `checks` or `services` (mapping or list). In a
    mapping with no status of its own, plain-string values that are statuses count too
    (`{"database": "ok"}`): such a mapping is a component map."""
    found: dict[str, Component] = {}
    plain = status_of(data) is None

    def add(name: str, value: Any) -> None:
        if len(found) >= _MAX_COMPONENTS:
            return
        if isinstance(value, Mapping):
            status = status_of(value)
            if status is not None:
                found[short(str(name), 60)] = Component(status=status, detail=_item_detail(value))
        elif plain and isinstance(value, str) and name not in _NOT_PARTS:
            component = _plain_component(str(name), value)
            if component is not None:
                found[short(str(name), 60)] = component

    status_keys = set(_ranked_status_keys(data))
    for key, value in data.items():
        if key in status_keys:
            continue
        container = key.lower() in CONTAINER_KEYS
        if container and isinstance(value, Mapping) and status_of(value) is None:
            for name, item in value.items():
                add(name, item)
        elif container and isinstance(value, list):
            for name, component in components_of_list(value).items():
                if len(found) < _MAX_COMPONENTS:
                    found[name] = component
        else:
            add(key, value)
    return found
