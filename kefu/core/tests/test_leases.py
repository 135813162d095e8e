"""Leases of periodic jobs (kefu.core.leases): one holder at a time, never held for ever by a dead
worker (a sweep lock that outlived a killed worker stopped every later sweep)."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from kefu.core import leases
from kefu.core.leases import (
    holder_alive,
    holder_id,
    lease_acquire,
    lease_completed_at,
    lease_held,
    lease_release,
)
from kefu.core.models import Lease

TTL = timedelta(minutes=5)


@pytest.fixture
def dead_holder():
    """The holder id of a process that ran on this host and is gone (killed)."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    holder = f"{leases._host()}:{proc.pid}:{leases._start_ticks(proc.pid)}"
    assert holder_alive(holder) is True
    proc.kill()
    proc.wait()
    return holder


def test_holder_alive_knows_this_process_a_dead_one_and_another_host(dead_holder):
    assert holder_alive(holder_id()) is True
    assert holder_alive(dead_holder) is False
    assert holder_alive("elsewhere:1:1") is None
    assert holder_alive("garbage") is None


@pytest.mark.django_db
def test_lease_is_held_released_and_completion_recorded():
    assert lease_completed_at("job") is None
    with lease_held("job", ttl=TTL) as lease:
        assert lease is not None
        row = Lease.objects.get(name="job")
        assert row.holder == holder_id() and row.expires_at > timezone.now()
        assert lease.renew()
    row = Lease.objects.get(name="job")
    assert row.holder == "" and row.expires_at is None and row.completed_at is not None
    assert lease_completed_at("job") == row.completed_at


@pytest.mark.django_db
def test_a_failed_run_releases_without_recording_completion():
    with pytest.raises(RuntimeError):
        with lease_held("job", ttl=TTL):
            raise RuntimeError("boom")
    row = Lease.objects.get(name="job")
    assert row.holder == "" and row.completed_at is None


@pytest.mark.django_db
def test_sqlite_live_holder_blocks_dead_holder_and_expiry_free(dead_holder):
    if connection.vendor != "sqlite":
        pytest.skip("on PostgreSQL the advisory lock decides (test below)")
    future = timezone.now() + TTL
    # another live process on this host (the test runner's parent) holds it
    import os

    parent = f"{leases._host()}:{os.getppid()}:{leases._start_ticks(os.getppid())}"
    Lease.objects.create(name="job", holder=parent, expires_at=future)
    assert lease_acquire("job", ttl=TTL) is None
    # a holder on another host: only expiry frees it
    Lease.objects.filter(name="job").update(holder="elsewhere:42:1")
    assert lease_acquire("job", ttl=TTL) is None
    Lease.objects.filter(name="job").update(expires_at=timezone.now() - timedelta(seconds=1))
    handle = lease_acquire("job", ttl=TTL)
    assert handle is not None
    lease_release(handle, completed=True)
    # a holder killed with SIGKILL (row unexpired): taken over at once
    Lease.objects.filter(name="job").update(holder=dead_holder, expires_at=future)
    handle = lease_acquire("job", ttl=TTL)
    assert handle is not None and Lease.objects.get(name="job").holder == holder_id()
    lease_release(handle, completed=False)


@pytest.mark.django_db(transaction=True)
def test_postgresql_lease_dies_with_the_holders_connection():
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    from django.db import connection as conn

    held, release = threading.Event(), threading.Event()

    def holder(close_without_release: bool):
        from django.db import connection as c

        handle = lease_acquire("job", ttl=TTL)
        assert handle is not None
        held.set()
        release.wait(30)
        if not close_without_release:
            lease_release(handle, completed=True)
        c.close()  # a worker killed with SIGKILL: its connection ends, the advisory lock with it

    t = threading.Thread(target=holder, args=(True,))
    t.start()
    assert held.wait(30)
    assert lease_acquire("job", ttl=TTL) is None  # a live holder on another connection
    release.set()
    t.join(30)
    handle = lease_acquire("job", ttl=TTL)  # row still names the dead holder, unexpired
    assert handle is not None and Lease.objects.get(name="job").holder == holder_id()
    lease_release(handle, completed=True)
    conn.close()


@pytest.mark.django_db
def test_sweep_runs_although_a_dead_worker_left_its_lease(dead_holder):
    """The periodic sweep after kill -9 of a worker mid-sweep: not skipped (it was, for ever)."""
    from kefu.sla.tasks import SWEEP_LEASE, sla_sweep_periodic

    if connection.vendor == "sqlite":
        Lease.objects.create(name=SWEEP_LEASE, holder=dead_holder, expires_at=timezone.now() + TTL)
    result = sla_sweep_periodic.call_local()
    assert result is not None and "breached" in result
    row = Lease.objects.get(name=SWEEP_LEASE)
    assert row.holder == "" and row.completed_at is not None
