"""Inputs of an exact length, for the tests of a parser's length limits."""

from __future__ import annotations


def padded(head: str, tail: str, length: int, fill: str) -> str:
    """`head`, then `fill` repeated, then `tail`: exactly `length` characters."""
    text = head + fill * (length - len(head) - len(tail)) + tail
    assert len(text) == length, f"{head!r} and {tail!r} do not fit in {length} characters"
    return text
