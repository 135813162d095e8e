"""Per-process caches of master data that every work order reads (issue 3: create ≥ 250/s).

Work-order kinds, calendar overrides and published commitment sets change a few times a year but
are read on every create; each read is a query. A `ProcessCache` keeps them in the server process:

- `max_age` bounds how stale an entry may be: a change made in another server process is seen
  within that many seconds (None: never stale, for data that cannot change, e.g. published sets).
- The owning app clears its cache when its own rows are saved or deleted (`clear_when_changed`,
  model signals), so the process that made a change sees it at once.
- Values must be treated as read-only: they are shared by every request of the process.

Tests start each case with every cache empty (root conftest: `forget_all`), because rolled-back
row ids are reused between test cases.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

_registry: list[ProcessCache] = []


class ProcessCache(Generic[V]):
    """A dict of loaded values with an age limit, safe to share between a process's threads."""

    def __init__(self, name: str, *, max_age: float | None):
        self.name = name
        self.max_age = max_age
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()
        _registry.append(self)

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        """The cached value of `key`, loading it with `load()` when absent or too old."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and (self.max_age is None or now - entry[0] < self.max_age):
            return entry[1]
        value = load()
        with self._lock:
            self._entries[key] = (now, value)
        return value

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self, *_args, **_kwargs) -> None:
        """Forget every entry (usable as a model-signal receiver)."""
        with self._lock:
            self._entries.clear()

    def clear_when_changed(self, *models) -> None:
        """Clear this cache whenever a row of `models` is saved or deleted in this process (call
        from AppConfig.ready)."""
        from django.db.models.signals import post_delete, post_save

        for model in models:
            for name, signal in (("saved", post_save), ("deleted", post_delete)):
                signal.connect(
                    self.clear, sender=model, dispatch_uid=f"{self.name}-{model._meta.label}-{name}"
                )


def forget_all() -> None:
    """Empty every process cache (tests)."""
    for cache in _registry:
        cache.clear()
