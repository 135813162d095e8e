"""The audit log as a CSV file (S3), through kefu.exports: the auditor's export is watermarked
(who, when, number), limited in rows and logged (`audit.exported`). Class: 机密 — it names people
and the records they touched, and an approval by a supervisor would put the audited above the
auditor (三权分立), so it needs none (docs/decisions.md)."""

from __future__ import annotations

import json

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts import selectors
from kefu.accounts.audit import Action, action_label, actor_name, describe_detail
from kefu.accounts.models import Company
from kefu.accounts.roles import Perm, role_allows
from kefu.exports.classification import Level, classify
from kefu.exports.registry import ExportData, ExportKind, Sheet, params_to_query, register_export

AUDIT_MAX_ROWS = 100_000

HEADER = (
    "时间",
    "公司",
    "操作人",
    "动作",
    "对象类型",
    "对象编号",
    "对象",
    "结果",
    "来源地址",
    "详情",
    "动作说明",
    "详情说明",
)


def build_audit_log(user, params) -> ExportData:
    """The auditor's filtered audit rows (their companies only, S2), as of now: rows written while
    the file streams (this export's own row among them) are not in it."""
    filters = selectors.AuditFilters.from_query(params_to_query(params))
    rows = selectors.audit_events(user=user, filters=filters)
    last = rows.aggregate(m=Max("pk"))["m"] or 0
    rows = rows.filter(pk__lte=last)
    companies = dict(Company.objects.values_list("id", "name"))

    def lines():
        for e in rows.iterator(chunk_size=2000):
            yield (
                timezone.localtime(e.at).isoformat(),
                companies.get(e.company_id, ""),
                actor_name(e),
                e.action,
                e.object_type,
                e.object_id,
                e.object_repr,
                e.get_result_display(),
                e.source_ip or "",
                json.dumps(e.detail, ensure_ascii=False, sort_keys=True),
                action_label(e.action),
                describe_detail(e.detail),
            )

    return ExportData(
        sheets=[Sheet(title=_("审计日志"), header=HEADER, rows=lines(), count=rows.count())],
        description=describe_detail(filters.as_dict()),
        detail=filters.as_dict(),
    )


def register() -> None:
    """Declare the audit log's class (S4) and its export (S3); called from AccountsConfig.ready()."""
    classify("accounts.auditevent", Level.SECRET, category=gettext_lazy("审计日志（人员操作记录）"))
    classify("accounts.auditarchive", Level.SECRET, category=gettext_lazy("审计日志（人员操作记录）"))
    register_export(
        ExportKind(
            code="accounts.audit_log",
            label=gettext_lazy("审计日志"),
            fmt="csv",
            filename="audit",
            allowed=lambda user: role_allows(user, Perm.AUDIT_EXPORT),
            refusal=gettext_lazy("您的角色无权导出审计日志。"),
            models=lambda user, params: ("accounts.auditevent",),
            build=build_audit_log,
            max_rows=AUDIT_MAX_ROWS,
            audit_action=Action.AUDIT_EXPORTED,
            object_type="audit",
        )
    )
