"""The import page, /customers/import/ (issue 2 item 7): upload, dry run, progress, per-line report.

One URL serves the page (GET), the upload (POST), a run's page (`?run=ID`), its progress fragment
polled by htmx (`?run=ID&fragment=1`) and the column template (`?template=csv`).
"""

from __future__ import annotations

import csv
import io

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.customers.importing.columns import COLUMNS
from kefu.customers.importing.runs import (
    ALLOWED_EXTENSIONS,
    import_run_create,
    import_run_get,
    import_run_list,
    max_upload_bytes,
)
from kefu.customers.models import ImportRun
from kefu.customers.tasks import process_import_run


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy("CSV（UTF-8 或 GBK）或 Excel（.xlsx/.xls）；第一行为列名。"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_EXTENSIONS)}),
    )
    dry_run = forms.BooleanField(label=gettext_lazy("试运行（只校验，不写入）"), required=False, initial=True)


def template_csv() -> bytes:
    """The column template: headers and one example line, UTF-8 with BOM so Excel shows Chinese."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([c.title for c in COLUMNS])
    writer.writerow([c.example for c in COLUMNS])
    return buf.getvalue().encode("utf-8-sig")


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    if not role_allows(request.user, Perm.CUSTOMER_IMPORT):
        raise PermissionDenied
    if request.GET.get("template"):
        response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            "attachment; filename*=UTF-8''%E5%AE%A2%E6%88%B7%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.csv"
        )
        return response
    if run_id := request.GET.get("run"):
        return _run_page(request, run_id)

    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = import_run_create(
                user=request.user, upload=form.cleaned_data["file"], dry_run=form.cleaned_data["dry_run"]
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            process_import_run(run.pk)
            return redirect(f"{reverse('customers:import')}?run={run.pk}")
    return render(
        request,
        "customers/import.html",
        {
            "form": form,
            "runs": import_run_list(user=request.user),
            "columns": COLUMNS,
            "max_mb": max_upload_bytes() // 1048576,
        },
    )


def _run_page(request: HttpRequest, run_id: str) -> HttpResponse:
    try:
        run = import_run_get(user=request.user, run_id=int(run_id))
    except (ValueError, DomainError) as exc:
        return render(
            request,
            "customers/import_missing.html",
            {"message": getattr(exc, "message", _("没有这条导入记录。"))},
            status=404,
        )
    busy = run.status in (ImportRun.Status.PENDING, ImportRun.Status.RUNNING)
    percent = int(100 * run.processed_rows / run.total_rows) if run.total_rows else (0 if busy else 100)
    context = {"run": run, "busy": busy, "percent": min(percent, 100)}
    if request.GET.get("fragment") or getattr(request, "htmx", False):
        return render(request, "customers/import_progress.html", context)
    return render(request, "customers/import_run.html", context)
