"""The web side of an export, for any app's view (S3): `export_response(request, kind=…,
params=…)` delivers a 机密/内部 file at once, or answers a 绝密 one with 403 and the request form.

    @login_required
    def ticket_export(request):
        return export_response(request, kind="tickets.list", params=params_from_query(request.GET))
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from kefu.core.errors import DomainError
from kefu.exports.registry import Params, export_kind
from kefu.exports.services import Delivery, export_direct


def delivery_response(delivery: Delivery) -> HttpResponse:
    """The file as a download: a CSV streams, an Excel file is sent whole. No caching anywhere."""
    if isinstance(delivery.content, (bytes, bytearray)):
        response: HttpResponse = HttpResponse(delivery.content, content_type=delivery.content_type)
    else:
        response = StreamingHttpResponse(delivery.content, content_type=delivery.content_type)
    response["Content-Disposition"] = f'attachment; filename="{delivery.filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Kefu-Export"] = delivery.request.number
    return response


def refusal_response(request: HttpRequest, exc: DomainError, *, kind: str = "", params: Params | None = None):
    """A refused export as a page: 绝密 without approval (403) shows the request form prefilled with
    the same kind and conditions; anything else shows the message with its status."""
    if exc.code == "approval_required" and kind:
        k = export_kind(kind)
        return render(
            request,
            "exports/approval_required.html",
            {
                "message": exc.message,
                "kind": k,
                "params_json": json.dumps(params or {}, ensure_ascii=False),
            },
            status=exc.status,
        )
    return render(request, "exports/refused.html", {"message": exc.message}, status=exc.status)


def export_response(request: HttpRequest, *, kind: str, params: Params) -> HttpResponse:
    """Deliver the export, or refuse it with a page (see the module's docstring)."""
    try:
        return delivery_response(export_direct(by=request.user, kind=kind, params=params))
    except DomainError as exc:
        return refusal_response(request, exc, kind=kind, params=params)
