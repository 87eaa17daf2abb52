"""A plain-TCP asyncio transport that keeps the kernel's receive time of what it reads.

A busy event loop reads an answer late: at 1,000 checks/s a loopback answer waited ~0.5 ms,
and at a saturated 3,000/s several, for the loop to call `data_received`, and any clock read
there counts that wait as the service's time. Linux stamps every TCP segment as it arrives;
with `SO_TIMESTAMPNS` set, `recvmsg` hands the stamp of the last segment it returns as a
control message (it is the socket layer's receive time, so loopback works too). This transport
reads with `recvmsg` and exposes that stamp as `received_at` in `time.perf_counter` seconds, so
the probe's duration ends when the last byte reached the machine, not when Python saw it.

It implements the transport interface aiohttp's client and asyncio's `SSLProtocol` use
(write, close, abort, flow control, `get_extra_info`, buffered reads) over `loop.add_reader` /
`add_writer`; TLS runs as an `SSLProtocol` on top of it (timing.py), and a protocol above
that layer asks for `get_extra_info("received_at")`. It is used only where `KERNEL_STAMPS`
holds (Linux); a socket that refuses the option reads without stamps, `received_at` then being
the time of the read.
"""

from __future__ import annotations

import asyncio
import contextlib
import platform
import socket
import struct
import sys
import time
from typing import Any

__all__ = ["KERNEL_STAMPS", "StampedTransport", "stamped_connection"]

_GENERIC_ABI = {"x86_64", "i686", "aarch64", "arm64", "armv7l", "riscv64", "ppc64le", "s390x"}

# Python's socket module does not name it: SO_TIMESTAMPNS(_OLD) is 35 in the generic Linux
# ABI (x86, arm, riscv, powerpc, s390); its control message is SCM_TIMESTAMPNS, the same number,
# carrying a struct timespec of two C longs. Other architectures number it differently.
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", None)
if _SO_TIMESTAMPNS is None and sys.platform == "linux" and platform.machine() in _GENERIC_ABI:
    _SO_TIMESTAMPNS = 35
_SCM_TIMESTAMPNS = getattr(socket, "SCM_TIMESTAMPNS", _SO_TIMESTAMPNS)
_TIMESPEC = struct.Struct("@ll")  # tv_sec, tv_nsec
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0
KERNEL_STAMPS = _SO_TIMESTAMPNS is not None and _ANCILLARY > 0 and hasattr(socket.socket, "recvmsg")
"""Whether this platform can stamp reads at all (a socket may still refuse the option). Only
then is the transport used: it needs `recvmsg` and `loop.add_reader`."""

_READ_SIZE = 64 * 1024
_HIGH_WATER = 64 * 1024
_STALE_NS = 5_000_000_000  # a stamp this far behind "now" means the wall clock stepped


class StampedTransport(asyncio.Transport):
    """An asyncio transport over a connected, non-blocking TCP socket; see the module doc."""

    received_at: float | None = None
    """perf_counter seconds at which the last bytes handed to the protocol reached the host."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, protocol: asyncio.Protocol
    ) -> None:
        super().__init__(
            extra={"socket": sock, "sockname": sock.getsockname(), "peername": sock.getpeername()}
        )
        sock.setblocking(False)
        self._ancillary = 0  # room for the stamp's control message; 0 if the option is refused
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)  # type: ignore[arg-type]
            self._ancillary = _ANCILLARY
        self._loop = loop
        self._sock = sock
        self._fd = sock.fileno()
        self._protocol = protocol
        self._buffer = bytearray()
        self._closing = False  # close() called: finish writing, then connection_lost
        self._lost = False  # connection_lost scheduled
        self._reading = True
        self._eof_pending = False
        self._protocol_paused = False
        self._buffered = isinstance(protocol, asyncio.BufferedProtocol)
        protocol.connection_made(self)
        loop.add_reader(self._fd, self._read_ready)

    # -- reading ---------------------------------------------------------------------------

    def _read_ready(self) -> None:
        if self._lost:
            return
        sock, protocol = self._sock, self._protocol
        data: bytes | None = None
        try:
            if self._buffered:  # asyncio's SSLProtocol reads into its own buffer
                buffer = protocol.get_buffer(-1)  # type: ignore[attr-defined]
                size, ancillary, _, _ = sock.recvmsg_into([buffer], self._ancillary)
            else:
                data, ancillary, _, _ = sock.recvmsg(_READ_SIZE, self._ancillary)
                size = len(data)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._force_close(exc)
            return
        if not size:
            self._eof()
            return
        self.received_at = _received_at(ancillary)
        if data is None:
            protocol.buffer_updated(size)  # type: ignore[attr-defined]
        else:
            protocol.data_received(data)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """`received_at` too, so that a protocol above a TLS layer can ask for it."""
        if name == "received_at":
            return self.received_at
        return super().get_extra_info(name, default)

    def _eof(self) -> None:
        self._stop_reading()
        keep_open = self._protocol.eof_received()
        if not keep_open:
            self.close()

    def _stop_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._fd)

    def is_reading(self) -> bool:
        return self._reading and not self._lost

    def pause_reading(self) -> None:
        if not self._closing:
            self._stop_reading()

    def resume_reading(self) -> None:
        if not self._reading and not self._closing and not self._lost:
            self._reading = True
            self._loop.add_reader(self._fd, self._read_ready)

    # -- writing ---------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or self._lost or self._eof_pending or not data:
            return  # nothing goes out after close() or write_eof()
        if not self._buffer:
            try:
                sent = self._sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._force_close(exc)
                return
            if sent == len(data):
                return
            self._loop.add_writer(self._fd, self._write_ready)
            data = memoryview(data)[sent:]
        self._buffer.extend(data)
        if not self._protocol_paused and len(self._buffer) > _HIGH_WATER:
            self._protocol_paused = True
            self._protocol.pause_writing()

    def _write_ready(self) -> None:
        if self._lost:
            return
        try:
            sent = self._sock.send(self._buffer)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._force_close(exc)
            return
        del self._buffer[:sent]
        if self._protocol_paused and len(self._buffer) <= _HIGH_WATER // 4:
            self._protocol_paused = False
            self._protocol.resume_writing()
        if self._buffer:
            return
        self._loop.remove_writer(self._fd)
        if self._eof_pending:
            self._shutdown_write()
        if self._closing:
            self._schedule_lost(None)

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return _HIGH_WATER // 4, _HIGH_WATER

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        if self._closing or self._eof_pending:
            return
        self._eof_pending = True
        if not self._buffer:
            self._shutdown_write()

    def _shutdown_write(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)

    # -- closing ---------------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closing or self._lost

    def close(self) -> None:
        if self._closing or self._lost:
            return
        self._closing = True
        self._stop_reading()
        if not self._buffer:
            self._schedule_lost(None)

    def abort(self) -> None:
        self._force_close(None)

    def _force_close(self, exc: Exception | None) -> None:
        if self._lost:
            return
        if self._buffer:
            self._buffer.clear()
            self._loop.remove_writer(self._fd)
        self._closing = True
        self._stop_reading()
        self._schedule_lost(exc)

    def _schedule_lost(self, exc: Exception | None) -> None:
        if not self._lost:
            self._lost = True
            self._loop.call_soon(self._connection_lost, exc)

    def _connection_lost(self, exc: Exception | None) -> None:
        try:
            self._protocol.connection_lost(exc)
        finally:
            self._sock.close()

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol  # type: ignore[assignment]
        self._buffered = isinstance(protocol, asyncio.BufferedProtocol)

    def __repr__(self) -> str:
        state = "closed" if self._lost else "closing" if self._closing else "open"
        return f"<StampedTransport fd={self._fd} {state}>"


def _received_at(ancillary: list[tuple[int, int, bytes]]) -> float:
    """The kernel's receive stamp of the last segment read, as perf_counter seconds; the
    current perf_counter when there is none or it is implausible (a wall-clock step)."""
    now_ns = time.perf_counter_ns()
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == _SCM_TIMESTAMPNS:
            if len(payload) < _TIMESPEC.size:
                continue
            seconds, nanos = _TIMESPEC.unpack_from(payload)
            # The stamp is wall-clock time; move it onto the monotonic perf_counter clock.
            stamp_ns: int = seconds * 1_000_000_000 + nanos - wall_minus_perf_ns()
            if now_ns - _STALE_NS < stamp_ns <= now_ns:
                return stamp_ns / 1e9
    return now_ns / 1e9


_BRACKET_NS = 10_000
"""Widest perf_counter bracket around a wall-clock read that is trusted as is: reading both
clocks takes well under a microsecond, so a wider one means the thread was preempted between
the reads (a busy 2-core VM does this for 0.1-0.2 ms), which would shift the stamp by as much."""
_BRACKET_TRIES = 5
CONVERSION_ERROR_S = _BRACKET_NS / 2 / 1e9
"""Bound on the error of moving a stamp onto perf_counter, unless every try was preempted."""


def wall_minus_perf_ns() -> int:
    """time.time_ns() - time.perf_counter_ns() at one instant: the wall-clock read is taken
    between two perf_counter reads and set against their midpoint, and the narrowest of a few
    tries is kept, so a preemption between the reads does not become an offset error."""
    best_width, best_offset = -1, 0
    for _ in range(_BRACKET_TRIES):
        before = time.perf_counter_ns()
        wall = time.time_ns()
        after = time.perf_counter_ns()
        width = after - before
        if best_width < 0 or width < best_width:
            best_width, best_offset = width, wall - (before + after) // 2
        if width <= _BRACKET_NS:
            break
    return best_offset


def stamped_connection(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, protocol_factory: Any
) -> tuple[StampedTransport, asyncio.Protocol]:
    """(transport, protocol) for a connected socket, as `loop.create_connection` returns."""
    protocol = protocol_factory()
    return StampedTransport(loop, sock, protocol), protocol
