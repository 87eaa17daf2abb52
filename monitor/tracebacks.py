"""Let a caught exception die by reference counting, not by the next garbage collection.

An exception's traceback holds every frame it passed through, and each frame its locals: the
protocol that raised it (which itself holds the exception: a cycle), the bytes it was parsing,
a TLS layer's 256 KiB buffer. Only the cyclic collector frees such a cycle, and the young
threshold `monitor run` raises (gc_policy.py) makes collections rare, so under a stream of
failing services those buffers piled up (~11 MB/min, issue 21). Dropping the tracebacks along
the `__cause__`/`__context__` chain once the error has been classified breaks the cycles.
"""

from __future__ import annotations

__all__ = ["drop_tracebacks"]


def drop_tracebacks(exc: BaseException) -> None:
    """Detach the traceback of `exc` and of every exception it was raised from or during.

    Frames are not cleared (`frame.clear()` would finalize a coroutine still suspended in one),
    only unlinked: what they alone kept alive is freed at once. Call it when nothing will read
    the tracebacks again.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += (current.__cause__, current.__context__)
        if isinstance(current, BaseExceptionGroup):
            pending += current.exceptions
