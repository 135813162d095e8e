"""The clock events a commitment starts and stops on: named constants, one vocabulary
for the presets, the commitment editor and the apps that emit them.

The app that owns a subject maps its facts to these events in its `clocks.py` (e.g. an arrival
recorded by kefu.field emits `Event.TICKET_ARRIVED`, kefu/field/clocks.py) and sla matches them. The
applies-to codes of a commitment (kind, severity, channel) belong to the subject's app: its adapter
lists them (kefu.sla.subjects), and a test of that app checks the presets against its taxonomy.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Event"]


class Event(models.TextChoices):
    """Events that start or stop a clock. The emitting app sends the code; sla matches it."""

    TICKET_RECEIVED = "ticket.received", _("工单受理")
    TICKET_RESPONDED = "ticket.responded", _("首次响应")
    TICKET_REPLIED = "ticket.replied", _("答复客户")
    TICKET_ARRIVED = "ticket.arrived", _("到达现场")
    TICKET_HANDLED = "ticket.handled", _("处理完成")
    TICKET_RESOLVED = "ticket.resolved", _("修复/办结")
    TICKET_CLOSED = "ticket.closed", _("工单关闭")
    RETURN_VISIT_CREATED = "return_visit.created", _("回访任务生成")
    RETURN_VISIT_DONE = "return_visit.done", _("回访完成")
    COMPLAINT_RECEIVED = "complaint.received", _("投诉受理")
    COMPLAINT_PROMISED = "complaint.promised", _("投诉首次答复（承诺）")
    COMPLAINT_ANSWERED = "complaint.answered", _("投诉判定后答复")
    COMPLAINT_EXECUTED = "complaint.executed", _("投诉处理完毕并反馈")
    COMPLAINT_CLOSED = "complaint.closed", _("投诉结果送达、总结评价")
    CALL_OFFERED = "call.offered", _("来电振铃")
    CALL_ANSWERED = "call.answered", _("来电接听")
    CALL_ENDED = "call.ended", _("通话结束")
    CHAT_ARRIVED = "chat.arrived", _("访客进入")
    CHAT_GREETED = "chat.greeted", _("首次问候")
    COUNTER_STARTED = "counter.started", _("柜台业务开始")
    COUNTER_ENDED = "counter.ended", _("柜台业务完成")
    OUTAGE_PLANNED_START = "outage.planned_start", _("计划停气开始")
    OUTAGE_NOTIFIED = "outage.notified", _("停气通知送达")
    OUTAGE_STARTED = "outage.started", _("停气开始")
    OUTAGE_RESTORED = "outage.restored", _("恢复供气")
