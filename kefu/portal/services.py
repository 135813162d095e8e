"""Writes of the customer portal (网上营业厅; S2, C8, C16, C17). The web pages, the API under
/api/v1/portal/ and the WeChat adapter all call these; none of them writes a row itself.

- Linking: account number + the phone on file → an SMS code through the SMS gateway adapter of the
  interruptions app (kefu.outages.sms); five wrong codes lock (rules.MAX_FAILURES); codes per customer
  and per address are limited; every step is logged (S2).
- Sessions are the portal's own (a token, not a staff log-in): customers are not users.
- Requests become work orders through kefu.tickets.services with channel 网上营业厅, created by the
  company's portal channel account (a system account that cannot log in), so the commitment clocks
  (C8 for a leak, C10/C11 for appointments) start by themselves as for any work order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Company, User
from kefu.accounts.roles import Role
from kefu.core.errors import Conflict, DomainError, NotFound
from kefu.customers.models import Customer, Phone
from kefu.customers.normalize import normalize_phone
from kefu.portal import rules
from kefu.portal.models import (
    PortalAccess,
    PortalAccount,
    PortalChallenge,
    PortalRating,
    PortalSession,
)
from kefu.tickets.models import Channel, Ticket

logger = logging.getLogger("kefu.portal")


class TooMany(DomainError):
    """Too many requests or codes: HTTP 429."""

    status = 429


# ---- the channel account and the access log ----------------------------------------------------------
def portal_channel_user(company: Company) -> User:
    """The company's portal channel account (网上营业厅): owner and creator of the work orders customers
    make themselves. It has no usable password, so nobody can log in with it (S1)."""
    username = f"portal-{company.code}"[:150]
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(
            username=username,
            company=company,
            role=Role.AGENT,
            full_name=_("网上营业厅"),
            is_active=True,
        )
        user.set_unusable_password()
        user.save()
    return user


def access_log(
    *,
    action: str,
    account: PortalAccount | None = None,
    company_id: int | None = None,
    customer_id: int | None = None,
    source_ip: str | None = None,
    channel: str = "web",
    path: str = "",
    object_ref: str = "",
    status: int = 200,
    detail: str = "",
) -> PortalAccess:
    """One append-only row per portal access (S2: every access to personal data logged)."""
    return PortalAccess.objects.create(
        company_id=company_id or (account.company_id if account else None),
        account=account,
        customer_id_seen=customer_id or (account.customer_id if account else None),
        source_ip=source_ip,
        channel=channel[:10],
        action=action[:40],
        path=path[:200],
        object_ref=str(object_ref)[:60],
        status=status,
        detail=detail[:200],
    )


# ---- linking (account number + phone on file + SMS code) -------------------------------------------
def _locked_until(customer_id: int, now: datetime) -> datetime | None:
    last = (
        PortalChallenge.objects.filter(
            customer_id=customer_id,
            state=PortalChallenge.State.LOCKED,
            created_at__gt=now - timedelta(minutes=rules.LOCK_MINUTES + rules.CODE_MINUTES),
        )
        .order_by("-created_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    # a lock lasts LOCK_MINUTES from the fifth wrong code; expires_at is set to that moment on locking
    if last and last > now:
        return last
    return None


def _send_sms(challenge_id: int, phone: str, text: str) -> None:
    """Through the gateway adapter of kefu.outages.sms (KEFU_SMS_GATEWAY). With the console gateway
    (development, demo) the message is also appended to var/sms-outbox.log, where the demo customer
    reads the code."""
    from kefu.outages.sms import Outgoing, gateway

    gw = gateway()
    result = gw.send([Outgoing(ref=challenge_id, phone=phone, text=text, message_id=f"p{challenge_id}")])
    if result and result[0].ok:
        PortalChallenge.objects.filter(pk=challenge_id).update(sms_message_id=result[0].message_id[:64])
    else:
        logger.warning("portal SMS %s failed: %s", challenge_id, result[0].error if result else "")
    if gw.name == "console":
        with open(settings.VAR_DIR / "sms-outbox.log", "a", encoding="utf-8") as out:
            out.write(f"{timezone.now().isoformat()} {rules.mask_phone(phone)} {text}\n")


def link_start(
    *,
    company: Company,
    account_no: str,
    phone: str,
    source_ip: str | None = None,
    channel: str = "web",
    wechat_openid: str = "",
) -> PortalChallenge:
    """Send an SMS code to the phone on file of the account. The answer never says which of the two
    was wrong (a stranger must not learn whose number it is)."""
    now = timezone.now()
    account_no = (account_no or "").strip()[:30]
    number = normalize_phone(phone or "", company.area_code) or ""
    if source_ip and (
        PortalChallenge.objects.filter(source_ip=source_ip, created_at__gt=now - timedelta(hours=1)).count()
        >= rules.CODES_PER_ADDRESS_HOUR
    ):
        access_log(
            action="link.refused",
            company_id=company.pk,
            source_ip=source_ip,
            channel=channel,
            status=429,
            detail="address limit",
        )
        raise TooMany(_("请求验证码过于频繁，请一小时后再试。"), code="rate_limited")
    customer = (
        Customer.objects.filter(company=company, account_no=account_no).only("pk", "company_id").first()
    )
    on_file = (
        customer is not None
        and bool(number)
        and Phone.objects.filter(customer_id=customer.pk, number=number).exists()
    )
    if not on_file:
        access_log(
            action="link.mismatch",
            company_id=company.pk,
            customer_id=customer.pk if customer else None,
            source_ip=source_ip,
            channel=channel,
            status=400,
            detail=f"account {account_no}"[:200],
        )
        raise DomainError(
            _("户号与预留手机号不符。请核对，或携带证件到营业厅更新预留手机号。"), code="mismatch"
        )
    until = _locked_until(customer.pk, now)
    if until:
        access_log(
            action="link.locked",
            company_id=company.pk,
            customer_id=customer.pk,
            source_ip=source_ip,
            channel=channel,
            status=403,
        )
        raise DomainError(
            _("验证码错误次数过多，已锁定至 %(t)s。") % {"t": timezone.localtime(until).strftime("%H:%M")},
            code="locked",
        )
    if (
        PortalChallenge.objects.filter(
            customer_id=customer.pk, created_at__gt=now - timedelta(hours=1)
        ).count()
        >= rules.CODES_PER_CUSTOMER_HOUR
    ):
        access_log(
            action="link.refused",
            company_id=company.pk,
            customer_id=customer.pk,
            source_ip=source_ip,
            channel=channel,
            status=429,
            detail="customer limit",
        )
        raise TooMany(_("该户号获取验证码过于频繁，请一小时后再试。"), code="rate_limited")
    code = rules.new_code()
    with transaction.atomic():
        challenge = PortalChallenge.objects.create(
            company=company,
            customer_id=customer.pk,
            phone=number,
            code_hash=rules.code_store(code),
            created_at=now,
            expires_at=now + timedelta(minutes=rules.CODE_MINUTES),
            source_ip=source_ip,
            channel=channel[:10],
            wechat_openid=wechat_openid[:64],
        )
        access_log(
            action="link.code_sent",
            company_id=company.pk,
            customer_id=customer.pk,
            source_ip=source_ip,
            channel=channel,
            object_ref=f"challenge:{challenge.pk}",
        )
        text = _("【%(c)s】您的网上营业厅验证码是 %(code)s，%(m)s 分钟内有效。请勿告诉他人。") % {
            "c": company.short_name or company.name,
            "code": code,
            "m": rules.CODE_MINUTES,
        }
        transaction.on_commit(lambda: _send_sms(challenge.pk, number, text))
    return challenge


@dataclass(frozen=True)
class LoggedIn:
    session: PortalSession
    token: str  # shown once: the cookie value or the API's Bearer token


def link_verify(
    *, challenge_id: int, code: str, source_ip: str | None = None, channel: str = "web"
) -> LoggedIn:
    """Check the SMS code. Right → the account is linked (made once) and a session begins. Wrong →
    counted; the fifth wrong code locks the challenge and the customer's portal log-in for
    LOCK_MINUTES. The row is locked while counting, so five parallel guesses count five."""
    now = timezone.now()
    failed: str | None = None
    with transaction.atomic():
        ch = PortalChallenge.objects.select_for_update().filter(pk=challenge_id).first()
        if ch is None:
            raise NotFound(_("验证码已失效，请重新获取。"), code="not_found")
        log = dict(
            company_id=ch.company_id,
            customer_id=ch.customer_id,
            source_ip=source_ip,
            channel=channel,
            object_ref=f"challenge:{ch.pk}",
        )
        if ch.state == PortalChallenge.State.LOCKED or _locked_until(ch.customer_id, now):
            access_log(action="link.locked", status=403, **log)
            failed = "locked"
        elif ch.state != PortalChallenge.State.PENDING or ch.expires_at <= now:
            if ch.state == PortalChallenge.State.PENDING:
                ch.state = PortalChallenge.State.EXPIRED
                ch.save(update_fields=["state"])
            access_log(action="link.expired", status=400, **log)
            failed = "expired"
        elif not rules.code_matches(code or "", ch.code_hash):
            ch.failures += 1
            if ch.failures >= rules.MAX_FAILURES:
                ch.state = PortalChallenge.State.LOCKED
                ch.expires_at = now + timedelta(minutes=rules.LOCK_MINUTES)
                PortalAccount.objects.filter(customer_id=ch.customer_id).update(locked_until=ch.expires_at)
                access_log(action="link.locked_now", status=403, detail=f"failures {ch.failures}", **log)
                failed = "locked"
            else:
                access_log(action="link.wrong_code", status=400, detail=f"failures {ch.failures}", **log)
                failed = "wrong"
            ch.save(update_fields=["failures", "state", "expires_at"])
        else:
            ch.state = PortalChallenge.State.VERIFIED
            ch.save(update_fields=["state"])
            account, _created = PortalAccount.objects.get_or_create(
                customer_id=ch.customer_id, phone=ch.phone, defaults={"company_id": ch.company_id}
            )
            account.last_login_at, account.locked_until = now, None
            account.save(update_fields=["last_login_at", "locked_until"])
            token = rules.new_token()
            session = PortalSession.objects.create(
                account=account,
                token_hash=rules.token_hash(token),
                channel=channel[:10],
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=rules.MAX_HOURS),
                source_ip=source_ip,
            )
            access_log(
                action="login",
                account=account,
                source_ip=source_ip,
                channel=channel,
                object_ref=f"session:{session.pk}",
            )
            if ch.wechat_openid:
                from kefu.portal.wechat import follower_bind

                follower_bind(company_id=ch.company_id, openid=ch.wechat_openid, account=account)
    if failed == "locked":
        raise DomainError(
            _("验证码错误次数过多，已锁定 %(m)s 分钟。") % {"m": rules.LOCK_MINUTES}, code="locked"
        )
    if failed == "expired":
        raise DomainError(_("验证码已失效，请重新获取。"), code="expired")
    if failed == "wrong":
        raise DomainError(
            _("验证码错误，还可以再试 %(n)s 次。") % {"n": rules.MAX_FAILURES - ch.failures},
            code="wrong_code",
        )
    return LoggedIn(session, token)


def session_for_token(token: str, *, now: datetime | None = None) -> PortalSession | None:
    """The live session of a token, or None. `last_seen_at` is written at most once a minute (a page
    view is a read, not a write)."""
    if not token or not token.startswith(rules.TOKEN_PREFIX) or len(token) > 100:
        return None
    now = now or timezone.now()
    s = (
        PortalSession.objects.select_related("account__customer", "account__company")
        .filter(token_hash=rules.token_hash(token))
        .first()
    )
    if s is None or not rules.session_alive(
        created_at=s.created_at, last_seen_at=s.last_seen_at, ended_at=s.ended_at, now=now
    ):
        return None
    if s.account.locked_until and s.account.locked_until > now:
        return None
    if now - s.last_seen_at > timedelta(minutes=1):
        PortalSession.objects.filter(pk=s.pk).update(last_seen_at=now)
        s.last_seen_at = now
    return s


def session_end(*, session: PortalSession, source_ip: str | None = None) -> None:
    PortalSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(ended_at=timezone.now())
    access_log(action="logout", account=session.account, source_ip=source_ip, channel=session.channel)


# ---- requests that become work orders -----------------------------------------------------------
def _customer(account: PortalAccount) -> Customer:
    return Customer.objects.select_related("premise").get(pk=account.customer_id)


def _create(
    account: PortalAccount,
    *,
    kind: str,
    sub_kind: str | None,
    content: str,
    key: str,
    on_duplicate: str = "create",
    channel: str = Channel.PORTAL,
):
    from kefu.tickets.services import ticket_create

    customer = _customer(account)
    return ticket_create(
        by=portal_channel_user(account.company),
        kind=kind,
        sub_kind=sub_kind,
        content=content,
        channel=channel,
        customer_id=customer.pk,
        premise_id=customer.premise_id,
        caller_phone=account.phone,
        idempotency_key=f"portal:{account.pk}:{key}"[:100] if key else "",
        on_duplicate=on_duplicate,
    )


def fault_report(
    *,
    account: PortalAccount,
    fault: str,
    content: str,
    idempotency_key: str = "",
    channel: str = Channel.PORTAL,
) -> Ticket:
    """A fault (not a leak) reported by the customer: a repair or meter/card work order (P5, C4)."""
    choices = {f"{k}:{s}": (k, s) for k, s, _label in rules.FAULT_KINDS}
    if fault not in choices:
        raise DomainError(_("请选择故障类型。"), field="fault")
    kind, sub_kind = choices[fault]
    ticket = _create(
        account, kind=kind, sub_kind=sub_kind, content=content, key=idempotency_key, channel=channel
    ).ticket
    access_log(action="fault.report", account=account, channel=channel, object_ref=ticket.number)
    return ticket


def leak_report(
    *, account: PortalAccount, content: str = "", idempotency_key: str = "", channel: str = Channel.PORTAL
) -> Ticket:
    """A gas leak (漏气): an emergency work order for the customer's address. Its C8 clock (crew on site
    ≤ 40 min) starts when the work order is committed, and the field app pages the crew on duty — as
    for a call to the hotline. An open leak report of the same address is not duplicated: the customer
    is shown the one in progress."""
    from kefu.tickets.services import DuplicateFound

    text = (content or "").strip() or _("客户在网上营业厅报告漏气。")
    try:
        ticket = _create(
            account,
            kind="emergency",
            sub_kind="leak",
            content=text,
            key=idempotency_key,
            on_duplicate="ask",
            channel=channel,
        ).ticket
    except DuplicateFound as exc:
        ticket = exc.duplicates[0]
    access_log(action="leak.report", account=account, channel=channel, object_ref=ticket.number)
    return ticket


def appointment_request(
    *,
    account: PortalAccount,
    purpose: str,
    slot_id: int,
    content: str = "",
    idempotency_key: str = "",
    channel: str = Channel.PORTAL,
):
    """Book an inspection (C11) or a repair (C10) visit in one of the field app's open slots: the work
    order and the booking are one transaction (a full slot books nothing)."""
    from kefu.field.services import appointment_book

    if purpose not in rules.APPOINTMENT_KINDS:
        raise DomainError(_("请选择预约类型。"), field="purpose")
    kind, sub_kind, _dept = rules.APPOINTMENT_KINDS[purpose]
    text = (content or "").strip() or (
        _("客户预约安检。") if purpose == "inspection" else _("客户预约维修。")
    )
    with transaction.atomic():
        result = _create(
            account, kind=kind, sub_kind=sub_kind, content=text, key=idempotency_key, channel=channel
        )
        existing = result.ticket.appointments.exclude(state="cancelled").first()
        if not result.created and existing is not None:
            return existing
        appt = appointment_book(
            by=portal_channel_user(account.company), ticket_id=result.ticket.pk, slot_id=slot_id
        )
    access_log(action="appointment.book", account=account, channel=channel, object_ref=result.ticket.number)
    return appt


def rating_submit(
    *,
    account: PortalAccount,
    ticket_id: int,
    attitude_score: int,
    ability_score: int,
    satisfied: bool,
    comment: str = "",
    channel: str = Channel.PORTAL,
) -> PortalRating:
    """The customer rates a finished work order once (C16, 1–10). It feeds the return visit (kefu.followups):
    satisfied → the pending visit is made by this answer (scores count in K15/K16); dissatisfied → the
    visit stays for a person to call, the owner is told at once, and the rating is on the timeline."""
    from kefu.followups.models import ReturnVisit
    from kefu.followups.services import visit_record_customer_rating
    from kefu.notify.services import notification_send
    from kefu.portal.selectors import my_ticket
    from kefu.tickets import events as timeline

    for value, field in ((attitude_score, "attitude_score"), (ability_score, "ability_score")):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
            raise DomainError(_("评分须为 1 到 10 的整数。"), field=field)
    comment = (comment or "").strip()[:500]
    ticket = my_ticket(account=account, ticket_id=ticket_id)
    if ticket.state not in ("resolved", "closed"):
        raise DomainError(_("工单办结后才能评价。"), code="not_finished")
    by = portal_channel_user(account.company)
    with transaction.atomic():
        if PortalRating.objects.filter(ticket=ticket).exists():
            raise Conflict(_("该工单已评价过，谢谢您。"), code="already_rated")
        visit = (
            ReturnVisit.objects.filter(ticket=ticket, status=ReturnVisit.Status.PENDING)
            .order_by("id")
            .first()
        )
        rating = PortalRating.objects.create(
            company_id=account.company_id,
            account=account,
            ticket=ticket,
            attitude_score=attitude_score,
            ability_score=ability_score,
            satisfied=bool(satisfied),
            comment=comment,
            return_visit_id=visit.pk if visit else None,
        )
        if visit is not None and satisfied:
            visit_record_customer_rating(
                by=by,
                visit_id=visit.pk,
                attitude_score=attitude_score,
                ability_score=ability_score,
                remarks=comment,
                via=channel,
            )
        else:
            timeline.comment(
                ticket,
                by,
                text=_("客户自助评价：%(s)s；服务态度 %(a)s 分，专业能力 %(b)s 分。%(c)s")
                % {
                    "s": _("满意") if satisfied else _("不满意"),
                    "a": attitude_score,
                    "b": ability_score,
                    "c": comment,
                },
            )
        if not satisfied:
            notification_send(
                recipient=ticket.owner if ticket.owner_id != by.pk else (ticket.assigned_to or ticket.owner),
                kind="portal.dissatisfied",
                title=_("客户对工单 %(n)s 不满意，请回访") % {"n": ticket.number},
                body=comment,
                url=f"/tickets/{ticket.pk}/",
                level="warning",
                dedupe_key=f"portal.dissatisfied:{ticket.pk}",
            )
        access_log(action="rating.submit", account=account, channel=channel, object_ref=ticket.number)
    return rating


def chat_begin(*, account: PortalAccount) -> str:
    """Start a chat with an agent (kefu.telephony, C18) with the account number as the contact; returns
    the chat's token (its page is /telephony/chat/s/<token>/)."""
    from kefu.telephony.services import chat_start

    customer = _customer(account)
    s = chat_start(company=account.company, contact=customer.account_no)
    access_log(action="chat.start", account=account, object_ref=f"chat:{s.pk}")
    return s.token
