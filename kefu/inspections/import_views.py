"""The import page, /inspections/import/: upload last year's inspection records (CSV or Excel with
the usual Chinese headers), check every line, and write only when no line is wrong (P14)."""

from __future__ import annotations

import os
import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.inspections import importing, services

MAX_UPLOAD = 50 * 1024 * 1024
EXTENSIONS = (".csv", ".xlsx", ".xls", ".txt")


def _need(user, perm: str) -> None:
    """A page refused to a role without `perm`: Django's 403 page (logged by the refusal audit)."""
    if not role_allows(user, perm):
        raise PermissionDenied


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload, check every line, write all or nothing; the report lists each wrong line."""
    _need(request.user, Perm.INSPECTION_PLAN)
    year = services.local_today(request.user.company).year - 1
    report = None
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            year = int(request.POST.get("year") or year)
        except ValueError:
            error = _("年度不正确。")
        if not error and (upload is None or not upload.name.lower().endswith(EXTENSIONS)):
            error = _("请选择 CSV 或 Excel 文件。")
        elif not error and upload.size > MAX_UPLOAD:
            error = _("文件不能超过 50 MB。")
        if not error:
            suffix = os.path.splitext(upload.name)[1].lower()
            with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as tmp:
                for chunk in upload.chunks():
                    tmp.write(chunk)
            try:
                report = importing.import_records(
                    by=request.user, path=tmp.name, year=year, dry_run=request.POST.get("dry_run") == "1"
                )
            except DomainError as e:
                error = e.message
            finally:
                os.unlink(tmp.name)
    return render(
        request,
        "inspections/import.html",
        {
            "year": year,
            "report": report,
            "error": error,
            "headers": importing.HEADERS,
            "required": importing.REQUIRED,
        },
    )
