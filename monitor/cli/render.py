"""What commands print for people: the fleet table (`monitor demo --once`) and the merge of
several replicas (`monitor status --from`). The deploy gate's reports are gate/verdict.py's."""

from __future__ import annotations

from monitor.fleet.merge import MergedStatus
from monitor.model import FleetStatus


def render_table(fleet: FleetStatus) -> str:
    """A terminal table of the fleet: service, status, reason, detail."""
    rows = [("SERVICE", "STATUS", "REASON", "DETAIL")]
    for s in fleet.services:
        rows.append((s.name, s.status.value, s.reason.value, s.detail[:70]))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
    counts = ", ".join(f"{n} {st.value}" for st, n in fleet.counts.items() if n)
    return "\n".join([*lines, f"fleet: {fleet.status.value} ({counts})"])


def render_merged(merged: MergedStatus) -> str:
    """The merged table, then each replica, coverage and what no replica covers."""
    lines = [render_table(merged.fleet)]
    answered = sum(r.ok for r in merged.replicas)
    lines.append(f"replicas: {answered} of {len(merged.replicas)} answered")
    for r in merged.replicas:
        if not r.ok:
            lines.append(f"  {r.source}  not answering: {r.error}")
        elif r.shard is None:
            lines.append(f"  {r.source}  unsharded, {r.checks} checks")
        else:
            s = r.shard
            lines.append(
                f"  {r.source}  {s.replica} shard {s.index}/{s.count} x{s.replicas} by {s.by}, "
                f"{r.checks} checks"
            )
    total = "?" if merged.checks_total is None else str(merged.checks_total)
    lines.append(f"coverage: {len(merged.coverage)} of {total} checks reported by a replica")
    if merged.missing_shards:
        lines.append(f"shards with no answering replica: {merged.missing_shards}")
    if merged.uncovered_count:
        lines.append(f"not covered by any answering replica: {merged.uncovered_count} checks")
        for u in merged.uncovered[:50]:
            owners = f" (owned by shards {u.owners})" if u.owners else ""
            lines.append(f"  {u.id}{owners}")
    lines.extend(f"problem: {p}" for p in merged.problems)
    return "\n".join(lines)
