"""Field-job states (P7) and the review states of an arrival that lacks evidence (C8).

    pending_approval ──► new ──► dispatched ──► acknowledged ──► en_route ──► on_site ──► handled ──► resolved
                                   any open state ──► out_of_scope (reason, customer told; C4) / cancelled

A job's state follows its recorded events (kefu.field.services): 出发 → en_route, 到达 → on_site,
处理完成 → handled, 修复 → resolved. Nobody sets `on_site` by hand: the arrival is the fact.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("待审批")  # the company asks for an approval before dispatch
    NEW = "new", _("待派工")  # nobody sent yet
    DISPATCHED = "dispatched", _("已派工")  # a crew / technician named, not yet acknowledged
    ACKNOWLEDGED = "acknowledged", _("已接单")  # the technician read the sheet
    EN_ROUTE = "en_route", _("已出发")
    ON_SITE = "on_site", _("已到达")  # an arrival was recorded
    HANDLED = "handled", _("处理完成")
    RESOLVED = "resolved", _("已修复")  # final
    OUT_OF_SCOPE = "out_of_scope", _("不在维修范围")  # final: reason, customer told, transfer advice (C4)
    CANCELLED = "cancelled", _("已取消")  # final


S = JobState
OPEN_STATES = frozenset(
    {S.PENDING_APPROVAL, S.NEW, S.DISPATCHED, S.ACKNOWLEDGED, S.EN_ROUTE, S.ON_SITE, S.HANDLED}
)
FINAL_STATES = frozenset({S.RESOLVED, S.OUT_OF_SCOPE, S.CANCELLED})
#: states in which the job's crew is "busy" (ranking, board)
BUSY_STATES = frozenset({S.ACKNOWLEDGED, S.EN_ROUTE, S.ON_SITE, S.HANDLED, S.DISPATCHED})


class EventKind(models.TextChoices):
    DEPARTED = "departed", _("出发")
    ARRIVED = "arrived", _("到达")
    HANDLED = "handled", _("处理完成")
    RESOLVED = "resolved", _("修复")


#: event kind → the job states it may be recorded from, and the state it leads to
EVENT_MOVES: dict[str, tuple[frozenset[str], str]] = {
    EventKind.DEPARTED: (frozenset({S.DISPATCHED, S.ACKNOWLEDGED}), S.EN_ROUTE),
    EventKind.ARRIVED: (frozenset({S.DISPATCHED, S.ACKNOWLEDGED, S.EN_ROUTE}), S.ON_SITE),
    EventKind.HANDLED: (frozenset({S.ON_SITE}), S.HANDLED),
    EventKind.RESOLVED: (frozenset({S.ON_SITE, S.HANDLED}), S.RESOLVED),
}


class ArrivalSource(models.TextChoices):
    GPS = "gps", _("手机定位")
    METER_CODE = "meter_code", _("表具扫码")
    CUSTOMER_CODE = "customer_code", _("客户确认码")
    DISPATCHER = "dispatcher", _("调度员代录")


class Review(models.TextChoices):
    NONE = "", _("无需审核")  # the evidence suffices: counts
    PENDING = "pending", _("待审核")  # an exception: does not count until accepted
    ACCEPTED = "accepted", _("已认可")  # counts (at its recorded time)
    REJECTED = "rejected", _("已驳回")  # does not count


class Duty(models.TextChoices):
    ON_DUTY = "on_duty", _("在岗")
    ON_CALL = "on_call", _("备班")
    OFF = "off", _("休息")


class Skill(models.TextChoices):
    EMERGENCY = "emergency", _("抢险")
    REPAIR = "repair", _("维修")
    INSTALL = "install", _("安装")
    INSPECTION = "inspection", _("安检")
    APPLIANCE = "appliance", _("燃气具")


#: the skill a work-order kind needs
KIND_SKILL = {
    "emergency": Skill.EMERGENCY,
    "repair": Skill.REPAIR,
    "installation": Skill.INSTALL,
    "inspection_appointment": Skill.INSPECTION,
    "appliance": Skill.APPLIANCE,
}
EMERGENCY_KINDS = frozenset({"emergency"})


class AppointmentState(models.TextChoices):
    BOOKED = "booked", _("已预约")
    LATE = "late", _("将迟到")
    CANCELLED = "cancelled", _("已取消")
    DONE = "done", _("已上门")
