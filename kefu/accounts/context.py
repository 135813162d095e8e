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


def client_ip(request) -> str | None:
    """The source address. Behind a reverse proxy set KEFU_TRUSTED_PROXY_COUNT (docs/operator-guide.md)."""
    from django.conf import settings

    hops = int(getattr(settings, "KEFU_TRUSTED_PROXY_COUNT", 0) or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [p.strip() for p in forwarded.split(",") if p.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return request.META.get("REMOTE_ADDR") or None


def set_current_user(user: Any) -> None:
    """Called when a request authenticates late (API token): later audit rows name this user."""
    ctx = _current.get()
    _current.set(ActorContext(user=user, source_ip=ctx.source_ip, channel=ctx.channel))
