"""The mcp probe: the streamable HTTP handshake of the Model Context Protocol, then tools/list.

`initialize` (asking for the newest revision it speaks) → `notifications/initialized` →
`tools/list` (its pages followed, at most `MAX_PAGES`), every request a POST to the check's
URL over the shared client, with `Mcp-Session-Id` once the server gave one and
`MCP-Protocol-Version` after the handshake; the session is deleted at the end so checks do not
fill a server's session table. Answers may be JSON or an SSE stream: the stream is read only
until the answer to the request, within the byte cap and the check's one deadline, so a stream
that never ends costs one timeout. Non-2xx answers go to the HTTP normalizer like any check's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from typing import Any

import aiohttp

from monitor import __version__
from monitor.answer import ERROR_DETAIL_CHARS, Answer, Finding, TransportError
from monitor.checks.mcp import REVISIONS, McpSpec
from monitor.config import Check
from monitor.model import Certificate, Reason, Status
from monitor.probes._aiohttp_compat import response_protocol
from monitor.probes.http import USER_AGENT, _headers, _read_capped, classify_exception
from monitor.tls.context import client_context
from monitor.tls.probe import transport_certificate
from monitor.tracebacks import drop_tracebacks

MAX_PAGES = 20
"""tools/list pages followed at most: a cursor that never ends is a protocol error."""
CAP_FACTOR = 16
"""An MCP answer may hold max_body_bytes times this (1 MiB by default): tool schemas add up."""
SHOWN_TOOLS = 8


class McpProblem(Exception):
    """The exchange went wrong in MCP terms: carries the finding, or an HTTP answer for the
    normalizer (a 404 at the path, a 401, a 5xx)."""

    def __init__(self, finding: Finding | None = None, answer: Answer | None = None) -> None:
        super().__init__(finding.detail if finding else "http answer")
        self.finding = finding
        self.answer = answer


def _unhealthy(reason: Reason, detail: str) -> McpProblem:
    return McpProblem(Finding(Status.UNHEALTHY, reason, " ".join(detail.split())[:400]))


class _Exchange:
    """One check's conversation: the session, the negotiated revision, the certificate."""

    def __init__(self, session: aiohttp.ClientSession, check: Check) -> None:
        self.session, self.check = session, check
        self.cap = check.max_body_bytes * CAP_FACTOR
        self.session_id: str | None = None
        self.revision: str | None = None
        self.certificate: Certificate | None = None
        self.findings: list[Finding] = []
        self.next_id = 0
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
        """A request: its `result`, or McpProblem with the server's error."""
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        async with self._post(message) as response:
            self._observe(response)
            if method == "initialize":
                self.session_id = response.headers.get("Mcp-Session-Id") or None
            reply = await self._reply(response, self.next_id, method)
        if not isinstance(reply, dict):
            raise _unhealthy(
                Reason.PROTOCOL_ERROR, f"{method}: the answer is not a JSON-RPC object"
            )
        error = reply.get("error")
        if error is not None:
            code = error.get("code") if isinstance(error, dict) else None
            text = error.get("message") if isinstance(error, dict) else error
            raise _unhealthy(Reason.MCP_ERROR, f"{method} failed: JSON-RPC error {code}: {text}")
        if "result" not in reply:
            raise _unhealthy(Reason.PROTOCOL_ERROR, f"{method}: a JSON-RPC answer without result")
        return reply["result"]

    async def notify(self, method: str) -> None:
        async with self._post({"jsonrpc": "2.0", "method": method}) as response:
            await self._http_problem(response)
            await _read_capped(response, 4096)

    def _post(self, message: dict[str, Any]) -> Any:
        return self.session.post(
            self.check.url,
            data=json.dumps(message).encode(),
            headers=self.headers(),
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

    async def _http_problem(self, response: aiohttp.ClientResponse) -> None:
        if 200 <= response.status < 300:
            return
        body, truncated = await _read_capped(response, self.check.max_body_bytes)
        answer = Answer(
            url=self.check.url,
            status_code=response.status,
            headers=_headers(response),
            body=body,
            truncated=truncated,
        )
        raise McpProblem(answer=answer)

    async def _reply(self, response: aiohttp.ClientResponse, request_id: int, method: str) -> Any:
        await self._http_problem(response)
        media = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if media == "application/json":
            body, truncated = await _read_capped(response, self.cap)
            if truncated:
                raise _unhealthy(Reason.PROTOCOL_ERROR, f"{method}: answer over {self.cap} bytes")
            return _ours(_json(body, method), request_id)
        if media == "text/event-stream":
            return await self._event_reply(response, request_id, method)
        raise _unhealthy(
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
            raise _unhealthy(Reason.PROTOCOL_ERROR, f"{method}: bad event stream ({exc})") from None
        if size > self.cap:
            response.close()
            raise _unhealthy(Reason.PROTOCOL_ERROR, f"{method}: event stream over {self.cap} bytes")
        raise _unhealthy(Reason.PROTOCOL_ERROR, f"{method}: event stream ended without the answer")

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
        raise _unhealthy(Reason.PROTOCOL_ERROR, f"{method}: the answer is not JSON") from None


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


async def _exchange(conversation: _Exchange, spec: McpSpec) -> Finding:
    init = await conversation.call(
        "initialize",
        {
            "protocolVersion": REVISIONS[0],
            "capabilities": {},
            "clientInfo": {"name": "fleet-monitor", "version": __version__},
        },
    )
    revision = init.get("protocolVersion") if isinstance(init, dict) else None
    if revision not in REVISIONS:
        raise _unhealthy(
            Reason.PROTOCOL_VERSION_MISMATCH,
            f"the server answered protocol revision {str(revision)[:40]!r}; the monitor speaks "
            f"{REVISIONS[-1]} to {REVISIONS[0]}",
        )
    conversation.revision = revision
    await conversation.notify("notifications/initialized")
    tools: list[str] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await conversation.call("tools/list", {"cursor": cursor} if cursor else None)
        listed = page.get("tools") if isinstance(page, dict) else None
        if not isinstance(listed, list):
            raise _unhealthy(Reason.PROTOCOL_ERROR, "tools/list: the result has no tools list")
        tools.extend(str(t.get("name")) for t in listed if isinstance(t, dict))
        cursor = page.get("nextCursor") or None
        if cursor is None:
            break
    else:
        raise _unhealthy(Reason.PROTOCOL_ERROR, f"tools/list: more than {MAX_PAGES} pages")
    missing = [name for name in spec.expect_tools if name not in set(tools)]
    shown = ", ".join(tools[:SHOWN_TOOLS]) + (", …" if len(tools) > SHOWN_TOOLS else "")
    if missing:
        raise _unhealthy(
            Reason.TOOL_MISSING,
            f"tool{'s' if len(missing) > 1 else ''} {', '.join(missing)} not listed; "
            f"the server lists {len(tools)}: {shown or 'none'}",
        )
    return Finding(
        Status.HEALTHY, Reason.OK, f"MCP {revision}: {len(tools)} tools listed ({shown})"
    )


async def probe_mcp(session: aiohttp.ClientSession, check: Check) -> Answer:
    """The handshake and tools/list within `check.timeout`; never raises for the target."""
    spec = check.spec
    assert isinstance(spec, McpSpec), "an mcp check carries an McpSpec"
    conversation = _Exchange(session, check)
    start = time.perf_counter()
    try:
        async with asyncio.timeout(check.timeout):
            verdict = await _exchange(conversation, spec)
        elapsed = time.perf_counter() - start
        conversation.findings.append(verdict)
    except McpProblem as problem:
        elapsed = time.perf_counter() - start
        if problem.answer is not None:
            return dataclasses.replace(problem.answer, duration_s=elapsed)
        assert problem.finding is not None
        conversation.findings.append(problem.finding)
    except Exception as exc:  # every failure is an answer, not a crash
        error, detail = classify_exception(exc)
        drop_tracebacks(exc)
        if error is TransportError.TIMEOUT:
            detail = f"after {check.timeout:g}s"
        return Answer(
            url=check.url,
            error=error,
            error_detail=" ".join(detail.split())[:ERROR_DETAIL_CHARS],
            duration_s=time.perf_counter() - start,
        )
    finally:
        await conversation.close()
    return Answer(
        url=check.url,
        duration_s=elapsed,
        tls=conversation.certificate,
        findings=tuple(conversation.findings),
    )
