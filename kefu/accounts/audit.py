"""Writing the audit log (S2, S3). One function, used by every service that must leave a trace."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from kefu.accounts.context import current_actor
from kefu.accounts.models import AuditEvent


class Action:
    """Audit action names. Grouped by area; the auditor filters by prefix."""

    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    LOCKED_OUT = "auth.locked_out"
    UNLOCKED = "auth.unlocked"
    PASSWORD_CHANGED = "auth.password_changed"
    PASSWORD_RESET = "account.password_reset"
    MFA_RESET = "account.mfa_reset"
    MFA_ENROLLED = "auth.mfa_enrolled"
    MFA_FAILED = "auth.mfa_failed"
    TOKEN_CREATED = "auth.token_created"
    TOKEN_REVOKED = "auth.token_revoked"
    TOKEN_REJECTED = "auth.token_rejected"
    USER_CREATED = "account.user_created"
    USER_CHANGED = "account.user_changed"
    ROLE_CHANGED = "account.role_changed"
    USER_DISABLED = "account.user_disabled"
    USER_ENABLED = "account.user_enabled"
    CREATED = "data.created"
    UPDATED = "data.updated"
    PERSONAL_DATA_VIEWED = "privacy.unmasked_view"
    ATTACHMENT_VIEWED = "privacy.attachment_view"  # a work-order attachment opened or downloaded
    EXPORTED = "data.exported"
    IMPORTED = "data.imported"
    PERMISSION_DENIED = "auth.permission_denied"
    NOT_FOUND = "auth.not_found"  # a view answered 404: another company's object, or none (S2, S3)
    AUDIT_SEARCHED = "audit.searched"
    AUDIT_EXPORTED = "audit.exported"
    AUDIT_ARCHIVED = "audit.archived"
    # Work orders: written by the timeline writers of kefu.tickets.events, one row per timeline entry,
    # in the same transaction (S3: "who closed this leak" answered from the audit log as well).
    TICKET_CREATED = "ticket.created"
    TICKET_ASSIGNED = "ticket.assigned"
    TICKET_HANDED_OVER = "ticket.handed_over"
    TICKET_HAND_OVER_ACCEPTED = "ticket.hand_over_accepted"
    TICKET_HAND_OVER_DECLINED = "ticket.hand_over_declined"
    TICKET_HAND_OVER_WITHDRAWN = "ticket.hand_over_withdrawn"
    TICKET_REASSIGNED = "ticket.reassigned"
    TICKET_STATE_CHANGED = "ticket.state_changed"
    TICKET_STARTED = "ticket.started"
    TICKET_PUT_ON_HOLD = "ticket.on_hold"
    TICKET_RESOLVED = "ticket.resolved"
    TICKET_CLOSED = "ticket.closed"
    TICKET_CANCELLED = "ticket.cancelled"
    TICKET_REOPENED = "ticket.reopened"
    TICKET_REPLIED = "ticket.replied"
    TICKET_COMMENTED = "ticket.commented"
    TICKET_CONTACT_ATTEMPT = "ticket.contact_attempt"
    TICKET_CALLED_AGAIN = "ticket.called_again"
    TICKET_ATTACHMENT_ADDED = "ticket.attachment_added"
    TICKET_LINKED = "ticket.linked"
    TICKET_RECLASSIFIED = "ticket.reclassified"
    TICKET_ESCALATED = "ticket.escalated"
    # Telephony (kefu.telephony): a recording played (S2), a PBX event refused.
    RECORDING_PLAYED = "telephony.recording_played"
    CALL_EVENT_REJECTED = "telephony.event_rejected"


#: What each action means, in the words an auditor reads (S3): the audit page and the CSV export
#: show these next to the person's name. Actions of other apps are listed by their code here too,
#: so the kernel needs no import of them; an action missing here is shown by its code.
ACTION_LABELS: dict[str, str] = {
    Action.LOGIN: _("登录"),
    Action.LOGIN_FAILED: _("登录失败"),
    Action.LOGOUT: _("退出登录"),
    Action.LOCKED_OUT: _("账号被锁定"),
    Action.UNLOCKED: _("解锁账号"),
    Action.PASSWORD_CHANGED: _("修改密码"),
    Action.PASSWORD_RESET: _("重置他人密码"),
    Action.MFA_RESET: _("重置动态口令"),
    Action.MFA_ENROLLED: _("绑定动态口令"),
    Action.MFA_FAILED: _("动态口令错误"),
    Action.TOKEN_CREATED: _("创建 API 令牌"),
    Action.TOKEN_REVOKED: _("吊销 API 令牌"),
    Action.TOKEN_REJECTED: _("API 令牌被拒绝"),
    Action.USER_CREATED: _("新建账号"),
    Action.USER_CHANGED: _("修改账号"),
    Action.ROLE_CHANGED: _("更改角色"),
    Action.USER_DISABLED: _("停用账号"),
    Action.USER_ENABLED: _("启用账号"),
    Action.CREATED: _("新建记录"),
    Action.UPDATED: _("修改记录"),
    Action.PERSONAL_DATA_VIEWED: _("查看完整个人信息"),
    Action.ATTACHMENT_VIEWED: _("打开工单附件"),
    Action.EXPORTED: _("导出数据"),
    Action.IMPORTED: _("导入数据"),
    Action.PERMISSION_DENIED: _("越权操作被拒绝"),
    Action.NOT_FOUND: _("访问不存在或无权查看的对象"),
    Action.AUDIT_SEARCHED: _("查询审计日志"),
    Action.AUDIT_EXPORTED: _("导出审计日志"),
    Action.AUDIT_ARCHIVED: _("归档审计日志"),
    Action.TICKET_CREATED: _("新建工单"),
    Action.TICKET_ASSIGNED: _("派发工单"),
    Action.TICKET_HANDED_OVER: _("发起移交"),
    Action.TICKET_HAND_OVER_ACCEPTED: _("接收移交"),
    Action.TICKET_HAND_OVER_DECLINED: _("拒绝移交"),
    Action.TICKET_HAND_OVER_WITHDRAWN: _("撤回移交"),
    Action.TICKET_REASSIGNED: _("改派首问责任人"),
    Action.TICKET_STATE_CHANGED: _("更改工单状态"),
    Action.TICKET_STARTED: _("开始处理工单"),
    Action.TICKET_PUT_ON_HOLD: _("挂起工单"),
    Action.TICKET_RESOLVED: _("办结工单（已解决）"),
    Action.TICKET_CLOSED: _("关闭工单"),
    Action.TICKET_CANCELLED: _("取消工单"),
    Action.TICKET_REOPENED: _("重新打开工单"),
    Action.TICKET_REPLIED: _("答复客户"),
    Action.TICKET_COMMENTED: _("添加内部备注"),
    Action.TICKET_CONTACT_ATTEMPT: _("联系客户"),
    Action.TICKET_CALLED_AGAIN: _("记录客户再次来电"),
    Action.TICKET_ATTACHMENT_ADDED: _("上传工单附件"),
    Action.TICKET_LINKED: _("关联工单"),
    Action.TICKET_RECLASSIFIED: _("更改工单类型"),
    Action.TICKET_ESCALATED: _("请示上报"),
    Action.RECORDING_PLAYED: _("播放通话录音"),
    Action.CALL_EVENT_REJECTED: _("拒收交换机事件"),
    "sla.set_created": _("新建承诺标准"),
    "sla.set_cloned": _("复制承诺标准"),
    "sla.set_published": _("发布承诺标准"),
    "sla.commitment_updated": _("修改服务承诺"),
    "sla.calendar_override_created": _("添加节假日或调休日"),
    "sla.calendar_override_updated": _("修改节假日或调休日"),
    "sla.calendar_override_deleted": _("删除节假日或调休日"),
    "sla.calendar_year_entered": _("录入全年工作日历"),
    "sla.business_hours_set": _("设置营业时间"),
    "sla.clock_paused": _("暂停承诺计时"),
    "sla.clock_resumed": _("恢复承诺计时"),
    "kpi.month_closed": _("关闭月度指标"),
    "kpi.month_corrected": _("发布月度指标更正版本"),
    "export.requested": _("提交导出申请"),
    "export.approved": _("批准导出申请"),
    "export.refused": _("驳回导出申请"),
    "export.withdrawn": _("撤回导出申请"),
    "export.link_expired": _("下载已过期的导出文件"),
}

#: The words of the detail keys an auditor reads; other keys are shown by their code.
DETAIL_LABELS: dict[str, str] = {
    "reason": _("原因"),
    "note": _("备注"),
    "text": _("内容"),
    "rows": _("行数"),
    "fields": _("字段"),
    "changes": _("变更"),
    "filters": _("条件"),
    "unmasked": _("完整信息"),
    "from": _("原状态"),
    "to": _("新状态"),
    "to_user": _("给"),
    "assigned": _("承办"),
    "summary": _("摘要"),
    "version": _("版本"),
    "year": _("年度"),
    "wanted": _("所需权限"),
    "name": _("文件名"),
    "number": _("编号"),
    "level": _("密级"),
    "kind": _("类型"),
    "download": _("第几次下载"),
}


def action_label(action: str) -> str:
    """The readable name of an action (its code when it has none yet)."""
    label = ACTION_LABELS.get(action)
    return str(label) if label else action


def action_choices() -> list[tuple[str, str]]:
    """(code, readable name) of every action, for the auditor's action menu, sorted by code."""
    return sorted(((code, str(label)) for code, label in ACTION_LABELS.items()), key=lambda c: c[0])


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return str(_("是")) if v else str(_("否"))
    if isinstance(v, list) and len(v) == 2 and not any(isinstance(x, (list, dict)) for x in v):
        before, after = (_value(x) if x not in (None, "") else "—" for x in v)
        return f"{before} → {after}"
    if isinstance(v, list):
        return "、".join(_value(x) for x in v)
    if isinstance(v, dict):
        return "；".join(
            f"{DETAIL_LABELS.get(k, k)}：{_value(x)}" for k, x in v.items() if x not in (None, "", [], {})
        )
    return str(v)


def describe_detail(detail: dict[str, Any] | None) -> str:
    """The detail of a row as one readable line ("原因：客户另约明天下午；行数：12"), never a Python dict."""
    return _value({k: v for k, v in (detail or {}).items() if k not in ("ticket_id", "event")})


def actor_name(event: AuditEvent) -> str:
    """The person's name (the login in brackets), or the channel for rows without a person."""
    actor = event.actor if event.actor_id else None
    if actor is None:
        return event.actor_label
    name = getattr(actor, "full_name", "") or ""
    return f"{name}（{actor.username}）" if name and name != actor.username else actor.username


#: Set when a refusal row is written during the current request, so the refusal middleware does not
#: write a second one for the same refusal (middleware.RefusalAuditMiddleware).
refusal_recorded: ContextVar[bool] = ContextVar("kefu_refusal_recorded", default=False)


def audit_record(
    *,
    action: str,
    obj: models.Model | None = None,
    actor: Any = None,
    company: Any = None,
    result: str = AuditEvent.Result.OK,
    detail: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    actor_label: str = "",
) -> AuditEvent:
    """Append one audit row. The actor and source address default to the current request's.

    `obj` fills the object columns; the company defaults to the object's or the actor's company.
    """
    ctx = current_actor()
    actor = actor if actor is not None else ctx.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        company = company if company is not None else getattr(obj, "company", None)
    if company is None and actor is not None:
        company = getattr(actor, "company", None)
    if result == AuditEvent.Result.DENIED and action in (Action.PERMISSION_DENIED, Action.NOT_FOUND):
        refusal_recorded.set(True)
    return AuditEvent.objects.create(
        company=company,
        actor=actor,
        actor_label=actor_label or (actor.username if actor is not None else ctx.channel),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        result=result,
        source_ip=ctx.source_ip,
        detail=detail or {},
    )


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed — what an audit row of an update keeps."""
    return {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }


_purge_allowed = False


def sqlite_audit_purge_flag() -> int:
    """The SQL function `kefu_audit_purge()` the SQLite delete trigger reads (1 only during test teardown)."""
    return 1 if _purge_allowed else 0


@contextmanager
def audit_purge_for_tests() -> Iterator[None]:
    """Let the test runner empty the append-only tables between transactional tests, and nothing else.

    One switch for every append-only table: the audit log (accounts migrations 0002, 0003) and the
    work-order timeline (tickets migration 0004) read the same flag. Used only by conftest.py around
    Django's flush. UPDATE stays refused even inside.
    """
    global _purge_allowed
    _purge_allowed = True
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET kefu.audit_purge = 'on'")
        yield
    finally:
        _purge_allowed = False
        if connection.vendor == "postgresql" and connection.connection is not None:
            with connection.cursor() as cur:
                cur.execute("RESET kefu.audit_purge")
