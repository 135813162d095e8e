"""WeChat official-account adapter (微信公众号; S2, C8): the same portal services behind
WeChat's two interfaces.

- **Messages** (消息接口): WeChat's server calls the company's server URL, /portal/wechat/<code>/.
  GET with signature, timestamp, nonce, echostr is the URL check: signature = SHA-1 of the sorted
  (token, timestamp, nonce) joined; answer echostr. POST carries one message or event as XML
  (<xml><ToUserName/><FromUserName/><CreateTime/><MsgType/>…</xml>: text with Content and MsgId;
  event with Event = subscribe / unsubscribe / CLICK (EventKey) / TEMPLATESENDJOBFINISH (MsgID,
  Status)); the answer is a passive reply in the same XML shape (MsgType text), or "success".
- **Template messages** (模板消息): POST https://api.weixin.qq.com/cgi-bin/message/template/send
  ?access_token=… with JSON {touser, template_id, url, data: {first, keyword1…, remark: {value}}},
  answered {"errcode": 0, "errmsg": "ok", "msgid": …}; the access token comes from GET
  /cgi-bin/token?grant_type=client_credential&appid=…&secret=… ({"access_token", "expires_in"}).
  Delivery is reported back as the TEMPLATESENDJOBFINISH event.

Text commands (also the menu's CLICK keys): 绑定 <户号> <手机号> · 验证 <验证码> · 漏气 (safety
instructions and the emergency number FIRST; 确认漏气 then creates the emergency work order) · 报修
<内容> · 进度 · 停气 · 承诺. Settings: KEFU_WECHAT (docs/portal.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import DomainError
from kefu.portal import rules
from kefu.portal.models import PortalAccount, PortalChallenge, WechatFollower, WechatTemplateMessage

API = "https://api.weixin.qq.com/cgi-bin"
MAX_BODY = 64 * 1024


def config() -> dict:
    return getattr(settings, "KEFU_WECHAT", {}) or {}


def token_for(company) -> str:
    """The server-URL token configured on the official account's page (one per deployment)."""
    return str(config().get("TOKEN", ""))


def signature_ok(*, token: str, signature: str, timestamp: str, nonce: str) -> bool:
    """WeChat's check: SHA-1 of the lexically sorted token, timestamp and nonce, joined."""
    if not token or not signature:
        return False
    digest = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return hmac.compare_digest(digest, signature)


@dataclass(frozen=True)
class Message:
    to_user: str  # the official account
    from_user: str  # the follower's openid
    create_time: int
    msg_type: str
    content: str = ""
    msg_id: str = ""
    event: str = ""
    event_key: str = ""
    status: str = ""


def parse_message(body: bytes) -> Message:
    """One pushed message or event. A DOCTYPE (entity tricks) or an oversized body is refused."""
    if len(body) > MAX_BODY or b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise DomainError(_("消息格式有误。"), code="invalid")
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise DomainError(_("消息格式有误。"), code="invalid") from None

    def get(tag: str) -> str:
        node = root.find(tag)
        return (node.text or "").strip() if node is not None and node.text else ""

    try:
        created = int(get("CreateTime") or 0)
    except ValueError:
        created = 0
    return Message(
        to_user=get("ToUserName")[:64],
        from_user=get("FromUserName")[:64],
        create_time=created,
        msg_type=get("MsgType").lower(),
        content=get("Content")[:600],
        msg_id=get("MsgId") or get("MsgID"),
        event=get("Event"),
        event_key=get("EventKey")[:64],
        status=get("Status")[:60],
    )


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def reply_text(msg: Message, text: str, *, now: int | None = None) -> str:
    """The passive reply (被动回复) to `msg`: to and from swapped, MsgType text."""
    return (
        "<xml>"
        f"<ToUserName>{_cdata(msg.from_user)}</ToUserName>"
        f"<FromUserName>{_cdata(msg.to_user)}</FromUserName>"
        f"<CreateTime>{int(now if now is not None else time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(text)}</Content>"
        "</xml>"
    )


# ---- followers and the commands ------------------------------------------------------------------
def follower_bind(*, company_id: int, openid: str, account: PortalAccount) -> WechatFollower:
    """The follower's openid is bound to the portal account its SMS code verified."""
    f, _created = WechatFollower.objects.get_or_create(company_id=company_id, openid=openid[:64])
    f.account, f.bound_at, f.subscribed = account, timezone.now(), True
    f.save(update_fields=["account", "bound_at", "subscribed"])
    return f


def _follower(company, openid: str) -> WechatFollower:
    f, _created = WechatFollower.objects.get_or_create(company=company, openid=openid[:64])
    return f


HELP = gettext_lazy(
    "回复以下文字办理：\n"
    "绑定 户号 手机号 —— 绑定您的燃气户号\n"
    "漏气 —— 漏气时的安全须知和抢险电话\n"
    "报修 故障描述 —— 报修户内燃气设施\n"
    "进度 —— 查看工单进度\n"
    "停气 —— 查看您地址的停气通知\n"
    "承诺 —— 本年度服务承诺"
)


#: The commands in English as well (the English replies name these).
ALIASES = {
    "bind": "绑定",
    "verify": "验证",
    "leak": "漏气",
    "confirm": "确认漏气",
    "repair": "报修",
    "progress": "进度",
    "outages": "停气",
    "commitments": "承诺",
}


def _leak_text(company) -> str:
    steps = "\n".join(f"{i}. {s}" for i, s in enumerate(rules.LEAK_STEPS, 1))
    return _("【漏气安全须知】\n%(steps)s\n燃气抢险电话：%(h)s；着火请拨 119。") % {
        "steps": steps,
        "h": company.hotline or "-",
    }


def _need_account(f: WechatFollower) -> str | None:
    if f.account_id is None:
        return _("请先绑定户号：回复“绑定 户号 手机号”，例如：绑定 10000001 13800138000")
    return None


def handle_message(*, company, body: bytes) -> str | None:
    """Answer one pushed message through the portal's services; None means "success" (no reply)."""
    from kefu.portal import services

    try:
        msg = parse_message(body)
    except DomainError:
        return None
    if not msg.from_user:
        return None
    f = _follower(company, msg.from_user)
    services.access_log(
        action=f"wechat.{msg.msg_type or 'unknown'}"[:40],
        account=f.account,
        company_id=company.pk,
        channel="wechat",
        object_ref=msg.msg_id or msg.event,
    )
    if msg.msg_type == "event":
        event = msg.event.upper()
        if event == "SUBSCRIBE":
            WechatFollower.objects.filter(pk=f.pk).update(subscribed=True)
            return reply_text(
                msg, _("欢迎关注%(c)s。") % {"c": company.short_name or company.name} + "\n" + str(HELP)
            )
        if event == "UNSUBSCRIBE":
            WechatFollower.objects.filter(pk=f.pk).update(subscribed=False)
            return None
        if event == "TEMPLATESENDJOBFINISH":
            template_receipt(company=company, msgid=msg.msg_id, status=msg.status)
            return None
        if event == "CLICK":
            command = {"LEAK": "漏气", "ORDERS": "进度", "OUTAGES": "停气", "COMMITMENTS": "承诺"}.get(
                msg.event_key.upper(), ""
            )
            return reply_text(msg, _command(company, f, command))
        return None
    if msg.msg_type != "text":
        return reply_text(msg, str(HELP))
    return reply_text(msg, _command(company, f, msg.content))


def _command(company, f: WechatFollower, text: str) -> str:
    from kefu.portal import selectors, services

    parts = text.split()
    head = parts[0] if parts else ""
    head = ALIASES.get(head.lower(), head)
    if head == "确认漏气" and parts[1:2] and parts[1].lower() == "leak":
        parts = parts[1:]
    try:
        if head == "绑定" and len(parts) >= 3:
            ch = services.link_start(
                company=company, account_no=parts[1], phone=parts[2], channel="wechat", wechat_openid=f.openid
            )
            return _("验证码已发送至 %(p)s，请回复：验证 六位验证码") % {"p": rules.mask_phone(ch.phone)}
        if head == "验证" and len(parts) >= 2:
            ch = (
                PortalChallenge.objects.filter(company=company, wechat_openid=f.openid)
                .order_by("-created_at", "-id")
                .first()
            )
            if ch is None:
                return _("请先回复“绑定 户号 手机号”获取验证码。")
            services.link_verify(challenge_id=ch.pk, code=parts[1], channel="wechat")
            return _("绑定成功。") + "\n" + str(HELP)
        if head == "漏气":
            return (
                _leak_text(company) + "\n" + _("如确认漏气并需要抢险，请回复“确认漏气”，我们立即派抢险人员。")
            )
        if head == "确认漏气":
            if (msg := _need_account(f)) is not None:
                return _leak_text(company) + "\n" + msg
            t = services.leak_report(account=f.account, content=" ".join(parts[1:]), channel="wechat")
            return (
                _leak_text(company) + "\n" + _("已登记抢险工单 %(n)s，抢险人员正赶往您家。") % {"n": t.number}
            )
        if (msg := _need_account(f)) is not None:
            return msg if head in ("报修", "进度", "停气") else str(HELP)
        if head == "报修":
            t = services.fault_report(
                account=f.account,
                fault="repair:indoor_facility",
                content=" ".join(parts[1:]) or _("客户通过微信报修。"),
                channel="wechat",
            )
            return _("已受理，工单号 %(n)s。回复“进度”查看处理情况。") % {"n": t.number}
        if head == "进度":
            tickets = selectors.my_tickets(account=f.account, limit=5)
            if not tickets:
                return _("您没有工单。")
            return "\n".join(f"{t.number} {t.kind.name} {t.get_state_display()}" for t in tickets)
        if head == "停气":
            rows = selectors.interruptions(account=f.account)
            if not rows:
                return _("您的地址目前没有停气计划。")
            return "\n".join(
                _("%(a)s 至 %(b)s 停气：%(r)s")
                % {
                    "a": timezone.localtime(o.since).strftime("%m-%d %H:%M"),
                    "b": timezone.localtime(o.until).strftime("%m-%d %H:%M"),
                    "r": o.reason,
                }
                for o in rows
            )
        if head == "承诺":
            the_set, items = selectors.commitments(company=company)
            if the_set is None:
                return _("本年度服务承诺尚未发布。")
            return "\n".join(
                f"{c.spec_id} {c.name}：{c.limit_value}{c.get_limit_unit_display()}" for c in items[:12]
            )
    except DomainError as exc:
        return exc.message
    return str(HELP)


# ---- template messages (模板消息) ----------------------------------------------------------------
Transport = Callable[[str, str, bytes | None], dict]


def urllib_transport(method: str, url: str, body: bytes | None) -> dict:
    req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (the fixed WeChat API host)
        return json.loads(resp.read().decode())


class WechatClient:
    """The official account's API: the access token (cached until 5 minutes before it expires) and
    template messages. `transport` is replaced in tests by recorded answers."""

    def __init__(self, *, app_id: str, app_secret: str, transport: Transport | None = None):
        self.app_id, self.app_secret = app_id, app_secret
        self.transport = transport or urllib_transport
        self._token, self._token_until = "", 0.0

    def access_token(self) -> str:
        if self._token and time.time() < self._token_until:
            return self._token
        query = urllib.parse.urlencode(
            {"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret}
        )
        answer = self.transport("GET", f"{API}/token?{query}", None)
        if "access_token" not in answer:
            raise DomainError(
                _("微信接口错误 %(c)s：%(m)s") % {"c": answer.get("errcode"), "m": answer.get("errmsg", "")},
                code="wechat_error",
            )
        self._token = answer["access_token"]
        self._token_until = time.time() + max(60, int(answer.get("expires_in", 7200)) - 300)
        return self._token

    def send_template(self, payload: dict) -> dict:
        url = f"{API}/message/template/send?access_token={urllib.parse.quote(self.access_token())}"
        return self.transport("POST", url, json.dumps(payload, ensure_ascii=False).encode())


def progress_payload(*, openid: str, template_id: str, url: str, ticket, state_label: str) -> dict:
    """The work-order progress template (first / keyword1 number / keyword2 kind / keyword3 state /
    keyword4 time / remark), in WeChat's template-message JSON."""
    return {
        "touser": openid,
        "template_id": template_id,
        "url": url,
        "data": {
            "first": {"value": _("您的工单有新进展")},
            "keyword1": {"value": ticket.number},
            "keyword2": {"value": str(ticket.kind.name)},
            "keyword3": {"value": state_label},
            "keyword4": {"value": timezone.localtime(ticket.updated_at).strftime("%Y-%m-%d %H:%M")},
            "remark": {"value": _("回复“进度”查看详情。")},
        },
    }


def progress_notify(*, ticket_id: int, client: WechatClient | None = None) -> int:
    """Queue and send the progress template message of a work order's current state to the followers
    bound to its customer; once per (follower, work order, state). Returns messages sent."""
    from kefu.tickets.models import Ticket

    conf = config()
    t = Ticket.objects.select_related("kind").filter(pk=ticket_id).first()
    if t is None or t.customer_id is None or not conf.get("TEMPLATE_PROGRESS"):
        return 0
    followers = list(
        WechatFollower.objects.filter(
            company_id=t.company_id, account__customer_id=t.customer_id, subscribed=True
        )
    )
    if not followers:
        return 0
    client = client or WechatClient(app_id=conf.get("APP_ID", ""), app_secret=conf.get("APP_SECRET", ""))
    sent = 0
    for f in followers:
        payload = progress_payload(
            openid=f.openid,
            template_id=conf["TEMPLATE_PROGRESS"],
            url=conf.get("PORTAL_URL", ""),
            ticket=t,
            state_label=str(t.get_state_display()),
        )
        try:
            with transaction.atomic():
                row = WechatTemplateMessage.objects.create(
                    company_id=t.company_id,
                    follower=f,
                    dedupe_key=f"ticket:{t.pk}:{t.state}",
                    payload=payload,
                )
        except IntegrityError:
            continue  # sent for this state already
        try:
            answer = client.send_template(payload)
        except Exception as exc:  # one failed message must not stop the others
            WechatTemplateMessage.objects.filter(pk=row.pk).update(status="failed", error=str(exc)[:200])
            continue
        if answer.get("errcode") == 0:
            WechatTemplateMessage.objects.filter(pk=row.pk).update(
                status="sent", msgid=str(answer.get("msgid", ""))[:40], sent_at=timezone.now()
            )
            sent += 1
        else:
            WechatTemplateMessage.objects.filter(pk=row.pk).update(
                status="failed", error=f"{answer.get('errcode')} {answer.get('errmsg', '')}"[:200]
            )
    return sent


def template_receipt(*, company, msgid: str, status: str) -> int:
    """TEMPLATESENDJOBFINISH: Status "success" → delivered, anything else (failed:user block,
    failed: system failed) → failed with the status as the reason."""
    if not msgid:
        return 0
    if status == "success":
        return WechatTemplateMessage.objects.filter(company=company, msgid=msgid).update(status="delivered")
    return WechatTemplateMessage.objects.filter(company=company, msgid=msgid).update(
        status="failed", error=status[:200]
    )


# ---- the listener and its catch-up (docs/events.md) ------------------------------------------------
def on_ticket_state_changed(event) -> None:
    """A work order of a customer with a bound follower moved: its progress template message is sent by
    the worker (kefu.portal.tasks), never in the request. Idempotent: once per (follower, state)."""
    if not config().get("TEMPLATE_PROGRESS"):
        return
    if not WechatFollower.objects.filter(account__customer__isnull=False, subscribed=True).exists():
        return
    from kefu.portal.tasks import wechat_progress

    wechat_progress(event.ticket_id)


def progress_catch_up(*, now=None, limit: int = 200) -> int:
    """Work orders of bound followers' customers changed in the last day whose current state has no
    template message yet (a lost listener or task): sent now. Returns messages sent."""
    from datetime import timedelta

    from kefu.tickets.models import Ticket

    if not config().get("TEMPLATE_PROGRESS"):
        return 0
    now = now or timezone.now()
    customers = WechatFollower.objects.filter(subscribed=True, account__isnull=False).values(
        "account__customer_id"
    )
    rows = Ticket.objects.filter(
        customer_id__in=customers, updated_at__gte=now - timedelta(days=1)
    ).values_list("pk", "state")[:limit]
    sent = 0
    for pk, state in rows:
        if not WechatTemplateMessage.objects.filter(dedupe_key=f"ticket:{pk}:{state}").exists():
            sent += progress_notify(ticket_id=pk)
    return sent


def register() -> None:
    from kefu.core.events import subscribe
    from kefu.tickets.facts import TicketStateChanged

    subscribe(TicketStateChanged, on_ticket_state_changed, catch_up=progress_catch_up)
