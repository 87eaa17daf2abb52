"""One mcp check's conversation over streamable HTTP: requests, replies, the session.

Every request is a POST to the check's URL over the shared client. Answers may be JSON or an
SSE stream: the stream is read only until the answer to the request, within the byte cap, so a
stream that never ends costs the check's one deadline. Non-2xx answers become an `Answer` for
the HTTP normalizer, except a JSON-RPC error in a 4xx body of the stateless era (that era
answers an unknown method or version so). Which requests to send is probes/mcp.py's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp

from monitor import __version__
from monitor.answer import Answer, Finding
from monitor.checks.mcp import MODERN_REVISION
from monitor.config import Check
from monitor.model import Certificate, Reason, Status
from monitor.probes._aiohttp_compat import response_protocol
from monitor.probes.http import USER_AGENT, _headers, _read_capped
from monitor.tls.context import client_context
from monitor.tls.probe import transport_certificate

CAP_FACTOR = 16
"""An MCP answer may hold max_body_bytes times this (1 MiB by default): tool schemas add up."""
HEADER_MISMATCH, MISSING_CAPABILITY, UNSUPPORTED_VERSION = -32020, -32021, -32022
"""The JSON-RPC errors that only a server of the stateless era sends (schema 2026-07-28)."""
MODERN_ERRORS = frozenset({HEADER_MISMATCH, MISSING_CAPABILITY, UNSUPPORTED_VERSION})


class McpProblem(Exception):
    """The exchange went wrong in MCP terms: carries the finding (with the JSON-RPC `error`
    object when the server sent one), or an HTTP answer for the normalizer (a 404 at the path,
    a 401, a 5xx)."""

    def __init__(
        self,
        finding: Finding | None = None,
        answer: Answer | None = None,
        error: dict[str, Any] | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(finding.detail if finding else "http answer")
        self.finding = finding
        self.answer = answer
        self.error = error
        self.http_status = http_status


def _finding(reason: Reason, detail: str) -> Finding:
    return Finding(Status.UNHEALTHY, reason, " ".join(detail.split())[:400])


def unhealthy(reason: Reason, detail: str) -> McpProblem:
    return McpProblem(_finding(reason, detail))


def client_info() -> dict[str, str]:
    return {"name": "fleet-monitor", "version": __version__}


def _meta() -> dict[str, Any]:
    """What every request of the stateless era carries instead of a handshake."""
    return {
        "io.modelcontextprotocol/protocolVersion": MODERN_REVISION,
        "io.modelcontextprotocol/clientInfo": client_info(),
        "io.modelcontextprotocol/clientCapabilities": {},
    }


class Exchange:
    """One check's conversation: the session, the negotiated revision, the certificate."""

    def __init__(self, session: aiohttp.ClientSession, check: Check) -> None:
        self.session, self.check = session, check
        self.cap = check.max_body_bytes * CAP_FACTOR
        self.session_id: str | None = None
        self.revision: str | None = None
        self.certificate: Certificate | None = None
        self.findings: list[Finding] = []
        self.next_id = 0
        self.modern = False
        self.tools_capability = True
        self.step = "connecting"
        self.options: dict[str, Any] = {}
        if check.tls is not None:
            context = client_context(check.tls)
            if context is not None:
                self.options["ssl"] = context
            if check.tls.server_name:
                self.options["server_hostname"] = check.tls.server_name

    def headers(self) -> dict[str, str]:
        headers = {name: value.get_secret_value() for name, value in self.check.headers.items()}
        headers.update(
            {
                "User-Agent": USER_AGENT,
                "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json",
            }
        )
        if self.session_id is not None:
            headers["Mcp-Session-Id"] = self.session_id
        if self.revision is not None:
            headers["MCP-Protocol-Version"] = self.revision
        return headers

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """A request: its `result`, or McpProblem with the server's error. In the stateless
        era the request carries its version and client in `_meta`."""
        self.next_id += 1
        self.step = method
        if self.modern:
            params = {**(params or {}), "_meta": _meta()}
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        async with self._post(message) as response:
            self._observe(response)
            if method == "initialize":
                self.session_id = response.headers.get("Mcp-Session-Id") or None
            status = response.status
            reply = await self._reply(response, self.next_id, method)
        if not isinstance(reply, dict):
            raise unhealthy(Reason.PROTOCOL_ERROR, f"{method}: the answer is not a JSON-RPC object")
        error = reply.get("error")
        if error is not None:
            code = error.get("code") if isinstance(error, dict) else None
            text = error.get("message") if isinstance(error, dict) else error
            raise McpProblem(
                _finding(Reason.MCP_ERROR, f"{method} failed: JSON-RPC error {code}: {text}"),
                error=error if isinstance(error, dict) else {"message": error},
                http_status=status,
            )
        if "result" not in reply:
            raise unhealthy(Reason.PROTOCOL_ERROR, f"{method}: a JSON-RPC answer without result")
        return reply["result"]

    async def notify(self, method: str) -> None:
        self.step = method
        async with self._post({"jsonrpc": "2.0", "method": method}) as response:
            await self._http_problem(response)
            await _read_capped(response, 4096)

    def _post(self, message: dict[str, Any]) -> Any:
        headers = self.headers()
        if self.modern:
            headers["Mcp-Method"] = message["method"]
        return self.session.post(
            self.check.url,
            data=json.dumps(message).encode(),
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.check.timeout),
            **self.options,
        )

    def _observe(self, response: aiohttp.ClientResponse) -> None:
        if self.check.tls is not None and self.certificate is None:
            transport = getattr(response_protocol(response), "transport", None)
            host = response.url.host or ""
            self.certificate, expiry = transport_certificate(transport, self.check.tls, host)
            self.findings.extend(expiry)

    async def _http_problem(self, response: aiohttp.ClientResponse) -> Any:
        """Nothing for a 2xx; else McpProblem with the answer for the normalizer, except a
        JSON-RPC error in a 4xx body in the stateless era, which is returned as the reply
        (that era answers an unknown method or version with 404 or 400 and one)."""
        if 200 <= response.status < 300:
            return None
        body, truncated = await _read_capped(response, self.check.max_body_bytes)
        if self.modern and 400 <= response.status < 500:
            with contextlib.suppress(ValueError, RecursionError):
                reply = json.loads(body)
                if isinstance(reply, dict) and isinstance(reply.get("error"), dict):
                    return reply
        answer = Answer(
            url=self.check.url,
            status_code=response.status,
            headers=_headers(response),
            body=body,
            truncated=truncated,
            body_cap=self.check.max_body_bytes if truncated else 0,
        )
        raise McpProblem(answer=answer, http_status=response.status)

    async def _reply(self, response: aiohttp.ClientResponse, request_id: int, method: str) -> Any:
        error_reply = await self._http_problem(response)
        if error_reply is not None:
            return error_reply
        media = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if media == "application/json":
            body, truncated = await _read_capped(response, self.cap)
            if truncated:
                raise unhealthy(Reason.PROTOCOL_ERROR, f"{method}: answer over {self.cap} bytes")
            return _ours(_json(body, method), request_id)
        if media == "text/event-stream":
            return await self._event_reply(response, request_id, method)
        raise unhealthy(
            Reason.PROTOCOL_ERROR,
            f"{method}: answered {media or 'no content type'}, "
            "expected application/json or text/event-stream",
        )

    async def _event_reply(
        self, response: aiohttp.ClientResponse, request_id: int, method: str
    ) -> Any:
        """Read SSE events until the one answering `request_id`; then stop reading."""
        data: list[str] = []
        size = 0
        try:
            async for raw in response.content:
                size += len(raw)
                if size > self.cap:
                    break
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif not line and data:
                    reply = _ours(_json("\n".join(data).encode(), method), request_id)
                    data = []
                    if reply is not None:
                        response.close()  # the rest of the stream is not ours to wait for
                        return reply
        except ValueError as exc:  # aiohttp: a line over its buffer limit
            raise unhealthy(Reason.PROTOCOL_ERROR, f"{method}: bad event stream ({exc})") from None
        if size > self.cap:
            response.close()
            raise unhealthy(Reason.PROTOCOL_ERROR, f"{method}: event stream over {self.cap} bytes")
        raise unhealthy(Reason.PROTOCOL_ERROR, f"{method}: event stream ended without the answer")

    async def close(self) -> None:
        """Delete the session (405 or any failure is fine: best effort, briefly)."""
        if self.session_id is None:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                async with self.session.delete(
                    self.check.url, headers=self.headers(), allow_redirects=False, **self.options
                ) as response:
                    response.release()


def _json(body: bytes, method: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise unhealthy(Reason.PROTOCOL_ERROR, f"{method}: the answer is not JSON") from None


def _ours(message: Any, request_id: int) -> Any:
    """The JSON-RPC response to `request_id` in a message or a batch; None if not there."""
    for item in message if isinstance(message, list) else [message]:
        if (
            isinstance(item, dict)
            and item.get("id") == request_id
            and ("result" in item or "error" in item)
        ):
            return item
    return None
