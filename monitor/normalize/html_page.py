"""Small HTML pages that state a status: a heading or line that is a status sentence
(`Application up`, `Service ready.`, `Backend is unhealthy`), read in page order, title first;
or a page with no text at all whose body is painted a status colour
(`<body style="background-color: green">`).

Only short pages count (a status page, not an application): at most 40 lines of visible text.
A line that only repeats the HTTP status (`502 Bad Gateway`) says nothing about the service and
is skipped. Edge error pages that name a code (Cloudflare) are decoded before this.
"""

from __future__ import annotations

import re

from monitor.answer import Answer
from monitor.model import Verdict
from monitor.normalize._body import Body
from monitor.normalize._reported import verdict_from_line, verdict_from_report
from monitor.normalize._vocabulary import status_word

_MAX_HTML = 16_000
_MAX_LINES = 40
_INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(
    r"<\s*/?\s*(?:br|p|div|h[1-6]|li|tr|td|th|center|span|title|body|hr|section)\b[^>]*>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]*>")
_BACKGROUND = re.compile(r"background(?:-color)?\s*:\s*([a-z]+)", re.IGNORECASE)
_ENTITY = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": " ", "&#39;": "'", "&quot;": '"'}


def visible_lines(html: str) -> list[str]:
    """The page's title, then its visible text, one block per line."""
    title = _TITLE.search(html)
    text = _INVISIBLE.sub("\n", html)
    text = _TAG.sub("", _BREAK.sub("\n", text))
    for entity, char in _ENTITY.items():
        text = text.replace(entity, char)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    head = [" ".join(_TAG.sub("", title.group(1)).split())] if title else []
    return [line for line in head + lines if line]


def _is_html(answer: Answer, text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return answer.content_type == "text/html" or head.startswith(("<!doctype", "<html", "<?xml"))


def _painted(answer: Answer, html: str) -> Verdict | None:
    """A page without text that says it with one colour: green, yellow or red."""
    colours = {match.lower() for match in _BACKGROUND.findall(html)}
    statuses = {status_word(colour) for colour in colours}
    if len(colours) != 1 or len(statuses) != 1 or None in statuses:
        return None
    (colour,), (status,) = colours, statuses
    assert status is not None
    return verdict_from_report(
        answer, status, fmt="HTML page", read=f"a page painted {colour}, with no text"
    )


def parse(answer: Answer, body: Body) -> Verdict | None:
    text = body.text
    if body.has_json or text is None or answer.truncated or len(text) > _MAX_HTML:
        return None
    if not _is_html(answer, text) or "<" not in text:
        return None
    lines = visible_lines(text)
    if len(lines) > _MAX_LINES:
        return None
    if not lines:
        return _painted(answer, text)
    for line in lines:
        verdict = verdict_from_line(answer, line, fmt="HTML page", where="the page line")
        if verdict is not None:
            return verdict
    return None
