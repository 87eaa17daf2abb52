"""A load target for the tests and bench/load.py: keep-alive HTTP/1.1 on loopback that holds
each request for a delay drawn from a known distribution, optionally stalls (the whole server
sleeps) for `--stall` seconds once a second, and keeps its own record of every request: the
kernel's receive time of the request (SO_TIMESTAMPNS, so a request that arrives during a stall
is stamped when it arrived, not when the server woke up), when it started work on it, and when
it wrote the answer.

Run as `python -m tests.load_server RECORD.json [--stall 0.2] [--median 0.002] [--status 200]`
in its own process (a server thread would share the GIL with the generator being measured);
it prints its port, then `first` once the first request is in, serves until stdin closes, then
writes the record (perf_counter seconds; the clock is system-wide, so the bench can set it
against its own run).
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import random
import select
import socket
import struct
import sys
import time

from monitor.probes.stamped_transport import wall_minus_perf_ns

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
TIMESPEC = struct.Struct("@ll")
ANCILLARY = socket.CMSG_SPACE(TIMESPEC.size)
BODIES = {200: (b'{"status":"ok"}', "application/json"), 500: (b"error code: 1101", "text/plain")}
SIGMA = 0.5
"""Lognormal hold around the median: 2 ms gives p95 ~4.6 ms, p99 ~6.4 ms (nominal; the
truth is the record)."""
STALL_EVERY_S = 1.0


def answer(status: int) -> bytes:
    body, kind = BODIES.get(status, (b"{}", "application/json"))
    head = f"HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\n"
    return head.encode() + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def serve(record_path: str, stall: float, median: float, status: int) -> None:
    reply = answer(status)
    rng = random.Random(19)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    listener.setblocking(False)
    poller = select.epoll()
    poller.register(listener.fileno(), select.EPOLLIN)
    poller.register(sys.stdin.fileno(), select.EPOLLIN)
    conns: dict[int, socket.socket] = {}
    pending: dict[int, bytes] = {}
    due: list[tuple[float, int, int, float, float]] = []  # (write at, seq, fd, arrival, start)
    records: list[tuple[float, float, float]] = []
    stalls: list[tuple[float, float]] = []
    offset_ns = wall_minus_perf_ns()
    seq = 0
    print(listener.getsockname()[1], flush=True)
    next_stall = time.perf_counter() + STALL_EVERY_S
    running = True
    while running:
        now = time.perf_counter()
        if stall and now >= next_stall:
            time.sleep(stall)  # the whole server stops: nothing is read or written
            stalls.append((now, time.perf_counter()))
            next_stall += STALL_EVERY_S
            now = time.perf_counter()
        while due and due[0][0] <= now:
            _, _, fd, arrival, start = heapq.heappop(due)
            sock = conns.get(fd)
            if sock is not None:
                written = time.perf_counter()
                with contextlib.suppress(OSError):
                    sock.send(reply)
                records.append((arrival, start, written))
            now = time.perf_counter()
        wait = due[0][0] - now if due else 0.05
        if stall:
            wait = min(wait, max(0.0, next_stall - now))
        for fd, _events in poller.poll(max(0.0, wait)):
            if fd == listener.fileno():
                while True:
                    try:
                        sock, _ = listener.accept()
                    except BlockingIOError:
                        break
                    sock.setblocking(False)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                    conns[sock.fileno()] = sock
                    poller.register(sock.fileno(), select.EPOLLIN)
                continue
            if fd == sys.stdin.fileno():
                running = False
                continue
            sock = conns[fd]
            try:
                data, ancillary, _, _ = sock.recvmsg(65536, ANCILLARY)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data, ancillary = b"", []
            if not data:
                poller.unregister(fd)
                conns.pop(fd).close()
                pending.pop(fd, None)
                continue
            start = time.perf_counter()
            arrival = start
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = TIMESPEC.unpack_from(payload)
                    arrival = min(start, (sec * 1_000_000_000 + nsec - offset_ns) / 1e9)
            buffer = pending.get(fd, b"") + data
            *requests, rest = buffer.split(b"\r\n\r\n")
            pending[fd] = rest
            if requests and not seq:
                print("first", flush=True)
            for _ in requests:
                seq += 1
                hold = rng.lognormvariate(0.0, SIGMA) * median if median else 0.0
                heapq.heappush(due, (start + hold, seq, fd, arrival, start))
    with open(record_path, "w", encoding="utf-8") as file:
        json.dump({"requests": records, "stalls": stalls}, file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("record")
    parser.add_argument("--stall", type=float, default=0.0, help="seconds, once a second")
    parser.add_argument("--median", type=float, default=0.002, help="hold, seconds")
    parser.add_argument("--status", type=int, default=200)
    args = parser.parse_args()
    serve(args.record, args.stall, args.median, args.status)


if __name__ == "__main__":
    main()
