"""Refused access is audited (S3 越权访问): every 403, and every 404 answered by a view (another
company's object looks exactly like one that does not exist), with the actor, the object and the
address — rate-limited per actor so an attacker cannot flood the log.

One place: `RefusalAuditMiddleware` sees the final status of every web page and API call, whichever
view, exception handler or template produced it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from kefu.accounts.audit import Action, audit_record, refusal_recorded
from kefu.accounts.context import client_ip
from kefu.accounts.models import AuditEvent

#: Responses that are refusals of access: 403 always, 404 only when a view ran (an unknown address
#: is not an attempt on an object).
REFUSAL_STATUSES = {403: Action.PERMISSION_DENIED, 404: Action.NOT_FOUND}


def _window_seconds() -> int:
    return int(settings.KEFU_SECURITY.get("REFUSAL_AUDIT_WINDOW_SECONDS", 60))


def audit_refusal(request, *, status: int) -> AuditEvent | None:
    """Write the refusal row, or count it when this actor already has one of this kind in the current
    window (default 60 s): the next row written carries `suppressed`, the number of refusals of that
    kind not written since the previous row. Returns the row written, if any."""
    action = REFUSAL_STATUSES[status]
    user = getattr(request, "user", None)
    actor_key = f"u{user.pk}" if user is not None and user.is_authenticated else f"a{client_ip(request)}"
    slot = f"kefu:refusal:{actor_key}:{action}"
    pending = f"{slot}:pending"
    if not cache.add(slot, 1, _window_seconds()):
        try:
            cache.incr(pending)
        except ValueError:
            cache.set(pending, 1, None)
        return None
    suppressed = cache.get(pending, 0)
    if suppressed:
        cache.delete(pending)
    match = getattr(request, "resolver_match", None)
    kwargs = match.kwargs if match is not None else {}
    return audit_record(
        action=action,
        actor=user if user is not None and user.is_authenticated else None,
        result=AuditEvent.Result.DENIED,
        object_type=(match.view_name if match is not None else "")[:60],
        object_id=",".join(f"{k}={v}" for k, v in sorted(kwargs.items()))[:64],
        object_repr=f"{request.method} {request.path}"[:200],
        detail={
            "status": status,
            "method": request.method,
            "path": request.path[:500],
            "suppressed": suppressed,
        },
    )


class RefusalAuditMiddleware:
    """Audits each 403, and each 404 of a resolved view, once per request (unless the code that refused
    already wrote its own refusal row), rate-limited by `audit_refusal`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = refusal_recorded.set(False)
        try:
            response = self.get_response(request)
            status = response.status_code
            if status in REFUSAL_STATUSES and not refusal_recorded.get():
                if status == 403 or getattr(request, "resolver_match", None) is not None:
                    audit_refusal(request, status=status)
            return response
        finally:
            refusal_recorded.reset(token)
