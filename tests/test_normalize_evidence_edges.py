"""The evidence excerpt (normalize/evidence.py) at its limits: 200 characters of text, 800 bytes
read (4 per character), the cut marked, control characters dropped, credentials redacted with
their names kept. Expected excerpts are written out."""

from __future__ import annotations

import pytest

from monitor.normalize.evidence import evidence_snippet


@pytest.mark.parametrize(
    ("body", "snippet"),
    [
        (b"a" * 200, "a" * 200),
        (b"a" * 201, "a" * 199 + "…"),
        # more than 800 bytes: cut even when the text read is short, since more was not read
        (b" " * 790 + b"a" * 10, "a" * 10),
        (b" " * 790 + b"a" * 11, "a" * 10 + "…"),
        # only the first 800 bytes are read
        (b" " * 700 + b"a" * 300, "a" * 100 + "…"),
        (b"b" * 100, "b" * 100),
    ],
)
def test_the_excerpt_is_cut_at_200_characters_or_800_bytes(body: bytes, snippet: str) -> None:
    assert evidence_snippet(body) == snippet


def test_control_characters_are_dropped_and_space_folded() -> None:
    assert evidence_snippet(b"\x1b[31mfail\x00\x07ed\r\n\t now ") == "[31mfailed now"
    assert evidence_snippet("a\u200bb\u2028c".encode()) == "abc"


@pytest.mark.parametrize(
    ("body", "snippet"),
    [
        (b"Authorization: Bearer abc123", "Authorization: Bearer [redacted]"),
        (b'{"password": "p w", "user": "ann"}', '{"password": "[redacted]", "user": "ann"}'),
        (b"GET /x?access_token=abc&page=2", "GET /x?access_token=[redacted]&page=2"),
        (b"sent Basic dXNlcjpwdw== to it", "sent Basic [redacted] to it"),
    ],
)
def test_credentials_are_redacted_and_their_names_kept(body: bytes, snippet: str) -> None:
    assert evidence_snippet(body) == snippet
