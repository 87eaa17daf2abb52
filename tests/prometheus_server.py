"""A real Prometheus (Debian's /usr/bin/prometheus) scraping one target on loopback, for the
dashboard test and bench/prometheus_scale.py. Missing binaries are a failure, never a skip."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.conftest import free_port


def tool(name: str) -> str:
    path = Path("/usr/bin") / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is missing: install Debian's prometheus package (it brings promtool)"
    return found


def start_prometheus(
    directory: Path, target: str, interval: str = "1s", timeout: str | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Prometheus on a free loopback port scraping `target` as job `monitor` every `interval`
    (`timeout` defaults to Prometheus' own, 10 s or the interval if shorter); its TSDB and
    log in `directory` (read the log when something fails)."""
    port = free_port()
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
    with (directory / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                tool("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}"
