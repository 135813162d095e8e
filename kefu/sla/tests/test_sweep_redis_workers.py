"""Two workers on Redis never run the same sweep batch twice.

A real huey consumer on Redis with two worker threads takes two sweep jobs off the queue; a barrier
makes both sweeps start at the same moment over the same due clocks, in batches of 7. Each clock is
claimed by exactly one batch (SELECT … FOR UPDATE SKIP LOCKED, kefu.sla.sweep), so the two sweeps'
counts add up to the clocks, not twice them, and every notification exists once.
"""

from __future__ import annotations

import signal
import threading
import uuid

import pytest
from django.conf import settings
from django.db import connection

from kefu.sla.models import Clock
from kefu.sla.states import ClockState
from kefu.sla.sweep import sweep
from kefu.sla.tests.test_sweep_concurrency import NOW, _assert_exactly_once, _setup

REDIS_URL = settings.KEFU_REDIS_URL or "redis://127.0.0.1:6379/0"


def _redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (KEFU_REDIS_URL): {exc}")


@pytest.mark.django_db(transaction=True)
def test_two_redis_workers_never_sweep_the_same_batch_twice(company_x, manager_x):
    if connection.vendor != "postgresql":
        pytest.skip(
            "row-level claims (SKIP LOCKED) are a PostgreSQL matter; SQLite runs one writer at a time"
        )
    _redis_or_skip()
    from huey import RedisHuey

    data = _setup(company_x, manager_x, breached=120, warned=120)
    huey = RedisHuey(f"kefu-test-{uuid.uuid4().hex[:8]}", url=REDIS_URL, results=True, utc=True)
    both_started = threading.Barrier(2, timeout=60)
    workers_seen: set[str] = set()

    @huey.task()
    def sweep_job() -> dict:
        from django.db import connection as conn

        try:
            workers_seen.add(threading.current_thread().name)
            both_started.wait()  # the two sweeps run at the same time, on two workers
            return sweep(now=NOW, batch_size=7, attach=False).as_dict()
        finally:
            conn.close()

    jobs = [sweep_job(), sweep_job()]
    consumer = huey.create_consumer(workers=2, worker_type="thread", periodic=False, initial_delay=0.05)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    consumer.start()  # the scheduler and two worker threads, as `kefu worker` starts them
    try:
        results = [job.get(blocking=True, timeout=120) for job in jobs]
    finally:
        consumer.stop(graceful=True)
        for sig, handler in handlers.items():  # the consumer took over the test process's signals
            signal.signal(sig, handler)
        huey.storage.flush_all()
    assert len(workers_seen) == 2  # two worker threads, each ran one sweep
    assert sum(r["breached"] for r in results) == 120
    assert sum(r["warned"] for r in results) == 120
    assert sum(r["notifications"] for r in results) == data["expected"]
    _assert_exactly_once(data["expected"])
    assert Clock.objects.filter(state=ClockState.BREACHED, escalation_level=1).count() == 120
    assert Clock.objects.filter(warned_at=NOW).count() == 120
