"""The standard work-order taxonomy (000 15.2.7 classify the intent; 15.3 consultation; 15.5 repair and
alarm) that every company starts from. Companies may rename, disable or add kinds afterwards; the
codes stay stable because the commitment presets of `kefu.sla` refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop  # names are stored in Chinese, shown translated

from kefu.tickets.models import Severity, TicketKind, TicketSubKind


@dataclass(frozen=True)
class KindSpec:
    code: str
    name: str
    sub_kinds: tuple[tuple[str, str], ...] = ()
    requires_name: bool = False
    requires_phone: bool = False
    requires_address: bool = False
    severity: str = Severity.GENERAL
    can_resolve_on_call: bool = False
    extra: dict = field(default_factory=dict)


STANDARD_KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        "consultation",
        gettext_noop("咨询"),
        (
            ("installation", gettext_noop("报装")),
            ("safe_use", gettext_noop("安全用气")),
            ("billing", gettext_noop("收费")),
            ("outage", gettext_noop("停气")),
            ("other", gettext_noop("其他")),
        ),
        can_resolve_on_call=True,
    ),
    KindSpec("complaint", gettext_noop("投诉"), requires_name=True, requires_phone=True),
    # P5: a repair or an alarm records name, address, phone and content and goes to the department at once.
    KindSpec(
        "repair",
        gettext_noop("维修"),
        (
            ("indoor_facility", gettext_noop("户内设施")),
            ("meter", gettext_noop("燃气表")),
            ("appliance", gettext_noop("燃气具")),
        ),
        requires_name=True,
        requires_phone=True,
        requires_address=True,
    ),
    KindSpec(
        "emergency",
        gettext_noop("报警抢险"),
        (
            ("leak", gettext_noop("漏气")),
            ("fire", gettext_noop("着火")),
            ("pipe_damage", gettext_noop("管道损坏")),
        ),
        requires_phone=True,
        requires_address=True,
        severity=Severity.MAJOR,
    ),
    KindSpec(
        "installation", gettext_noop("报装"), requires_name=True, requires_phone=True, requires_address=True
    ),
    KindSpec("inspection_appointment", gettext_noop("安检预约"), requires_phone=True, requires_address=True),
    KindSpec(
        "meter_card",
        gettext_noop("表具与IC卡"),
        (
            ("read_card", gettext_noop("读卡")),
            ("battery", gettext_noop("换电池")),
            ("reissue_card", gettext_noop("补卡")),
        ),
        can_resolve_on_call=True,
    ),
    KindSpec(
        "appliance",
        gettext_noop("燃气具"),
        (("install", gettext_noop("安装")), ("repair", gettext_noop("维修"))),
        requires_phone=True,
        requires_address=True,
    ),
    KindSpec("suggestion", gettext_noop("意见建议")),
    KindSpec("praise", gettext_noop("表扬")),
)


class KindCode(models.TextChoices):
    """The codes of the standard kinds (STANDARD_KINDS), for choosing one in a commitment's filter."""

    CONSULTATION = "consultation", _("咨询")
    COMPLAINT = "complaint", _("投诉")
    REPAIR = "repair", _("维修")
    EMERGENCY = "emergency", _("报警抢险")
    INSTALLATION = "installation", _("报装")
    INSPECTION_APPOINTMENT = "inspection_appointment", _("安检预约")
    METER_CARD = "meter_card", _("表具与IC卡")
    APPLIANCE = "appliance", _("燃气具")
    SUGGESTION = "suggestion", _("意见建议")
    PRAISE = "praise", _("表扬")


def taxonomy_seed(*, company) -> int:
    """Create the standard kinds and sub-kinds a company does not have yet; returns how many kinds were
    added. Existing rows (perhaps renamed by the company) are left alone."""
    added = 0
    try:
        # One transaction for the whole set: a concurrent first request of the same company blocks on
        # our inserts and then sees every kind, never a half-seeded taxonomy.
        with transaction.atomic():
            existing = set(TicketKind.objects.filter(company=company).values_list("code", flat=True))
            for order, spec in enumerate(STANDARD_KINDS):
                if spec.code in existing:
                    continue
                kind = TicketKind.objects.create(
                    company=company,
                    code=spec.code,
                    name=spec.name,
                    requires_name=spec.requires_name,
                    requires_phone=spec.requires_phone,
                    requires_address=spec.requires_address,
                    default_severity=spec.severity,
                    can_resolve_on_call=spec.can_resolve_on_call,
                    sort_order=order * 10,
                )
                TicketSubKind.objects.bulk_create(
                    [
                        TicketSubKind(kind=kind, code=c, name=n, sort_order=i * 10)
                        for i, (c, n) in enumerate(spec.sub_kinds)
                    ]
                )
                added += 1
    except IntegrityError:
        return 0  # somebody else seeded the same kinds at the same moment
    return added


def kinds_for(company) -> list[TicketKind]:
    """The active kinds of a company with their sub-kinds, seeding the standard set on first use."""
    qs = TicketKind.objects.filter(company=company, is_active=True).prefetch_related("sub_kinds")
    kinds = list(qs)
    if not kinds:  # seeding is idempotent per code, so a race with another first request is harmless
        taxonomy_seed(company=company)
        kinds = list(qs.all())
    return kinds
