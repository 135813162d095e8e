"""The typed event registry (kefu.core.events): listeners run after the commit, never after a
rollback, a failing listener is logged and the others still run; a listener must name its catch-up."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

import pytest
from django.db import transaction

from kefu.core import events


@dataclass(frozen=True)
class SomethingHappened(events.Event):
    thing_id: int


@pytest.fixture
def seen():
    calls: list[int] = []

    def listener(event: SomethingHappened) -> None:
        calls.append(event.thing_id)

    events.subscribe(SomethingHappened, listener, catch_up="none: a test listener")
    yield calls
    events.unsubscribe(SomethingHappened, listener)


def test_an_event_is_a_frozen_value():
    e = SomethingHappened(thing_id=1)
    assert e == SomethingHappened(thing_id=1)
    with pytest.raises(FrozenInstanceError):
        e.thing_id = 2  # type: ignore[misc]
    assert SomethingHappened in events.event_types()


@pytest.mark.django_db
def test_listeners_run_after_the_commit_only(seen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            events.publish(SomethingHappened(thing_id=1))
            assert seen == []
    assert seen == [1]
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            events.publish(SomethingHappened(thing_id=2))
            raise RuntimeError("rolled back")
    assert seen == [1]


@pytest.mark.django_db
def test_a_failing_listener_is_logged_and_the_others_run(seen, caplog, django_capture_on_commit_callbacks):
    def broken(event):
        raise ValueError("listener bug")

    events.subscribe(SomethingHappened, broken, catch_up="none: a test listener")
    try:
        with (
            caplog.at_level("ERROR", logger="kefu.core.events"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            events.publish(SomethingHappened(thing_id=3))
    finally:
        events.unsubscribe(SomethingHappened, broken)
    assert seen == [3]
    assert any("broken" in r.getMessage() for r in caplog.records)


def test_subscribing_twice_keeps_one_and_a_catch_up_is_required(seen):
    def listener(event):
        pass

    events.subscribe(SomethingHappened, listener, catch_up="x")
    events.subscribe(SomethingHappened, listener, catch_up="x")
    try:
        assert [s.fn for s in events.listeners(SomethingHappened)].count(listener) == 1
    finally:
        events.unsubscribe(SomethingHappened, listener)
    with pytest.raises(ValueError):
        events.subscribe(SomethingHappened, listener, catch_up=" ")
    with pytest.raises(TypeError):
        events.subscribe(int, listener, catch_up="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        events.publish("something_happened")  # type: ignore[arg-type]
