"""Project-wide request guards: bad input that would reach the database as a crash becomes a 400
with a message, API errors outside the API's own handlers are JSON, and every HTML page carries a
Content-Security-Policy."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

#: Scripts and styles only from this site; no plugins, no framing, forms post only here. Inline
#: `style=""` attributes stay allowed (layout only; scripts are what an injection would need).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    """A 4xx with `message`: JSON under /api/, a page elsewhere."""
    if is_api(request):
        return JsonResponse(
            {"detail": message, "code": "invalid"}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    return render(request, "400.html", {"message": message}, status=status)


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())


class BadInputMiddleware:
    """NUL characters in a query string or a form, and numbers beyond 64 bits in ids, are refused with
    a 400 instead of crashing in the database driver (PostgreSQL cannot store NUL; SQLite cannot bind
    integers over 2^63 - 1). One place for every page, so no form has to remember."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The API answers NUL field by field (a 400 naming the field, or a search that ignores it).
        if not is_api(request) and (
            "\x00" in request.path
            or _has_nul(request.GET)
            or (request.method == "POST" and _has_nul(request.POST))
        ):
            return bad_request(request, _("请求中含有不允许的控制字符（NUL）。"))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, OverflowError):
            return bad_request(request, _("数值超出允许范围。"))
        return None


class ContentSecurityPolicyMiddleware:
    """A Content-Security-Policy on every HTML response (Django 5.2 has none built in)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


def error_404(request: HttpRequest, exception=None) -> HttpResponse:
    """handler404: JSON under /api/ (an unknown API path), the usual page elsewhere."""
    if is_api(request):
        return JsonResponse(
            {"detail": _("未找到。"), "code": "not_found"},
            status=404,
            json_dumps_params={"ensure_ascii": False},
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def error_500(request: HttpRequest) -> HttpResponse:
    """handler500: JSON under /api/ (the API's own catch-all covers its views; this covers the rest)."""
    if is_api(request):
        return JsonResponse(
            {"detail": _("服务器内部错误，已记录。请稍后重试或联系系统管理员。"), "code": "server_error"},
            status=500,
            json_dumps_params={"ensure_ascii": False},
        )
    from django.views.defaults import server_error

    return server_error(request)


def error_400(request: HttpRequest, exception=None) -> HttpResponse:
    """handler400 (e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE read by a middleware)."""
    if is_api(request):
        return JsonResponse(
            {"detail": _("请求有误。"), "code": "invalid"},
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
    from django.views.defaults import bad_request as django_bad_request

    return django_bad_request(request, exception)
