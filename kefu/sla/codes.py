"""Stable codes a commitment's applies-to filters and events refer to (C1–C20; P2 classification).

The tickets app owns the work-order taxonomy; these are the codes of its standard kinds
(`kefu.tickets.taxonomy.STANDARD_KINDS`). Channels and severities are the tickets app's own choices,
re-exported here so presets and forms name them in one place. Empty filter = any.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.tickets.models import Channel, Severity

__all__ = ["Channel", "Event", "Severity", "TicketKindCode"]


class TicketKindCode(models.TextChoices):
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


class Event(models.TextChoices):
    """Events that start or stop a clock. The emitting app sends the code; sla matches it."""

    TICKET_RECEIVED = "ticket.received", _("工单受理")
    TICKET_RESPONDED = "ticket.responded", _("首次响应")
    TICKET_REPLIED = "ticket.replied", _("答复客户")
    TICKET_ARRIVED = "ticket.arrived", _("到达现场")
    TICKET_HANDLED = "ticket.handled", _("处理完成")
    TICKET_RESOLVED = "ticket.resolved", _("修复/办结")
    TICKET_CLOSED = "ticket.closed", _("工单关闭")
    RETURN_VISIT_DONE = "return_visit.done", _("回访完成")
    CALL_OFFERED = "call.offered", _("来电振铃")
    CALL_ANSWERED = "call.answered", _("来电接听")
    CALL_ENDED = "call.ended", _("通话结束")
    CHAT_ARRIVED = "chat.arrived", _("访客进入")
    CHAT_GREETED = "chat.greeted", _("首次问候")
    OUTAGE_PLANNED_START = "outage.planned_start", _("计划停气开始")
    OUTAGE_NOTIFIED = "outage.notified", _("停气通知送达")
    OUTAGE_STARTED = "outage.started", _("停气开始")
    OUTAGE_RESTORED = "outage.restored", _("恢复供气")
