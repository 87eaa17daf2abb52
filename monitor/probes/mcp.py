"""The mcp probe: the Model Context Protocol over streamable HTTP, then tools/list.

With `revision: auto` the probe asks the newest revision's stateless `server/discover` first
(`MCP-Protocol-Version` and `Mcp-Method` headers, version and client in `_meta`; no session).
As that revision's "Backward Compatibility" section says, a 4xx without a recognized modern
JSON-RPC error (and, like the official SDK's client, any other JSON-RPC error or an answer
that is no discover result) marks a server of the older era: the probe falls back to
`initialize` (asking for the newest handshake revision it speaks) → `notifications/initialized`,
with `Mcp-Session-Id` once the server gave one; the session is deleted at the end so checks do
not fill a server's session table. A recognized modern error (unsupported version, header
mismatch, missing capability) is the server's answer, not a reason to fall back. Either way
`tools/list` follows, its pages followed at most `MAX_PAGES`, and the detail names the revision
that answered and how.

One deadline bounds the whole exchange, so a stream that never ends or a discover that hangs
costs one timeout, whose detail names the request it was waiting for. The requests themselves
(JSON or SSE answers, the byte cap, the session) are probes/_mcp_session.py's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import aiohttp

from monitor.answer import ERROR_DETAIL_CHARS, Answer, Finding, TransportError
from monitor.checks.mcp import MODERN_REVISION, REVISIONS, McpSpec
from monitor.config import Check
from monitor.model import Reason, Status
from monitor.probes._mcp_session import (
    MODERN_ERRORS,
    UNSUPPORTED_VERSION,
    Exchange,
    McpProblem,
    client_info,
    unhealthy,
)
from monitor.probes.http import classify_exception
from monitor.tracebacks import drop_tracebacks

MAX_PAGES = 20
"""tools/list pages followed at most: a cursor that never ends is a protocol error."""
SHOWN_TOOLS = 8


async def _discover(conversation: Exchange) -> str | None:
    """`server/discover` in the stateless era: None when the server speaks it (the
    conversation stays modern), else why the exchange falls back to the handshake."""
    conversation.modern, conversation.revision = True, MODERN_REVISION
    try:
        result = await conversation.call("server/discover")
    except McpProblem as problem:
        why = _fallback_reason(problem)
        if why is None:
            raise
        conversation.modern, conversation.revision = False, None
        return why
    versions = result.get("supportedVersions") if isinstance(result, dict) else None
    if isinstance(versions, list) and MODERN_REVISION in versions:
        capabilities = result.get("capabilities")
        conversation.tools_capability = not isinstance(capabilities, dict) or (
            "tools" in capabilities
        )
        return None
    conversation.modern, conversation.revision = False, None
    if isinstance(versions, list) and versions:
        return "lists " + ", ".join(str(v)[:40] for v in versions[:6])
    return "answered no discover result"


def _fallback_reason(problem: McpProblem) -> str | None:
    """Why a failed `server/discover` means the older era, or None if it does not: a recognized
    modern error is the server's answer (unless it names handshake revisions the probe speaks),
    and a 5xx, a 3xx or a timeout is an outage, not an era."""
    status = problem.http_status
    http = f"HTTP {status}" if status is not None and status >= 300 else ""
    if problem.error is not None:
        code = problem.error.get("code")
        if code == UNSUPPORTED_VERSION:
            data = problem.error.get("data")
            supported = data.get("supported") if isinstance(data, dict) else None
            listed = [str(v)[:40] for v in supported] if isinstance(supported, list) else []
            if any(v in REVISIONS for v in listed):
                return f"supports {', '.join(listed[:6])}"
            raise unhealthy(
                Reason.PROTOCOL_VERSION_MISMATCH,
                f"server/discover: the server supports protocol revisions "
                f"{', '.join(listed[:6]) or 'none it names'}; the monitor speaks "
                f"{MODERN_REVISION} and {REVISIONS[-1]} to {REVISIONS[0]}",
            )
        if not isinstance(code, int) or isinstance(code, bool):
            return ", ".join(filter(None, [http, "a JSON-RPC error without a numeric code"]))
        if code in MODERN_ERRORS:
            return None
        return ", ".join(filter(None, [http, f"JSON-RPC error {code}"]))
    if problem.answer is not None:
        return http if status is not None and 400 <= status < 500 else None
    if problem.finding is not None and problem.finding.reason is Reason.PROTOCOL_ERROR:
        return "answered no discover result"
    return None


async def _handshake(conversation: Exchange, asked: str) -> None:
    init = await conversation.call(
        "initialize",
        {"protocolVersion": asked, "capabilities": {}, "clientInfo": client_info()},
    )
    revision = init.get("protocolVersion") if isinstance(init, dict) else None
    if revision not in REVISIONS:
        raise unhealthy(
            Reason.PROTOCOL_VERSION_MISMATCH,
            f"the server answered protocol revision {str(revision)[:40]!r}; the monitor speaks "
            f"{REVISIONS[-1]} to {REVISIONS[0]}",
        )
    conversation.revision = revision
    await conversation.notify("notifications/initialized")


async def _tools(conversation: Exchange) -> list[str]:
    tools: list[str] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await conversation.call("tools/list", {"cursor": cursor} if cursor else None)
        listed = page.get("tools") if isinstance(page, dict) else None
        if not isinstance(listed, list):
            raise unhealthy(Reason.PROTOCOL_ERROR, "tools/list: the result has no tools list")
        if page.get("resultType", "complete") != "complete":
            kind = str(page.get("resultType"))[:40]
            raise unhealthy(Reason.PROTOCOL_ERROR, f"tools/list: a {kind!r} result")
        tools.extend(str(t.get("name")) for t in listed if isinstance(t, dict))
        cursor = page.get("nextCursor") or None
        if cursor is None:
            return tools
    raise unhealthy(Reason.PROTOCOL_ERROR, f"tools/list: more than {MAX_PAGES} pages")


async def _exchange(conversation: Exchange, spec: McpSpec) -> Finding:
    if spec.revision in ("auto", MODERN_REVISION):
        fallback = await _discover(conversation)
        if fallback is not None and spec.revision == MODERN_REVISION:
            raise unhealthy(
                Reason.PROTOCOL_VERSION_MISMATCH,
                f"server/discover {fallback}: the check asks for {MODERN_REVISION} only",
            )
        if fallback is not None:
            await _handshake(conversation, REVISIONS[0])
        how = "via server/discover" if fallback is None else f"(server/discover {fallback})"
    else:
        await _handshake(conversation, spec.revision)
        how = "via initialize"
    tools = await _tools(conversation) if conversation.tools_capability else []
    missing = [name for name in spec.expect_tools if name not in set(tools)]
    shown = ", ".join(tools[:SHOWN_TOOLS]) + (", …" if len(tools) > SHOWN_TOOLS else "")
    if missing:
        raise unhealthy(
            Reason.TOOL_MISSING,
            f"tool{'s' if len(missing) > 1 else ''} {', '.join(missing)} not listed; "
            f"the server lists {len(tools)}: {shown or 'none'}",
        )
    listed = (
        f"{len(tools)} tools listed ({shown})"
        if conversation.tools_capability
        else ("no tools capability")
    )
    return Finding(Status.HEALTHY, Reason.OK, f"MCP {conversation.revision} {how}: {listed}")


async def probe_mcp(session: aiohttp.ClientSession, check: Check) -> Answer:
    """The handshake and tools/list within `check.timeout`; never raises for the target."""
    spec = check.spec
    assert isinstance(spec, McpSpec), "an mcp check carries an McpSpec"
    conversation = Exchange(session, check)
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
            detail = f"after {check.timeout:g}s in {conversation.step}"
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
