"""A real Prometheus (Debian's /usr/bin/prometheus) scraping one target on loopback, for the
dashboard test and bench/prometheus_scale.py. Missing binaries are a failure, never a skip."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.processes import listening_address


def tool(name: str) -> str:
    path = Path("/usr/bin") / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is missing: install Debian's prometheus package (it brings promtool)"
    return found


def start_prometheus(
    directory: Path, target: str, interval: str = "1s", timeout: str | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Prometheus on a loopback port of the OS's choice scraping `target` as job `monitor`
    every `interval` (`timeout` defaults to Prometheus' own, 10 s or the interval if shorter);
    its TSDB and log in `directory` (read the log when something fails)."""
    config = directory / "prometheus.yml"
    scrape = {"scrape_interval": interval, "evaluation_interval": interval}
    if timeout is not None:
        scrape["scrape_timeout"] = timeout
    config.write_text(
        json.dumps(
            {
                "global": scrape,
                "scrape_configs": [
                    {"job_name": "monitor", "static_configs": [{"targets": [target]}]}
                ],
            }
        )
    )
    log = directory / "prometheus.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                tool("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                "--web.listen-address=127.0.0.1:0",
                "--log.level=info",  # the "Listening on" line with the port it got
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return process, f"http://{listening_address(log, process, 'prometheus')}"
