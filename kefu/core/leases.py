"""Leases for periodic jobs: one holder at a time, and never held for ever by a dead worker.

A periodic job (the clock sweep, import housekeeping) runs inside `lease_held(name, ttl=…)`; a
second worker that finds the lease held skips that round. The job itself must still be safe to run
twice (state lives in rows, claimed by conditional UPDATEs — ARCHITECTURE): the lease only keeps
runs from overlapping, it is not what makes them exactly-once.

A lease is a `core.Lease` row claimed with a conditional UPDATE. It is free when nobody holds it,
when its expiry has passed, or when its holder is known to be dead:

* the holder is written as `host:pid:start` (the process's start time from /proc), so on the same
  host a claimant sees at once that the holder's process is gone (killed with SIGKILL, out of
  memory) — SQLite installations are always one host;
* on PostgreSQL the holder also keeps a session advisory lock, which the server drops the moment the
  holder's connection dies: whoever then gets the advisory lock knows the previous holder is dead,
  on any host.

So a worker killed during a sweep never stops later sweeps (huey's `lock_task` did: its key stayed
in the queue store after kill -9). `completed_at` records the last completed run for the health
check (`kefu.core.health`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from kefu.core.models import Lease

logger = logging.getLogger("kefu.core")


def _start_ticks(pid: int | str = "self") -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = data[data.rfind(")") + 2 :].split()
    # fields[0] is the state (field 3 of stat); the start time is field 22.
    return fields[19] if len(fields) > 19 else None


@lru_cache(maxsize=1)
def _host() -> str:
    return socket.gethostname()[:100]


def holder_id() -> str:
    """This process as a lease holder: `host:pid:start` (start distinguishes a reused pid)."""
    return f"{_host()}:{os.getpid()}:{_start_ticks() or '0'}"


def holder_alive(holder: str) -> bool | None:
    """True if the holder's process runs, False if it is known to be gone, None if unknown (another
    host, or a system without /proc)."""
    try:
        host, pid_text, start = holder.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return None
    if host != _host():
        return None
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except FileNotFoundError:
        return False
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    if fields and fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent
        return False
    if start != "0" and len(fields) > 19 and fields[19] != start:
        return False  # the pid was reused by another process
    return True


def _advisory_key(name: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(f"kefu-lease:{name}".encode(), digest_size=8).digest(), "big", signed=True
    )


@dataclass
class LeaseHandle:
    """A lease this process holds."""

    name: str
    holder: str
    ttl: timedelta
    advisory: bool = False

    def renew(self) -> bool:
        """Push the expiry `ttl` ahead; False if the lease was lost (taken over after expiry)."""
        return bool(
            Lease.objects.filter(name=self.name, holder=self.holder).update(
                expires_at=timezone.now() + self.ttl
            )
        )


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _lease_row(name: str) -> None:
    if not Lease.objects.filter(name=name).exists():
        Lease.objects.bulk_create([Lease(name=name)], ignore_conflicts=True)


def lease_acquire(name: str, *, ttl: timedelta) -> LeaseHandle | None:
    """Take the lease `name` for `ttl`, or return None if a live holder has it."""
    me = holder_id()
    if _pg():
        with connection.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [_advisory_key(name)])
            if not cur.fetchone()[0]:
                return None
        try:
            _lease_row(name)
            # Nobody alive holds the advisory lock, so whoever the row names is gone.
            now = timezone.now()
            Lease.objects.filter(name=name).update(holder=me, acquired_at=now, expires_at=now + ttl)
        except BaseException:
            lease_release(LeaseHandle(name, me, ttl, advisory=True), completed=False)
            raise
        return LeaseHandle(name, me, ttl, advisory=True)
    _lease_row(name)
    now = timezone.now()
    claim = {"holder": me, "acquired_at": now, "expires_at": now + ttl}
    free = Q(holder="") | Q(expires_at__isnull=True) | Q(expires_at__lt=now)
    if Lease.objects.filter(free, name=name).update(**claim):
        return LeaseHandle(name, me, ttl)
    current = Lease.objects.filter(name=name).values_list("holder", flat=True).first() or ""
    if current and current != me and holder_alive(current) is False:
        # The holder died (kill -9, out of memory): take over, unless another claimant was faster.
        if Lease.objects.filter(name=name, holder=current).update(**claim):
            logger.warning("lease %s: took over from %s, which is no longer running", name, current)
            return LeaseHandle(name, me, ttl)
    return None


def lease_release(handle: LeaseHandle, *, completed: bool) -> None:
    """Give the lease back; `completed` records the run as the last completed one."""
    values: dict = {"holder": "", "expires_at": None}
    if completed:
        values.update(completed_at=timezone.now(), completed_by=handle.holder)
    try:
        Lease.objects.filter(name=handle.name, holder=handle.holder).update(**values)
    finally:
        if handle.advisory:
            try:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s)", [_advisory_key(handle.name)])
            except DatabaseError:  # the connection is gone, and the lock with it
                logger.warning("lease %s: advisory unlock failed", handle.name, exc_info=True)


@contextmanager
def lease_held(name: str, *, ttl: timedelta) -> Iterator[LeaseHandle | None]:
    """Run the block holding the lease `name`; the block gets None (and should skip its work) when
    a live holder has it. Leaving the block normally records a completed run."""
    handle = lease_acquire(name, ttl=ttl)
    if handle is None:
        yield None
        return
    ok = False
    try:
        yield handle
        ok = True
    finally:
        lease_release(handle, completed=ok)


def lease_completed_at(name: str) -> datetime | None:
    """When a run under this lease last completed (None: never)."""
    return Lease.objects.filter(name=name).values_list("completed_at", flat=True).first()
