"""Applying a config, the first one and every reload: which checks this monitor runs (all,
or a shard's own), the secrets it scrubs, the analytics poller, and on reload what changed.
"""

from __future__ import annotations

import time
from typing import Any

from monitor.config import Check, MonitorConfig, load_config
from monitor.durations import format_duration
from monitor.errors import ConfigError
from monitor.fleet.sharding import shard_info
from monitor.probes import polled
from monitor.runtime.gc_policy import freeze_after_reload, paused_collector
from monitor.runtime.monitor_base import MonitorBase
from monitor.runtime.tracked import TrackedCheck
from monitor.secrets_scrub import scrubber_for

__all__ = ["ConfigApply"]


class ConfigApply(MonitorBase):
    """The config in force, and switching to a new one without losing unchanged checks' state."""

    def checks(self) -> list[Check]:
        """The checks this monitor runs: all of the config's, or a shard's own."""
        return [t.check for t in self.tracked.values()]

    def _learn_secrets(self, config: MonitorConfig) -> None:
        """Add `config`'s secrets (and the receivers') to the scrubber that every verdict, store
        row and outbox row passes through; secrets learnt before stay (a rotated token too)."""
        sources: list[Any] = [config]
        if self.alerter is not None:
            sources.extend(self.alerter.rules.receivers.values())
        self.scrubber = self.scrubber.union(scrubber_for(*sources))
        if self.store is not None:
            self.store.scrubber = self.scrubber
        if self.alerter is not None:
            self.alerter.outbox.scrubber = self.scrubber

    def _index(self, config: MonitorConfig) -> None:
        """Index the checks this monitor runs: all of them, or a shard's own (docs/ha.md). A
        check still configured keeps its record (state, windows), with the new `Check` in it."""
        shard = self.settings.shard
        previous, self.tracked = self.tracked, {}
        checks = config.checks()
        if shard is not None:
            checks = [c for c in checks if shard.owns(c.id, c.service)]
        by_service: dict[str, list[TrackedCheck]] = {s.name: [] for s in config.services}
        self.by_service = by_service
        self._headless_names = frozenset(s.name for s in config.services if s.url is None)
        tracked = self.tracked
        for c in checks:  # one pass: 110,000 checks at start-up
            record = previous.get(c.id) if previous else None
            if record is None:
                record = TrackedCheck(c)
            else:
                record.check = c
            tracked[c.id] = record
            by_service[c.service].append(record)
        self._shard_info = None
        self.push.configure(checks, config.checks() if shard is not None else ())
        if shard is not None:  # a service none of whose checks we own is not ours to track
            self.by_service = {name: ts for name, ts in self.by_service.items() if ts}
            every = [c.id for c in config.checks()]
            self._shard_info = shard_info(shard, len(self.tracked), every)

    def _ensure_analytics(self, config: MonitorConfig) -> None:
        """The fleet's one analytics poller while the config has `cloudflare:` (reloads too)."""
        if config.cloudflare is None:
            if self._analytics_task is not None:  # removed by a reload
                self._analytics_task.cancel()
                self._analytics_task = None
            self.analytics = None
        elif self.analytics is not None:
            self.analytics.apply_config(config)
        else:  # imported here: a config without `cloudflare:` never needs them
            from monitor.analytics.client import AnalyticsPoller
            from monitor.analytics.series import AnalyticsSeries

            if self._analytics_series is None:
                self._analytics_series = AnalyticsSeries(self.metrics.registry)
            self.analytics = AnalyticsPoller(
                config,
                self._record_analytics,
                self.clock,
                self._analytics_series,
                self.log,
                time.monotonic,
            )

    def apply_config(self, new: MonitorConfig) -> dict[str, int]:
        """Switch to a new config without losing the state of unchanged checks."""
        self.reloads += 1
        old_records = self.tracked  # _index makes a new dict
        old_checks = {cid: t.check for cid, t in old_records.items()}
        self.config = new
        self._learn_secrets(new)
        self._index(new)
        self._ensure_analytics(new)
        removed = [c for cid, c in old_checks.items() if cid not in self.tracked]
        added = [t.check for cid, t in self.tracked.items() if cid not in old_checks]
        changed, restyled = [], []  # restyled: a new target or `metrics:` mode
        for cid, t in self.tracked.items():
            old = old_checks.get(cid)
            if old is not None and old != t.check:
                changed.append(t.check)
                if (old.target, old.detailed_metrics) != (t.check.target, t.check.detailed_metrics):
                    restyled.append(t.check)
        if self.first_round.forget(c.id for c in removed):
            self.report_first_round()  # the last checks waited for were removed
        for check in removed:
            self.scheduler.remove(check.id)
            self.metrics.forget(check)
            windows = old_records[check.id].windows
            if windows is not None:
                self.metrics.forget_windows(check, map(format_duration, windows.windows))
        gone_services = {c.service for c in removed} - set(self.by_service)
        for name in gone_services:
            self.services.forget(name)
        self.metrics.declare(added, {c.service for c in added} - set(self.services.tracks))
        # only services whose checks' series may look different: a reload that changes every
        # interval reconfigures none
        restyled_services = {c.service for c in (*added, *restyled, *removed)}
        restyled_services &= self.by_service.keys()
        self.metrics.configure(
            [t.check for name in restyled_services for t in self.by_service[name]],
            restyled_services,
        )
        self.metrics.checks_configured.set(len(self.tracked))
        if self.scheduler.running:
            self.scheduler.add_many(c for c in (*added, *changed) if polled(c))
            self._start_analytics()
        self.push.rejudge([c for c in (*added, *changed) if not polled(c)])
        if self.store is not None and removed:
            self.store.forget(c.id for c in removed)
        return {"added": len(added), "removed": len(removed), "changed": len(changed)}

    def reload_from(self, path: str) -> tuple[bool, str]:
        """Load `path` and apply it; an invalid file is refused and the old config runs on."""
        try:
            with paused_collector():
                new = load_config(path)
        except ConfigError as exc:
            self.metrics.config_last_reload_successful.set(0)
            self.log.error(
                "config.reload_failed",
                file=path,
                problems=[p.render(exc.file) for p in exc.problems],
            )
            return False, str(exc)
        with paused_collector():
            counts = self.apply_config(new)
            freeze_after_reload()
        self.metrics.config_last_reload_successful.set(1)
        self.metrics.config_last_reload_success_timestamp.set(time.time())
        self.log.info("config.reloaded", file=path, **counts)
        return True, ", ".join(f"{n} {k}" for k, n in counts.items())
