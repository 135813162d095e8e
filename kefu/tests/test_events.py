"""Every event and listener of the project is listed in docs/events.md, and every listener names a
catch-up sweep that exists (ARCHITECTURE.md: a process can die between a commit and its listener)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from kefu.core import events

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def _ours(name: str) -> bool:
    return name.startswith("kefu.") and ".tests." not in name


def _qualname(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _table() -> list[tuple[str, str, str]]:
    """(event, listener, catch-up) per row of the table; `—` for an event without a listener."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[0].startswith("`"):
            continue
        first = lambda cell: (re.findall(r"`([^`]+)`", cell) or ["—"])[0]  # noqa: E731
        rows.append((first(cells[0]), first(cells[3]), first(cells[4])))
    return rows


def _registered() -> list[tuple[str, str, str]]:
    rows = []
    for event_type in events.event_types():
        if not _ours(_qualname(event_type)):
            continue
        subs = [s for s in events.listeners(event_type) if _ours(s.name)]
        rows += [(_qualname(event_type), s.name, s.catch_up) for s in subs] or [
            (_qualname(event_type), "—", "—")
        ]
    return rows


def test_the_events_table_lists_exactly_the_registered_events_and_listeners():
    assert sorted(_table()) == sorted(_registered())
    assert _registered(), "no events registered: the apps' ready() did not run?"


def test_every_listener_names_a_catch_up_that_exists():
    for sub in events.listeners():
        if not _ours(sub.name):
            continue
        module, _, name = sub.catch_up.rpartition(".")
        assert module.startswith("kefu."), f"{sub.name}: catch-up {sub.catch_up!r} is not a kefu function"
        assert callable(getattr(importlib.import_module(module), name, None)), (
            f"{sub.name}: {sub.catch_up} missing"
        )
