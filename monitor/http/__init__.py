"""The daemon's HTTP face: `app` (the aiohttp application, /metrics, /healthz, reload),
`status_api` (/status JSON), `alerts_api` (alerts and silences), `auth` (bearer tokens) and
`json_api` (what every JSON handler shares). The status page itself is monitor/web.

Imported as `monitor.http` only: absolute imports everywhere, so the standard library's `http`
is never shadowed."""
