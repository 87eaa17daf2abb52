"""Properties of the normalizer: whatever arrives, a valid verdict and never an exception; the
shapes we know keep their classification when keys are reordered or unknown fields added."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.answer import Answer, TransportError
from monitor.model import Reason, Status, Verdict
from monitor.normalize import normalize_response
from monitor.normalize.evidence import EVIDENCE_CHARS
from monitor.simulator import seed_fleet

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CONTENT_TYPES = [
    "",
    "application/json",
    "application/json; charset=utf-8",
    "application/health+json",
    "application/problem+json",
    "text/plain",
    "text/plain; charset=latin-1",
    "text/plain; charset=no-such-charset",
    "text/html",
    "image/png",
    "application/octet-stream",
]
JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
STATUS_WORDS = st.sampled_from(
    ["ok", "UP", "pass", "warn", "fail", "DOWN", "degraded", "error", "healthy", "?", ""]
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Arbitrary bytes, and the shapes that reach deeper into the parsers."""
    kind = draw(st.sampled_from(["bytes", "text", "json", "status"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "text":
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    if kind == "json":
        return json.dumps(draw(JSON_VALUES)).encode()
    status = {
        "status": draw(STATUS_WORDS),
        **draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3)),
    }
    return json.dumps(status).encode()


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    error = draw(st.none() | st.sampled_from(list(TransportError)))
    code = draw(st.none() | st.integers(100, 599)) if error else draw(st.integers(100, 599))
    headers = {"content-type": draw(st.sampled_from(CONTENT_TYPES))}
    headers.update(
        draw(
            st.dictionaries(
                st.sampled_from(["server", "cf-error-code", "cf-error-type", "location", "x-a"]),
                st.text(max_size=30),
                max_size=3,
            )
        )
    )
    return Answer(
        url="http://127.0.0.1:1/health",
        status_code=code,
        headers=headers,
        body=b"" if error else draw(bodies()),
        truncated=draw(st.booleans()),
        error=error,
        error_detail=draw(st.text(max_size=40)),
    )


@FAST
@given(answers())
def test_any_answer_gives_a_valid_verdict(answer: Answer) -> None:
    verdict = normalize_response(answer)
    assert Verdict.model_validate(verdict.model_dump()) == verdict
    assert len(verdict.evidence) <= EVIDENCE_CHARS
    assert verdict.http_status == answer.status_code
    if answer.error is not None:
        assert verdict.status is Status.UNHEALTHY
    elif verdict.status is Status.HEALTHY:
        assert answer.status_code is not None and answer.status_code < 400


def reorder(value: Any, rnd: random.Random) -> Any:
    """The same JSON with every object's keys in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {key: reorder(item, rnd) for key, item in items}
    if isinstance(value, list):
        return [reorder(item, rnd) for item in value]
    return value


def _seed_body(service: str) -> Any:
    spec = next(s for s in seed_fleet() if s.name == service)
    return json.loads(spec.routes["/health"].render_body())


KNOWN_SHAPES: dict[str, tuple[str, Any, Status, Reason]] = {
    "seed gateway": ("application/json", _seed_body("do-gateway"), Status.HEALTHY, Reason.OK),
    "seed db": ("application/json", _seed_body("do-db"), Status.DEGRADED, Reason.REPORTED_DEGRADED),
    "seed schedule": ("application/json", _seed_body("do-schedule"), Status.HEALTHY, Reason.OK),
    "spring up": (
        "application/vnd.spring-boot.actuator.v3+json",
        {
            "status": "UP",
            "components": {
                "db": {"status": "UP", "details": {"database": "PostgreSQL"}},
                "diskSpace": {"status": "UP", "details": {"free": 1, "total": 2}},
            },
        },
        Status.HEALTHY,
        Reason.OK,
    ),
    "spring down": (
        "application/json",
        {"status": "DOWN", "components": {"db": {"status": "DOWN"}, "ping": {"status": "UP"}}},
        Status.UNHEALTHY,
        Reason.REPORTED_UNHEALTHY,
    ),
    "health+json pass": (
        "application/health+json",
        {
            "status": "pass",
            "version": "1",
            "checks": {"db:responseTime": [{"status": "pass", "observedValue": 3}]},
        },
        Status.HEALTHY,
        Reason.OK,
    ),
    "health+json warn": (
        "application/health+json",
        {"status": "warn", "checks": {"disk:utilization": [{"status": "warn", "output": "90%"}]}},
        Status.DEGRADED,
        Reason.REPORTED_DEGRADED,
    ),
}
UNKNOWN_FIELDS = st.dictionaries(
    st.text(min_size=1, max_size=10).map(lambda k: f"zz_{k}"),
    JSON_LEAVES | st.lists(JSON_LEAVES, max_size=3),
    max_size=4,
)


@pytest.mark.parametrize("shape", list(KNOWN_SHAPES))
@settings(max_examples=40, deadline=None)
@given(rnd=st.randoms(use_true_random=False), extra=UNKNOWN_FIELDS)
def test_known_shapes_keep_their_class(
    shape: str, rnd: random.Random, extra: dict[str, Any]
) -> None:
    content_type, body, status, reason = KNOWN_SHAPES[shape]
    mutated = reorder({**body, **extra}, rnd)
    answer = Answer(
        url="http://127.0.0.1:1/health",
        status_code=200,
        headers={"content-type": content_type},
        body=json.dumps(mutated).encode(),
    )
    verdict = normalize_response(answer)
    assert (verdict.status, verdict.reason) == (status, reason), verdict.detail
