"""CPU per check completion in the daemon alone: what `Monitor.run_check` costs around the probe.

The probe is replaced by one that returns a prepared healthy answer at once, so what is timed
is the daemon's own work per answer: normalize, latency windows and the judging window's
summary, state, metrics (no store, so no dirty mark). Every check is run `--rounds` times in
turn (the first round, which builds windows and series, is not timed); CPU from
time.process_time().

    python bench/check_cost.py                    # 2,000 checks, 20 rounds, best of 5
    python bench/check_cost.py --checks 10000 --rounds 10
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


async def measure(checks: int, rounds: int) -> float:
    """CPU microseconds per completed check, over `rounds` timed rounds."""
    import monitor.runtime.check_results as check_results
    import monitor.runtime.daemon as daemon
    from monitor.answer import Answer
    from monitor.config import parse_config

    answer = Answer(
        url="http://127.0.0.1/health",
        status_code=200,
        headers={"Content-Type": "application/json"},
        body=b'{"status":"ok"}',
        duration_s=0.002,
    )

    async def instant(_session: Any, _check: Any) -> Answer:
        return answer

    check_results.probe_for = lambda _check: instant  # type: ignore[assignment,return-value]
    services = [{"name": f"s{i:05d}", "url": f"http://127.0.0.1:9/s{i}"} for i in range(checks)]
    monitor = daemon.Monitor(parse_config(json.dumps({"services": services})))
    await monitor.start(schedule=False)
    try:
        await monitor.run_all_once()  # windows and series exist from here on
        todo = monitor.checks()
        started = time.process_time()
        for _ in range(rounds):
            for check in todo:
                await monitor.run_check(check)
        spent = time.process_time() - started
    finally:
        await monitor.stop(grace=0)
    return spent / (rounds * checks) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5, help="runs; the best is reported")
    args = parser.parse_args()
    import uvloop

    runs = [uvloop.run(measure(args.checks, args.rounds)) for _ in range(args.repeat)]
    print(
        f"{args.checks} checks x {args.rounds} rounds: "
        f"best {min(runs):.1f} us/check, runs {', '.join(f'{r:.1f}' for r in runs)}"
    )


if __name__ == "__main__":
    main()
