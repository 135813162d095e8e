"""States of household safety inspections (入户安检, C5, C12, P14): the due ledger's status, the
visit's outcome, the no-access ladder's steps, hazards' severity and lifecycle, and the explicit
transition table of a hazard (the only way to move one is kefu.inspections.services)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LedgerKind(models.TextChoices):
    """What a due-ledger row owes: the household inspection (C5) or the appliance inspection (C12)."""

    HOUSEHOLD = "household", _("入户安检")  # C5: by category, from the commitment set
    APPLIANCE = "appliance", _("燃气具安检")  # C12: once a year for registered appliances


class EntryStatus(models.TextChoices):
    """Where one household stands for one period ("this household, this year")."""

    DUE = "due", _("待检")  # owed, not yet visited (or visited with nobody home: see no_access_visits)
    INSPECTED = "inspected", _("已检")  # inspected, nothing found
    HAZARD = "hazard", _("有隐患")  # inspected, at least one hazard found
    NOBODY_HOME = "nobody_home", _("到访不遇")  # visited, nobody home (K4 counts it as served)
    REFUSED = "refused", _("拒绝入户")  # the customer refused entry (reason recorded)
    VACANT = "vacant", _("空置")  # the home is empty
    NOT_IN_USE = "not_in_use", _("停用")  # gas not in use at the premise
    CANCELLED = "cancelled", _("不再计划")  # the customer closed, was suspended or changed category


#: statuses of a household that was served in the period (K4 numerator; nobody-home included)
SERVED = (
    EntryStatus.INSPECTED,
    EntryStatus.HAZARD,
    EntryStatus.NOBODY_HOME,
    EntryStatus.REFUSED,
    EntryStatus.VACANT,
    EntryStatus.NOT_IN_USE,
)
#: statuses in which the household was actually inspected inside (C12 appliance done)
INSPECTED = (EntryStatus.INSPECTED, EntryStatus.HAZARD)


class Outcome(models.TextChoices):
    """The visit's outcome on the inspector's phone (P14)."""

    DONE = "done", _("完成")
    NOBODY_HOME = "nobody_home", _("到访不遇")
    REFUSED = "refused", _("拒绝入户")
    VACANT = "vacant", _("空置")
    NOT_IN_USE = "not_in_use", _("停用")


OUTCOME_STATUS = {
    Outcome.NOBODY_HOME: EntryStatus.NOBODY_HOME,
    Outcome.REFUSED: EntryStatus.REFUSED,
    Outcome.VACANT: EntryStatus.VACANT,
    Outcome.NOT_IN_USE: EntryStatus.NOT_IN_USE,
}


class Check(models.TextChoices):
    PASS = "pass", _("合格")
    FAIL = "fail", _("不合格")
    NA = "na", _("不适用")


class TimeBand(models.TextChoices):
    """When a visit was made (the ladder's second visit must be in another band)."""

    DAYTIME = "day", _("工作日白天")
    EVENING = "evening", _("晚间")
    WEEKEND = "weekend", _("周末")


class StepKind(models.TextChoices):
    """Kinds of step of the no-access ladder (configurable per company)."""

    VISIT = "visit", _("上门")
    NOTICE = "notice", _("门贴和短信预约")
    MEASURE = "measure", _("门缝检漏")
    LETTER = "letter", _("致物业/街道函")
    PROPOSAL = "proposal", _("限气申请")
    APPROVAL = "approval", _("限气审批")


class Severity(models.TextChoices):
    GENERAL = "general", _("一般")
    SERIOUS = "serious", _("较大")
    MAJOR = "major", _("重大")


class HazardState(models.TextChoices):
    """A hazard from finding to rectification (P14)."""

    OPEN = "open", _("待整改")
    RECHECK = "recheck", _("待复查")
    RECTIFIED = "rectified", _("已整改")
    CANCELLED = "cancelled", _("已撤销")


HAZARD_MOVES: dict[str, tuple[str, ...]] = {
    HazardState.OPEN: (HazardState.RECHECK, HazardState.CANCELLED),
    HazardState.RECHECK: (HazardState.RECTIFIED, HazardState.OPEN),
    HazardState.RECTIFIED: (),
    HazardState.CANCELLED: (),
}
OPEN_HAZARD = (HazardState.OPEN, HazardState.RECHECK)


class RectifiedBy(models.TextChoices):
    CUSTOMER = "customer", _("客户自行整改")
    UTILITY = "utility", _("公司整改（有偿派工）")
    THIRD_PARTY = "third_party", _("第三方整改")
