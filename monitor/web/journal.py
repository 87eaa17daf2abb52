"""Which services changed status, numbered, so an open page asks `?since=N` and gets only those
instead of the whole page. Pure.

One journal per app, fed a snapshot of every service's status at most once a second however
many pages poll; it holds that snapshot and at most `keep` entries, so no client, slow or not,
can make it grow. A page whose `since` the journal no longer reaches (or from before a
restart) is told to reset: it fetches its main part once, which is bounded too.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Sequence
from itertools import compress

from monitor.model import Status

KEEP = 10_000


class ChangeJournal:
    def __init__(self, keep: int = KEEP, start: int = 0) -> None:
        """`start`: the first number. The daemon starts each journal at a random one, so a
        page from before a restart asks for a number this journal never gave, and resets."""
        self.seq = start
        """The number of the last recorded change (`start`: none yet)."""
        self._names: Sequence[str] = ()
        self._statuses: Sequence[Status] | None = None
        self._log: deque[tuple[int, str]] = deque(maxlen=max(1, keep))
        self._dropped = start
        """A page whose `since` is below this missed changes the log no longer holds."""

    def record(self, names: Sequence[str], statuses: Sequence[Status]) -> int:
        """Compare with the previous snapshot; number the services that changed (or came or
        went). With the same `names` list (the same config), C loops only."""
        last_names, last = self._names, self._statuses
        self._names, self._statuses = names, statuses
        if last is None:
            return self.seq
        if names is last_names:
            if statuses == last:
                return self.seq
            changed = list(compress(names, map(operator.is_not, statuses, last)))
        else:
            before = dict(zip(last_names, last, strict=True))
            changed = [n for n, st in zip(names, statuses, strict=True) if before.get(n) is not st]
            changed += sorted(set(before).difference(names))
        if not changed:
            return self.seq
        self.seq += 1
        for name in changed:
            if len(self._log) == self._log.maxlen:
                self._dropped = self._log[0][0]
            self._log.append((self.seq, name))
        return self.seq

    def since(self, seq: int) -> Sequence[str] | None:
        """Services changed after `seq`, each once, oldest change first; None when the page
        must reset (the journal does not reach back to `seq`, or `seq` is not one of ours)."""
        if seq > self.seq or seq < self._dropped:
            return None
        if seq == self.seq:
            return []
        seen: dict[str, None] = {}
        for number, name in self._log:
            if number > seq:
                seen.pop(name, None)
                seen[name] = None
        return list(seen)
