"""Alert rules, their pure evaluation, dependency-aware inhibition and durable delivery.

`rules` (config), `evaluate` (decisions), `dependencies` (root cause), `silences`, `template`
and `prometheus_export` (alerts.yaml as a Prometheus rules file) are pure: time is a parameter
and they import no aiohttp. `outbox` persists state and delivers notifications; `service` is
the shell the daemon runs, which evaluates, persists and delivers.
"""
