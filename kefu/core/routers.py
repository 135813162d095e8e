"""Read replicas: a database router sending read-only screens' reads to a replica.

With `KEFU_REPLICA_DATABASE_URL` set, settings add a database alias `replica` (a streaming
replica of the primary). Writes always go to the primary (`default`). Reads go to the replica only
where a little replication lag cannot hurt, and the primary everywhere else:

- a web request with a safe method (GET, HEAD, OPTIONS) reads from the replica: these requests only
  call selectors (ARCHITECTURE: selectors read, services write) — lists, searches, reports, lookups;
- everything else reads from the primary: POST/PUT/PATCH/DELETE requests (a service reads what it
  is about to change), the worker, management commands and tests (unless they ask with
  `reads_from_replica()`);
- inside a transaction (`transaction.atomic`) reads go to the primary, so a service sees its own
  writes and locks the rows it reads;
- once a request or task writes anything, the rest of it reads from the primary (read-your-writes);
- sessions, accounts (users, roles, companies) and core bookkeeping (leases, checkpoints) always
  read from the primary: a login just written must be seen by the next page at once.

Without a replica configured the router says nothing and Django uses `default` for everything.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "contenttypes", "admin", "accounts", "core"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_replica_allowed: ContextVar[bool] = ContextVar("kefu_replica_allowed", default=False)
_pinned: ContextVar[bool] = ContextVar("kefu_replica_pinned", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def reads_from_replica():
    """Let reads in this block go to the replica (until something writes). For read-only code
    outside a web request, e.g. a report job."""
    allowed, pinned = _replica_allowed.set(True), _pinned.set(False)
    try:
        yield
    finally:
        _replica_allowed.reset(allowed)
        _pinned.reset(pinned)


class ReplicaRouter:
    """Django database router (settings.DATABASE_ROUTERS); see the module docstring."""

    def db_for_read(self, model, **hints):
        if not replica_configured():
            return None
        if not _replica_allowed.get() or _pinned.get() or model._meta.app_label in PRIMARY_ONLY_APPS:
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model, **hints):
        if _replica_allowed.get():
            _pinned.set(True)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # the replica gets the schema by replication


class ReplicaReadsMiddleware:
    """Safe-method requests may read from the replica; the rest of the request after a write,
    and every unsafe-method request, read from the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        allowed = _replica_allowed.set(request.method in SAFE_METHODS)
        pinned = _pinned.set(False)
        try:
            return self.get_response(request)
        finally:
            _replica_allowed.reset(allowed)
            _pinned.reset(pinned)
