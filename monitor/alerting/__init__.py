"""Alert rules, their pure evaluation, dependency-aware inhibition and durable delivery.

`rules` (config) and `evaluate` (decisions) are pure: time is a parameter and they import no
aiohttp. `outbox` is the imperative shell that persists state and delivers notifications.
"""
