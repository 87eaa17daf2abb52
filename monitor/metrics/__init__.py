"""The daemon's Prometheus metrics: `daemon_metrics` (the one object per daemon, on an injected
registry), `check_series` (every per-check series in flat arrays, one collector) and
`exposition` (their text for /metrics, written straight from the arrays)."""
