"""A keep-alive HTTP server that holds every answer DELAY seconds, run in its own process.

The timing tests keep the client's event loop busy while an answer is on its way; a server
thread in the same process would need the GIL that busy loop holds, and its answer would leave
late for a reason that has nothing to do with the probe. Run as
`python -m tests.delayed_server DELAY [CERT KEY]`; it prints its port and serves until stdin closes.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import sys
import threading
import time


class _DelayedHandler(socketserver.BaseRequestHandler):
    server: DelayedServer

    def handle(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with contextlib.suppress(OSError):  # a client gone mid-handshake or without close_notify
            if self.server.tls is None:
                self._serve(self.request)
                return
            with self.server.tls.wrap_socket(self.request, server_side=True) as conn:
                self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        body = b'{"status":"ok"}'
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        answer += b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        pending = b""
        for _ in range(100):  # bounded: a test sends a handful of requests
            while b"\r\n\r\n" not in pending:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                pending += chunk
            _, _, pending = pending.partition(b"\r\n\r\n")
            time.sleep(self.server.delay)  # the injected service time
            conn.sendall(answer)


class DelayedServer(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self, delay: float, tls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _DelayedHandler)
        self.delay, self.tls = delay, tls


def main(argv: list[str]) -> None:
    tls = None
    if len(argv) == 3:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(argv[1], argv[2])
    server = DelayedServer(float(argv[0]), tls)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # the test closes stdin (or dies) to stop the server
    server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
