"""Plain-text tables with a header, as the `_cat` APIs of search clusters print them:

epoch      timestamp cluster       status node.total ...
1475247709 17:01:49  elasticsearch green           1 ...

The `status` (or `health`, `state`) column is read row by row. Without a header line the column
that holds the state cannot be told from a name that happens to be a colour: not read.
"""

from __future__ import annotations

from monitor.answer import Answer
from monitor.model import Component, Verdict, worst
from monitor.normalize._body import Body
from monitor.normalize._reported import verdict_from_report
from monitor.normalize._vocabulary import short, status_word

_STATUS_COLUMNS = ("status", "health", "state")
_MAX_ROWS = 50


def parse(answer: Answer, body: Body) -> Verdict | None:
    if body.has_json or body.text is None or answer.truncated or len(body.text) > 20_000:
        return None
    lines = [line.split() for line in body.text.strip().splitlines() if line.strip()]
    if len(lines) < 2 or len(lines) > _MAX_ROWS + 1:
        return None
    header = [cell.lower() for cell in lines[0]]
    column = next((header.index(c) for c in _STATUS_COLUMNS if c in header), None)
    if column is None or len(header) < 2:
        return None
    rows = lines[1:]
    if any(len(row) != len(header) for row in rows):
        return None
    statuses = [status_word(row[column]) for row in rows]
    if any(s is None for s in statuses):
        return None
    found = [s for s in statuses if s is not None]
    name_column = 0 if column != 0 else 1
    components = (
        {
            short(row[name_column], 60): Component(status=s)
            for row, s in zip(rows, found, strict=True)
        }
        if len(rows) > 1
        else {}
    )
    cells = ", ".join(row[column] for row in rows[:5])
    return verdict_from_report(
        answer,
        worst(found),
        fmt="text table",
        components=components,
        read=f"the {header[column]!r} column of a {len(rows)}-row table: {cells}",
    )
