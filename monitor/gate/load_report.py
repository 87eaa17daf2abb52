"""The load gate's reports, pure text from a `LoadResult`: the summary for people, the progress
line, JSON with the contract's keys, and JUnit XML for CI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from monitor.gate.load import LoadRecorder, LoadResult


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_load_json(result: LoadResult) -> str:
    return json.dumps(result.to_json(), indent=2) + "\n"


def render_load_text(result: LoadResult, per_second: bool = False) -> str:
    names = ("p50", "p90", "p95", "p99", "p999", "max")
    lines = [
        f"load {result.url}: {result.requests} requests in {result.duration_s:g} s, "
        f"{result.achieved_rate:.1f} req/s achieved of {result.requested_rate:g} requested",
        "",
        "                      " + "".join(f"{n:>9}" for n in names),
        "latency ms (intended) " + "".join(f"{_cell(result.latency_ms[n]):>9}" for n in names),
        "service time ms       " + "".join(f"{_cell(result.service_time_ms[n]):>9}" for n in names),
        "send lag ms           " + "".join(f"{_cell(result.send_lag_ms[n]):>9}" for n in names),
        "",
    ]
    if result.errors:
        lines.append(
            "errors: " + ", ".join(f"{reason} {count}" for reason, count in result.errors.items())
        )
    else:
        lines.append("errors: none")
    if per_second:
        lines += ["", "second  requests  errors   p95 ms   max ms"]
        lines += [
            f"{i:>6}  {n:>8}  {e:>6}  {_cell(p95):>7}  {_cell(top):>7}"
            for i, n, e, p95, top in result.per_second
        ]
    lines.append("")
    for t in result.thresholds:
        lines.append(f"{'ok  ' if t.ok else 'FAIL'} {t.name}: {t.detail}")
    verdict = "passed" if result.ok else "FAILED (" + ", ".join(t.name for t in result.failed) + ")"
    lines += ["", f"load gate: {verdict}"]
    return "\n".join(lines) + "\n"


def render_load_junit(results: list[tuple[str, LoadResult]]) -> str:
    """One testsuite `monitor load`, one testcase per (name, result) and threshold."""
    cases = [(name, r, t) for name, r in results for t in r.thresholds]
    attrs = {
        "name": "monitor load",
        "tests": str(len(cases)),
        "failures": str(sum(not t.ok for _, _, t in cases)),
        "errors": "0",
        "skipped": "0",
    }
    root = ET.Element("testsuites", attrs)
    suite = ET.SubElement(root, "testsuite", attrs)
    for name, result, threshold in cases:
        case = ET.SubElement(suite, "testcase", classname=f"load.{name}", name=threshold.name)
        case.set("time", f"{result.duration_s:.3f}")
        if not threshold.ok:
            failure = ET.SubElement(case, "failure", message=threshold.detail, type="load-gate")
            failure.text = f"limit {threshold.limit}, value {threshold.value}"
        ET.SubElement(case, "system-out").text = threshold.detail
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def progress_line(recorder: LoadRecorder, elapsed: float, duration: float) -> str:
    """`load: 12/30 s  999.8 req/s  p95 2.31 ms  errors 0` for a terminal."""
    rate = recorder.sent / elapsed if elapsed > 0 else 0.0
    p95 = recorder.latency.quantiles([0.95])[0]
    p95_text = "-" if p95 is None else f"{p95 * 1000:.2f} ms"
    return (
        f"load: {min(elapsed, duration):.0f}/{duration:g} s  {rate:.1f} req/s  "
        f"p95 {p95_text}  errors {recorder.errors.total()}"
    )
