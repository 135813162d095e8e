"""Who is acting and from where, for the current request or command.

Services write audit rows without every caller passing the source address down: the middleware
(or a management command) sets it here once per request.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterator


@dataclass(frozen=True)
class ActorContext:
    user: Any = None
    source_ip: str | None = None
    channel: str = "web"  # web, api, command, worker


_current: ContextVar[ActorContext] = ContextVar("kefu_actor", default=ActorContext(channel="command"))


def current_actor() -> ActorContext:
    return _current.get()


@contextmanager
def acting_as(ctx: ActorContext) -> Iterator[ActorContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def _address(value: str) -> str | None:
    """`value` as a canonical IP address, or None if it is not one (a port or garbage)."""
    import ipaddress

    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address, the one function behind the lock-out, the audit log and everything else
    that records where a request came from (S1, S3).

    With KEFU_TRUSTED_PROXY_COUNT = N > 0 (docs/operator-guide.md), the N reverse proxies in front each
    append the address they were connected from to X-Forwarded-For, so the client is the N-th entry
    from the right; anything further left was written by the client and is ignored (a forged header
    cannot choose the address). With N = 0, or a header shorter than N entries (the request did not
    come through the proxies), X-Forwarded-For is ignored and the connection's address is used.
    """
    from django.conf import settings

    hops = int(getattr(settings, "KEFU_TRUSTED_PROXY_COUNT", 0) or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops > 0 and forwarded:
        chain = [p.strip() for p in forwarded.split(",")]
        if len(chain) >= hops and (address := _address(chain[-hops])):
            return address
    return _address(request.META.get("REMOTE_ADDR") or "")


def set_current_user(user: Any) -> None:
    """Called when a request authenticates late (API token): later audit rows name this user."""
    ctx = _current.get()
    _current.set(ActorContext(user=user, source_ip=ctx.source_ip, channel=ctx.channel))
