"""Consultations that cannot be answered on the call (P3, C14): recorded with name and phone and
routed to the expert department, never answered beyond one's authority. The answer is a reply on the
work order (kefu.tickets), which stops the consultation's answer clock (C14)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import Department
from kefu.core.errors import DomainError
from kefu.followups.services.common import require_company, text


def consultation_refer(*, by, surname: str, phone: str, question: str, department_id: int, title: str = ""):
    """Record the question as a consultation work order owned by the agent (P1) and pass it to the
    expert department (P5)."""
    from kefu.tickets.services import ticket_assign, ticket_create

    cid = require_company(by)
    surname = text(surname, field="surname", label=_("客户姓氏"), limit=10)
    question = text(question, field="question", label=_("咨询内容"))
    if not Department.objects.filter(pk=department_id, company_id=cid).exists():
        raise DomainError(_("本公司没有该部门。"), field="department_id")
    with transaction.atomic():
        t = ticket_create(
            by=by,
            kind="consultation",
            content=question,
            caller_surname=surname,
            caller_title=title,
            caller_phone=phone,
            on_duplicate="create",
        ).ticket
        return ticket_assign(
            ticket_id=t.pk,
            by=by,
            version=t.version,
            department_id=department_id,
            note=_("坐席不能当即答复，转专业部门答复"),
        )
