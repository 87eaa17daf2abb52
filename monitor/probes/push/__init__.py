"""The push check kind (heartbeats): a job reports in at `/push/{token}` and its silence is
the failure. Nothing is polled: the kind's "probe" is the ping receiver and deadline watcher
(watcher.py); schedule.py is the pure deadline maths, routes.py the endpoints, store.py the
persisted pings, metrics.py the kind's own series."""

from monitor.probes.push.routes import PUSH_PREFIX, add_push_routes
from monitor.probes.push.schedule import PushRecord, Signal, parse_signal
from monitor.probes.push.store import PushStore
from monitor.probes.push.watcher import PingOutcome, PushWatcher

__all__ = [
    "PUSH_PREFIX",
    "PingOutcome",
    "PushRecord",
    "PushStore",
    "PushWatcher",
    "Signal",
    "add_push_routes",
    "parse_signal",
]
