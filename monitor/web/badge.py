"""Shields-style status badges (`GET /badge/{service}.svg`) for READMEs. Pure.

The label is the service name as asked, so it is escaped: a badge is an SVG document and a
name must never become markup.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from monitor.model import Status

COLOURS = {  # white text on these is >= 4.5:1
    Status.HEALTHY: "#1a7f37",
    Status.DEGRADED: "#9a6700",
    Status.UNHEALTHY: "#cf222e",
    Status.UNKNOWN: "#59636e",
}
WORDS = {
    Status.HEALTHY: "healthy",
    Status.DEGRADED: "degraded",
    Status.UNHEALTHY: "down",
    Status.UNKNOWN: "unknown",
}
_CHAR_W = 7  # Verdana 11px averages about this; good enough without font metrics


def _width(text: str) -> int:
    return len(text) * _CHAR_W + 12


def badge(label: str, status: Status | None) -> str:
    """The badge SVG; `status` None draws "not found" (an unknown service)."""
    label = label[:60]
    value = WORDS[status] if status is not None else "not found"
    colour = COLOURS[status] if status is not None else COLOURS[Status.UNKNOWN]
    lw, vw = _width(label), _width(value)
    title = f"{label}: {value}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lw + vw}" height="20" role="img" '
        f"aria-label={quoteattr(title)}>"
        f"<title>{escape(title)}</title>"
        f'<rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{vw}" height="20" fill="{colour}"/>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{lw / 2:.0f}" y="14">{escape(label)}</text>'
        f'<text x="{lw + vw / 2:.0f}" y="14">{escape(value)}</text>'
        "</g></svg>"
    )
