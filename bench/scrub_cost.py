"""What scrubbing the config's secrets costs per answer: `normalize_response` with no secrets and
with N registered ones, for a typical healthy answer and a truncated 60 kB error page.

    python bench/scrub_cost.py [--secrets 1 10 50]

Prints microseconds per answer, the best of 7 repeats (the machine is shared: the best is the
least disturbed).
"""

from __future__ import annotations

import argparse
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
ERROR_PAGE = Answer(
    url="http://svc/health",
    status_code=500,
    headers={"content-type": "text/html"},
    body=b"<p>error</p>" * 5000,
    truncated=True,
)


def per_answer(answer: Answer, scrubber: Scrubber, number: int) -> float:
    runs = timeit.repeat(lambda: normalize_response(answer, scrubber), number=number, repeat=7)
    return min(runs) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--secrets", type=int, nargs="+", default=[1, 10, 50])
    args = parser.parse_args()
    cases = [("none", NO_SECRETS)] + [
        (str(n), Scrubber([f"Bearer token-{i:04d}-{'x' * 24}" for i in range(n)]))
        for n in args.secrets
    ]
    print("| secrets | healthy 48 B answer | truncated 60 kB error page |")
    print("|---|---|---|")
    for label, scrubber in cases:
        healthy = per_answer(HEALTHY, scrubber, 5000)
        page = per_answer(ERROR_PAGE, scrubber, 200)
        print(f"| {label} | {healthy:.1f} µs | {page:.0f} µs |")


if __name__ == "__main__":
    main()
