"""What scrubbing the config's secrets costs: building the scrubber, and `normalize_response`
per answer with no secrets and with N registered ones (each push check's token is a secret, so
N reaches 100,000), for a typical healthy answer, a 4 KB answer (one without a secret, one that
echoes a token) and a truncated 60 kB error page.

    python bench/scrub_cost.py [--secrets 10 10000 100000]

Prints microseconds per answer, the best of 5 repeats (the machine is shared: the best is the
least disturbed), and the load average, which the figures must be read with.
"""

from __future__ import annotations

import argparse
import os
import time
import timeit

from monitor.answer import Answer
from monitor.normalize import normalize_response
from monitor.secrets_scrub import NO_SECRETS, Scrubber

HEALTHY = Answer(
    url="http://svc/health",
    status_code=200,
    headers={"content-type": "application/json", "server": "nginx", "content-length": "48"},
    body=b'{"status":"ok","checks":{"db":{"status":"ok"}}}',
)
_LINE = b'{"level":"warn","msg":"upstream slow","path":"/api/v1/orders","ms":912}\n'
FOUR_KB = _LINE * (4096 // len(_LINE))
ERROR_PAGE = Answer(
    url="http://svc/health",
    status_code=500,
    headers={"content-type": "text/html"},
    body=b"<p>error</p>" * 5000,
    truncated=True,
)


def token(i: int) -> str:
    """A push token as a config holds it: 32 URL-safe characters."""
    return f"push-{i:08d}-{'k' * 19}"


def answer_4kb(echoed: str = "") -> Answer:
    body = FOUR_KB[:2048] + f"GET /push/{echoed}\n".encode() + FOUR_KB[2048:] if echoed else FOUR_KB
    return Answer(
        url="http://svc/health",
        status_code=503,
        headers={"content-type": "text/plain"},
        body=body,
    )


def per_answer(answer: Answer, scrubber: Scrubber) -> float:
    timer = timeit.Timer(lambda: normalize_response(answer, scrubber))
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=number)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--secrets", type=int, nargs="+", default=[10, 10_000, 100_000])
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}")
    print(
        "| secrets | build | healthy 48 B | 4 KB, no secret | 4 KB, one echoed token"
        " | truncated 60 kB page |"
    )
    print("|---|---|---|---|---|---|")
    for n in [0, *args.secrets]:
        start = time.perf_counter()
        scrubber = Scrubber([token(i) for i in range(n)]) if n else NO_SECRETS
        build = time.perf_counter() - start
        echoed = answer_4kb(token(n // 2)) if n else answer_4kb()
        figures = [per_answer(a, scrubber) for a in (HEALTHY, answer_4kb(), echoed, ERROR_PAGE)]
        cells = " | ".join(f"{f:,.1f} µs" for f in figures)
        print(f"| {n:,} | {build:.2f} s | {cells} |")


if __name__ == "__main__":
    main()
