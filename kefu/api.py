"""The JSON API root, /api/v1/ (django-ninja; OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs).

Authentication: `Authorization: Bearer kefu_…` tokens for integrations, or the browser session
(with CSRF). Every error is JSON `{"detail": "<message in the user's language>", ...}` with a 4xx
status; a malformed request never gives a 500.
"""

from __future__ import annotations

import logging

from django.core import signals
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from kefu.accounts.apiauth import SessionAuthCSRF, TokenAuth
from kefu.core.errors import DomainError


def _docs_guard(view):
    """In production the API documentation and schema need a logged-in session (or a valid token):
    the operation list is a map for an attacker. Development keeps them open (the fuzz tests read the
    schema)."""
    from functools import wraps

    from django.conf import settings
    from django.contrib.auth.views import redirect_to_login

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if getattr(settings, "PRODUCTION", False) and not request.user.is_authenticated:
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else ""
            if not (token and TokenAuth().authenticate_quietly(token)):
                if request.path.endswith(".json"):
                    from django.http import JsonResponse

                    return JsonResponse(
                        {"detail": _("未登录或令牌无效。"), "code": "unauthenticated"}, status=401
                    )
                return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return guarded


def _refuse_nul(value, where: str = "") -> None:
    """NUL (U+0000) never belongs in a customer service record, and PostgreSQL refuses it in text and
    JSON columns: a request carrying one anywhere is refused whole, naming the field (S2: bad input
    gets a 4xx, never a 500)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise DomainError(
                _("请求中含有无效字符（NUL），字段：%(f)s。") % {"f": where or "-"}, field=where
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, where)
            _refuse_nul(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for item in value:
            _refuse_nul(item, where)


def _without_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


class _Parser(Parser):
    """NUL characters, once for every operation: refused in what is stored (JSON bodies, form
    fields), dropped from query strings (a search or a filter stores nothing)."""

    def parse_body(self, request):
        data = super().parse_body(request)
        _refuse_nul(data)
        return data

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        if data is request.GET:
            return {k: _without_nul(v) for k, v in result.items()}
        _refuse_nul(result)
        return result


api = NinjaAPI(
    parser=_Parser(),
    docs_decorator=_docs_guard,
    title="kefu API",
    version="1",
    urls_namespace="api",
    description=__doc__,
    auth=[TokenAuth(), SessionAuthCSRF()],
)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    body = {"detail": exc.message, "code": exc.code}
    if exc.field:
        body["field"] = exc.field
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    fields = []
    for err in exc.errors:
        loc = ".".join(str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload"))
        fields.append({"field": loc, "message": err.get("msg", "")})
    summary = "；".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return api.create_response(
        request,
        {"detail": _("请求数据有误：%(s)s") % {"s": summary}, "code": "invalid", "errors": fields},
        status=422,
    )


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request, exc: DjangoValidationError):
    return api.create_response(request, {"detail": "；".join(exc.messages), "code": "invalid"}, status=400)


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return api.create_response(
        request, {"detail": _("未登录或令牌无效。"), "code": "unauthenticated"}, status=401
    )


@api.exception_handler(PermissionDenied)
def _permission_denied(request, exc):
    return api.create_response(
        request, {"detail": _("您的角色无权执行此操作。"), "code": "permission_denied"}, status=403
    )


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": _("未找到。"), "code": "not_found"}, status=404)


@api.exception_handler(OverflowError)
def _overflow(request, exc):
    """A number too large for the database (e.g. an id of 30 digits) is bad input, not a crash."""
    return api.create_response(request, {"detail": _("数值超出允许范围。"), "code": "invalid"}, status=400)


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return api.create_response(
        request, {"detail": _("请求内容超过 10 MB 的上限。"), "code": "too_large"}, status=413
    )


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request, exc):
    """An upload without a boundary, or otherwise not parseable as multipart/form-data."""
    return api.create_response(
        request,
        {"detail": _("上传内容格式有误（multipart/form-data 缺少分隔符或已损坏）。"), "code": "invalid"},
        status=400,
    )


@api.exception_handler(UnicodeError)
def _bad_text(request, exc):
    """Text that cannot be stored as UTF-8 (a lone surrogate such as "\\ud800" in JSON) is bad input."""
    return api.create_response(
        request, {"detail": _("文本中含有无效字符（不成对的代理项）。"), "code": "invalid"}, status=400
    )


@api.exception_handler(Exception)
def _unexpected(request, exc):
    """The last resort: a bug. Logged with its traceback (and reported to whatever listens to
    got_request_exception, as Django does); the client gets JSON, never an HTML error page."""
    logging.getLogger("kefu.api").error("Internal Server Error: %s", request.path, exc_info=exc)
    signals.got_request_exception.send(sender=None, request=request)
    return api.create_response(
        request,
        {"detail": _("服务器内部错误，已记录。请稍后重试或联系系统管理员。"), "code": "server_error"},
        status=500,
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, DomainError):  # ninja wraps whatever the body parser raised
        return _domain_error(request, exc.__cause__)
    return api.create_response(request, {"detail": str(exc.message), "code": "error"}, status=exc.status_code)


api.add_router("/accounts/", "kefu.accounts.api.router")
api.add_router("/customers/", "kefu.customers.api.router")
api.add_router("/imports/", "kefu.customers.import_api.router")
api.add_router("/billing/", "kefu.customers.billing_api.router")
api.add_router("/tickets/", "kefu.tickets.api.router")
api.add_router("/sla/", "kefu.sla.api.router")
api.add_router("/notifications/", "kefu.notify.api.router")
api.add_router("/kpi/", "kefu.kpi.api.router")
api.add_router("/telephony/", "kefu.telephony.api.router")
api.add_router("/followups/", "kefu.followups.api.router")
api.add_router("/outages/", "kefu.outages.api.router")
api.add_router("/workforce/", "kefu.workforce.api.router")
api.add_router("/field/", "kefu.field.api.router")
api.add_router("/inspections/", "kefu.inspections.api.router")
api.add_router("/quality/", "kefu.quality.api.router")
api.add_router("/counter/", "kefu.counter.api.router")
api.add_router("/portal/", "kefu.portal.api.router")
api.add_router("/exports/", "kefu.exports.api.router")
