"""Roles and their permission sets (S1, S2: least privilege).

One place for the rule "who may do what". Each role is a fixed set of permission codes; code asks
`role_allows(user, "customer.view_unmasked")`, never `user.role == ...`. docs/roles.md shows the
same table and a test keeps the two equal.

The administrator manages accounts but cannot read the audit log; the auditor reads and exports the
audit log but manages nothing (三权分立, separation of duties).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("坐席")
    CLERK = "clerk", _("营业员")
    DISPATCHER = "dispatcher", _("调度员")
    TECHNICIAN = "technician", _("维修工/安检员")
    QUALITY = "quality", _("质检员")
    TEAM_LEAD = "team_lead", _("班长")
    SUPERVISOR = "supervisor", _("主管")
    MANAGER = "manager", _("经理")
    AUDITOR = "auditor", _("审计员")
    ADMIN = "admin", _("系统管理员")


class Perm:
    """Permission codes. The text is what docs/roles.md shows."""

    CUSTOMER_VIEW = "customer.view"  # search customers, see masked data
    CUSTOMER_VIEW_UNMASKED = "customer.view_unmasked"  # see full name/phone/address (logged)
    CUSTOMER_EDIT = "customer.edit"  # create and change customers, phones, meters
    CUSTOMER_IMPORT = "customer.import"  # bulk import from billing exports
    CUSTOMER_EXPORT = "customer.export"  # export customer lists (logged)
    CARE_EDIT = "care.edit"  # maintain the special-care registry (C7)
    TICKET_CREATE = "ticket.create"
    TICKET_VIEW_ALL = "ticket.view_all"  # every work order of the company
    TICKET_VIEW_ASSIGNED = "ticket.view_assigned"  # only work orders assigned to oneself
    TICKET_WORK = "ticket.work"  # act on work orders one owns or is assigned
    TICKET_DISPATCH = "ticket.dispatch"  # assign departments, teams, people
    TICKET_REASSIGN = "ticket.reassign"  # move ownership without the owner's hand-over (P1)
    TICKET_BACKDATE = "ticket.backdate"  # record a received time in the past (audited)
    SLA_PAUSE = "sla.pause"  # pause and resume a commitment clock for an accepted reason
    QUALITY_REVIEW = "quality.review"  # listen, score, check service language
    QUALITY_MANAGE = "quality.manage"  # language rules, sampling plan, decide appeals (QA lead)
    REPORT_VIEW = "report.view"  # indicators and boards
    REPORT_CLOSE = "report.close"  # close a month's indicators, and issue a corrected version
    MASTER_DATA = "master_data.edit"  # categories, departments, teams, commitment sets, calendar
    CALENDAR_EDIT = "sla.calendar"  # holidays and make-up working days of the company's calendar
    ACCOUNT_MANAGE = "account.manage"  # create, disable, unlock users; roles; API tokens of others
    AUDIT_VIEW = "audit.view"  # read the audit log
    AUDIT_EXPORT = "audit.export"  # export the audit log (logged)
    TELEPHONY_FEED = "telephony.feed"  # send PBX / chat-system events; record hotline outages (K5)
    RECORDING_PLAY = "telephony.recording"  # play call recordings (every play logged)
    FOLLOWUP_APPROVE = (
        "followup.approve"  # approve complaint plans, knowledge-base changes, surveys (P3, P4, P16)
    )
    OUTAGE_PLAN = "outage.plan"  # plan, notify, start and restore supply interruptions; import the network
    OUTAGE_APPROVE = "outage.approve"  # approve a planned interruption; approve fault reports (P8)
    OUTAGE_NOTICE = "outage.notice"  # mark printed notices posted (time and photo), voice calls made
    ROSTER_MANAGE = "workforce.roster"  # team head: rosters, hand edits, leave ≤ 1 day, swaps (W1, W2, W3)
    LEAVE_APPROVE_LONG = "workforce.centre_head"  # centre head: leave of more than a day (W2)
    PENALTY_APPROVE = "workforce.penalty"  # approve penalties on a person's record (W5)
    FIELD_WORK = "field.work"  # the technician's phone: own jobs, departed / arrived / completed
    FIELD_VIEW_ASSIGNED = "field.view_assigned"  # full address and phone of own open jobs only (logged)
    FIELD_DISPATCH = "field.dispatch"  # dispatch board, crews, duty, appointments' slots, paging
    FIELD_REVIEW = "field.review"  # accept or reject arrivals that lack evidence (C8 exceptions)
    APPOINTMENT_BOOK = "appointment.book"  # book, move, cancel a customer's appointment (P10)
    COUNTER_SERVE = "counter.serve"  # counter: numbers, calling, serving, payments, own balance (P11, P12)
    COUNTER_MANAGE = "counter.manage"  # counter: halls, windows, price lists, refund approval, reports
    COUNTER_FINANCE = "counter.finance"  # finance: receive and sign the clerks' cash hand-over (P12)
    EXPORT_APPROVE = "export.approve"  # approve or refuse others' requests to export 绝密 data (S3)
    TELEPHONY_CONFIGURE = "telephony.configure"  # hotlines: numbers, queues, ring cycle, targets (C8, C13)
    INSPECTION_PLAN = "inspection.plan"  # inspection programme, batches, hazards ledger, import (C5, P14)
    INSPECTION_APPROVE = "inspection.approve"  # approve restricting supply to a household never reached (P14)


PERMISSION_LABELS: dict[str, str] = {
    Perm.CUSTOMER_VIEW: "查询客户，查看脱敏后的客户信息",
    Perm.CUSTOMER_VIEW_UNMASKED: "查看完整姓名、电话、地址（每次查看记入审计日志）",
    Perm.CUSTOMER_EDIT: "新建和修改客户、电话、燃气表",
    Perm.CUSTOMER_IMPORT: "从营业收费系统批量导入客户",
    Perm.CUSTOMER_EXPORT: "导出客户清单（记入审计日志）",
    Perm.CARE_EDIT: "维护特殊关怀（老、弱、病、残）登记",
    Perm.TICKET_CREATE: "受理来电、新建工单",
    Perm.TICKET_VIEW_ALL: "查看本公司全部工单",
    Perm.TICKET_VIEW_ASSIGNED: "只查看派给本人的工单",
    Perm.TICKET_WORK: "处理本人负责或被派的工单",
    Perm.TICKET_DISPATCH: "派发、改派、办结、取消任何工单（无此权限者只能处理本人负责或被派的工单）",
    Perm.TICKET_REASSIGN: "不经原负责人交接直接改派工单",
    Perm.TICKET_BACKDATE: "补录过去的受理时间（记入审计日志）",
    Perm.SLA_PAUSE: "因认可的原因暂停和恢复承诺时限计时",
    Perm.QUALITY_REVIEW: "质检：听录音、评分、检查服务用语",
    Perm.QUALITY_MANAGE: "质检主管：维护服务用语规则和抽检计划，裁定坐席申诉",
    Perm.REPORT_VIEW: "查看指标和看板",
    Perm.REPORT_CLOSE: "关闭月度指标（冻结当月数值），发布更正版本",
    Perm.MASTER_DATA: "维护基础数据：客户类别、部门、班组、承诺标准、工作日历",
    Perm.CALENDAR_EDIT: "录入、修改、删除工作日历的节假日和调休上班日（含粘贴国务院通知）",
    Perm.ACCOUNT_MANAGE: "管理账号：新建、停用、解锁用户，分配角色，吊销他人的 API 令牌",
    Perm.AUDIT_VIEW: "查询审计日志",
    Perm.AUDIT_EXPORT: "导出审计日志（导出本身记入审计日志）",
    Perm.TELEPHONY_FEED: "接入交换机、在线客服系统的事件，登记热线中断（K5）",
    Perm.RECORDING_PLAY: "播放通话录音（每次播放记入审计日志）",
    Perm.FOLLOWUP_APPROVE: "审批投诉处理方案、知识库修改，发起满意度调查",
    Perm.OUTAGE_PLAN: "计划、通知、开始和恢复停气；导入管网",
    Perm.OUTAGE_APPROVE: "批准计划停气；批准故障分析报告",
    Perm.OUTAGE_NOTICE: "登记停气通知已张贴（时间和照片）、外呼已接通",
    Perm.ROSTER_MANAGE: "班长：编排和发布本班组排班，审批一天以内的请假和换班",
    Perm.LEAVE_APPROVE_LONG: "客服中心主任：审批一天以上的请假",
    Perm.PENALTY_APPROVE: "审批考核扣罚",
    Perm.FIELD_WORK: "外勤手机端：本人的派工单，出发、到达、完成",
    Perm.FIELD_VIEW_ASSIGNED: "仅在派给本人的派工单未完成时查看完整地址和电话（每次查看记入审计日志）",
    Perm.FIELD_DISPATCH: "调度台：派工、作业组、值班表、预约时段、抢险呼叫",
    Perm.FIELD_REVIEW: "审核缺少证据的到达记录（认可或驳回）",
    Perm.APPOINTMENT_BOOK: "为客户预约、改约、取消上门时间",
    Perm.COUNTER_SERVE: "营业厅：取号、叫号、办理业务、收费开收据、本人日结",
    Perm.COUNTER_MANAGE: "营业厅管理：营业厅、窗口、收费标准，审批退款，营业厅报表",
    Perm.COUNTER_FINANCE: "财务：接收营业员交来的现金和账目并签字",
    Perm.EXPORT_APPROVE: "审批他人导出绝密数据的申请（不能审批本人的申请）",
    Perm.TELEPHONY_CONFIGURE: "配置服务热线：号码、队列、抢险热线、振铃周期和接听目标（C8、C13）",
    Perm.INSPECTION_PLAN: "入户安检：年度计划、批次、隐患台账、不遇处置、导入往年记录",
    Perm.INSPECTION_APPROVE: "批准对多次不遇用户限制供气",
}


def all_permissions() -> list[str]:
    """Every permission code, in the order of the class Perm."""
    return [v for k, v in vars(Perm).items() if k.isupper() and isinstance(v, str)]


_FRONT_LINE = {
    Perm.CUSTOMER_VIEW,
    Perm.TICKET_CREATE,
    Perm.TICKET_WORK,
    Perm.TICKET_VIEW_ALL,
    Perm.APPOINTMENT_BOOK,
}
_LEADS = _FRONT_LINE | {
    Perm.CUSTOMER_VIEW_UNMASKED,
    Perm.TICKET_DISPATCH,
    Perm.TICKET_REASSIGN,
    Perm.SLA_PAUSE,
    Perm.REPORT_VIEW,
    Perm.CARE_EDIT,
    Perm.OUTAGE_PLAN,
    Perm.OUTAGE_NOTICE,
    Perm.FIELD_DISPATCH,
    Perm.FIELD_REVIEW,
    Perm.INSPECTION_PLAN,
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.AGENT: frozenset(_FRONT_LINE | {Perm.CARE_EDIT}),
    Role.CLERK: frozenset(
        _FRONT_LINE | {Perm.CUSTOMER_EDIT, Perm.CARE_EDIT, Perm.CUSTOMER_VIEW_UNMASKED, Perm.COUNTER_SERVE}
    ),
    Role.DISPATCHER: frozenset(
        _FRONT_LINE
        | {Perm.TICKET_DISPATCH, Perm.SLA_PAUSE, Perm.CUSTOMER_VIEW_UNMASKED}
        | {Perm.OUTAGE_PLAN, Perm.OUTAGE_NOTICE, Perm.FIELD_DISPATCH}
    ),
    Role.TECHNICIAN: frozenset(
        {
            Perm.CUSTOMER_VIEW,
            Perm.TICKET_VIEW_ASSIGNED,
            Perm.TICKET_WORK,
            Perm.OUTAGE_NOTICE,
            Perm.FIELD_WORK,
            Perm.FIELD_VIEW_ASSIGNED,
        }
    ),
    Role.QUALITY: frozenset(
        {Perm.CUSTOMER_VIEW, Perm.TICKET_VIEW_ALL, Perm.QUALITY_REVIEW, Perm.REPORT_VIEW, Perm.RECORDING_PLAY}
    ),
    Role.TEAM_LEAD: frozenset(_LEADS | {Perm.RECORDING_PLAY, Perm.ROSTER_MANAGE, Perm.COUNTER_SERVE}),
    Role.SUPERVISOR: frozenset(
        _LEADS
        | {
            Perm.TICKET_BACKDATE,
            Perm.CUSTOMER_EDIT,
            Perm.CUSTOMER_IMPORT,
            Perm.CUSTOMER_EXPORT,
            Perm.QUALITY_REVIEW,
            Perm.QUALITY_MANAGE,
        }
        | {Perm.CALENDAR_EDIT, Perm.FOLLOWUP_APPROVE, Perm.ROSTER_MANAGE}
        | {Perm.TELEPHONY_FEED, Perm.RECORDING_PLAY}
        | {Perm.COUNTER_SERVE, Perm.COUNTER_MANAGE}
        | {Perm.EXPORT_APPROVE}
        | {Perm.TELEPHONY_FEED, Perm.RECORDING_PLAY, Perm.TELEPHONY_CONFIGURE}
    ),
    Role.MANAGER: frozenset(
        _LEADS
        | {
            Perm.TICKET_BACKDATE,
            Perm.CUSTOMER_EDIT,
            Perm.CUSTOMER_IMPORT,
            Perm.CUSTOMER_EXPORT,
            Perm.MASTER_DATA,
            Perm.REPORT_CLOSE,
        }
        | {Perm.CALENDAR_EDIT, Perm.FOLLOWUP_APPROVE, Perm.OUTAGE_APPROVE}
        | {Perm.TELEPHONY_FEED, Perm.RECORDING_PLAY, Perm.TELEPHONY_CONFIGURE}
        | {Perm.ROSTER_MANAGE, Perm.LEAVE_APPROVE_LONG, Perm.PENALTY_APPROVE}
        | {Perm.COUNTER_MANAGE, Perm.COUNTER_FINANCE}
        | {Perm.EXPORT_APPROVE}
        | {Perm.INSPECTION_APPROVE}
    ),
    Role.AUDITOR: frozenset({Perm.AUDIT_VIEW, Perm.AUDIT_EXPORT, Perm.REPORT_VIEW}),
    Role.ADMIN: frozenset(
        {Perm.ACCOUNT_MANAGE, Perm.MASTER_DATA, Perm.CUSTOMER_IMPORT, Perm.CALENDAR_EDIT, Perm.TELEPHONY_FEED}
        | {Perm.TELEPHONY_CONFIGURE}
    ),
}


def role_allows(user, perm: str) -> bool:
    """True when the user is active and their role grants `perm` (S2 least privilege)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return perm in ROLE_PERMISSIONS.get(user.role, frozenset())
