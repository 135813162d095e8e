"""Writes of the outages app (P13, C1, C2, P8): each a check and a write in one transaction, with
its timeline row; clock facts are published as `OutageChanged` (facts.py) on commit.

Plan → affected list → approve → notify (freeze + notices) → start → restore (steps) → close.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_can_write, assert_perm
from kefu.core.errors import Conflict, DomainError, NotFound
from kefu.core.events import publish
from kefu.customers.models import CareRegistration, Customer, Phone, Premise
from kefu.outages import rules
from kefu.outages.facts import OutageChanged
from kefu.outages.models import (
    AffectedMethod,
    AffectedPremise,
    DeliveryReceipt,
    FaultReport,
    Notice,
    Outage,
    OutageCall,
    OutageEvent,
    OutageSettings,
    RestorationStep,
)
from kefu.outages.states import FINAL_STATES, OutageKind, OutageState, assert_move

MAX_TEXT = 300


def _tz(company) -> ZoneInfo:
    return ZoneInfo(getattr(company, "timezone", "") or "Asia/Shanghai")


def outage_settings(company_id: int) -> OutageSettings:
    row, _created = OutageSettings.objects.get_or_create(company_id=company_id)
    return row


def _lock(outage_id: int, by) -> Outage:
    o = Outage.objects.select_for_update().select_related("company").filter(pk=outage_id).first()
    if o is None or o.company_id != by.company_id:
        raise NotFound(_("没有找到该停气单，或您无权查看。"), code="not_found")
    return o


def _event(o: Outage, what: str, by, **detail) -> None:
    OutageEvent.objects.create(outage=o, kind=what, by=by, detail=detail)


def _changed(o: Outage, what: str) -> None:
    publish(OutageChanged(outage_id=o.pk, what=what))


def _text(value: str, field: str, label: str, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(_("请填写%(l)s。") % {"l": label}, field=field)
    if len(value) > limit:
        raise DomainError(_("%(l)s不能超过 %(n)s 个字。") % {"l": label, "n": limit}, field=field)
    return value


def _check_times(start: datetime, end: datetime) -> None:
    if start is None or end is None or start.tzinfo is None or end.tzinfo is None:
        raise DomainError(_("请填写带时区的计划开始和恢复时间。"), field="planned_start")
    if end <= start:
        raise DomainError(_("计划恢复时间必须晚于计划开始时间。"), field="planned_end")


def _number(company, now: datetime) -> str:
    day = now.astimezone(_tz(company)).strftime("%Y%m%d")
    prefix = f"TQ{day}-"
    n = Outage.objects.filter(company=company, number__startswith=prefix).count() + 1
    return f"{prefix}{n:03d}"


# ---- plan ----------------------------------------------------------------------------------------
def outage_create(
    *,
    by,
    kind: str,
    reason: str,
    planned_start: datetime,
    planned_end: datetime,
    area: str = "",
    major: bool = False,
) -> Outage:
    """Record an interruption (P13). A planned stop waits for approval; an emergency repair or
    force majeure may start at once (excluded from C1/C2). A major fault (P8) tells the
    departments' managers and supervisors at once."""
    assert_perm(by, Perm.OUTAGE_PLAN)
    if kind not in OutageKind.values:
        raise DomainError(_("未知的停气类型。"), field="kind")
    reason = _text(reason, "reason", _("停气原因"))
    area = (area or "").strip()[:MAX_TEXT]
    _check_times(planned_start, planned_end)
    now = timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                o = Outage.objects.create(
                    company=by.company,
                    number=_number(by.company, now),
                    kind=kind,
                    reason=reason,
                    area=area,
                    major=bool(major),
                    planned_start=planned_start,
                    planned_end=planned_end,
                    created_by=by,
                )
                _event(o, "created", by, kind=kind)
                if major:
                    _tell_major(o, by)
            return o
        except IntegrityError:  # two outages numbered at once: take the next number
            continue
    raise Conflict(_("编号冲突，请重试。"), code="conflict")


def _tell_major(o: Outage, by) -> None:
    """P8: departments and managers notified at once (in-app notifications, deduplicated)."""
    from kefu.accounts.models import User
    from kefu.notify.services import notification_send_many

    people = User.objects.filter(
        company_id=o.company_id, is_active=True, role__in=["manager", "supervisor", "dispatcher"]
    )
    items = [
        {
            "recipient": u,
            "kind": "outage.major",
            "title": _("重大故障停气 %(n)s：%(r)s") % {"n": o.number, "r": o.reason[:60]},
            "body": o.area,
            "url": f"/outages/{o.pk}/",
            "level": "warning",
            "dedupe_key": f"outage:{o.pk}:major",
        }
        for u in people
    ]
    transaction.on_commit(lambda: notification_send_many(items))
    _event(o, "major_notified", by, people=len(items))


def outage_reschedule(
    *, by, outage_id: int, planned_start: datetime, planned_end: datetime, reason: str = ""
) -> Outage:
    """Change the planned times. A changed start after approval restarts C1; if notices went out,
    a new round is sent to the frozen list (re-notification)."""
    assert_perm(by, Perm.OUTAGE_PLAN)
    _check_times(planned_start, planned_end)
    with transaction.atomic():
        o = _lock(outage_id, by)
        if o.state not in (OutageState.DRAFT, OutageState.APPROVED, OutageState.NOTIFIED):
            raise DomainError(_("停气已开始或已结束，不能改计划时间。"), code="bad_state")
        moved = o.planned_start != planned_start
        _event(
            o,
            "rescheduled",
            by,
            start=[o.planned_start.isoformat(), planned_start.isoformat()],
            end=[o.planned_end.isoformat(), planned_end.isoformat()],
            reason=(reason or "")[:200],
        )
        o.planned_start, o.planned_end = planned_start, planned_end
        o.version += 1
        fields = ["planned_start", "planned_end", "version", "updated_at"]
        if moved and o.notice_round:
            o.notices_complete_at = None
            fields.append("notices_complete_at")
        o.save(update_fields=fields)
        if moved and o.notice_round:
            _notify_round(o, by)
        if moved:
            _changed(o, "rescheduled")
    return o


def _premises_for(company_id: int, method: str, selection: dict):
    """The premises chosen: a queryset (zone, address) or a list of ids (network)."""
    qs = Premise.objects.filter(company_id=company_id)
    if method == AffectedMethod.ZONE:
        zones = [z for z in selection.get("zones", []) if z]
        if not zones:
            raise DomainError(_("请至少选择一个供气区域。"), field="zones")
        return qs.filter(supply_zone__in=zones)
    if method == AffectedMethod.ADDRESS:
        q = Q()
        for c in selection.get("communities", []):
            if c:
                q |= Q(community=c)
        for b in selection.get("buildings", []):  # "幸福小区/3"
            comm, _sep, bld = str(b).partition("/")
            if comm and bld:
                q |= Q(community=comm, building=bld)
        if not q:
            raise DomainError(_("请至少选择一个小区或楼栋。"), field="communities")
        return qs.filter(q)
    if method == AffectedMethod.NETWORK:
        from kefu.outages import network
        from kefu.outages.selectors import company_network

        net = company_network(company_id)
        try:
            if selection.get("pipe"):
                iso = network.valves_for_pipe(net, selection["pipe"])
                closed = iso.closed
            else:
                closed = [v for v in selection.get("valves", []) if v]
                if not closed:
                    raise DomainError(_("请选择要关闭的阀门，或选择损坏的管段。"), field="valves")
                not_valves = [v for v in closed if v in net.kinds and not net.is_valve(v)]
                if not_valves:
                    raise DomainError(_("%(v)s 不是阀门。") % {"v": not_valves[0]}, field="valves")
                iso = network.isolate(net, closed)
            for v in selection.get("stuck", []):
                closed = sorted(set(network.stuck(net, closed, v).after.closed))
                iso = network.isolate(net, closed)
        except KeyError as exc:
            raise DomainError(_("管网中没有 %(x)s。") % {"x": str(exc).strip("'")}, field="valves") from None
        selection["closed"] = closed
        return iso.premise_ids
    raise DomainError(_("未知的影响范围方式。"), field="method")


def outage_set_affected(*, by, outage_id: int, method: str, selection: dict) -> int:
    """Choose the affected households (by supply zone, by communities/buildings, or by the valves
    closed on the pipe network) — replacing the previous choice. Refused once the list is frozen.
    Special-care customers, hospitals, schools, heating stations, commercial and industrial
    customers get a priority so they are listed first. Returns the number of households."""
    assert_perm(by, Perm.OUTAGE_PLAN)
    selection = dict(selection or {})
    with transaction.atomic():
        o = _lock(outage_id, by)
        if o.frozen_at is not None:
            raise Conflict(_("通知已发出，受影响名单已冻结，不能再改。"), code="frozen")
        if o.state in FINAL_STATES:
            raise DomainError(_("停气单已结束。"), code="bad_state")
        premises = _premises_for(o.company_id, method, selection)
        AffectedPremise.objects.filter(outage=o).delete()
        rows = _affected_rows(o, premises)
        AffectedPremise.objects.bulk_create(rows, batch_size=2000)
        o.method, o.selection = method, selection
        o.save(update_fields=["method", "selection", "updated_at"])
        _event(o, "affected_set", by, method=method, count=len(rows))
    return len(rows)


def _parts(premises) -> list:
    """Querysets covering the chosen premises: the queryset itself, or chunks of an id list (the
    network), so the lookups below are a few joined queries, never one per household."""
    if not isinstance(premises, list):
        return [premises]
    return [Premise.objects.filter(pk__in=premises[i : i + 5000]) for i in range(0, len(premises), 5000)]


def _affected_rows(o: Outage, premises) -> list[AffectedPremise]:
    rows = []
    for part in _parts(premises):
        customers: dict[int, tuple[int, str, str]] = {}
        for cid, pid, name, cat in (
            Customer.objects.filter(premise__in=part)
            .exclude(status=Customer.Status.CLOSED)
            .order_by("id")
            .values_list("id", "premise_id", "name", "category__code")
        ):
            customers.setdefault(pid, (cid, name, cat))
        care = set(
            CareRegistration.objects.filter(customer__premise__in=part, ended_on__isnull=True).values_list(
                "customer_id", flat=True
            )
        )
        for pid, comm, bld in part.order_by("id").values_list("id", "community", "building"):
            cid, name, cat = customers.get(pid, (None, "", ""))
            prio, why = rules.priority_of(category_code=cat or "", name=name or "", has_care=cid in care)
            rows.append(
                AffectedPremise(
                    outage=o,
                    premise_id=pid,
                    customer_id=cid,
                    building_key=f"{comm}/{bld}"[:100] if (comm or bld) else "",
                    priority=prio,
                    priority_reason=why,
                )
            )
    return rows


def outage_approve(*, by, outage_id: int) -> Outage:
    """The responsible manager approves a planned stop (C1's clock starts: notice due at planned
    start − 48 h)."""
    assert_perm(by, Perm.OUTAGE_APPROVE)
    with transaction.atomic():
        o = _lock(outage_id, by)
        assert_move(o.state, OutageState.APPROVED, kind=o.kind)
        o.state, o.approved_by, o.approved_at = OutageState.APPROVED, by, timezone.now()
        o.save(update_fields=["state", "approved_by", "approved_at", "updated_at"])
        _event(o, "approved", by)
        _changed(o, "approved")
    return o


# ---- notices (C1) ---------------------------------------------------------------------------------
def notice_text(o: Outage, hotline: str) -> str:
    tz = _tz(o.company)
    fmt = "%m月%d日%H:%M"
    return _(
        "【停气通知】因%(r)s，%(a)s将于%(s)s至%(e)s停止供气，请提前做好准备并关闭燃气阀门。咨询电话%(h)s。"
    ) % {
        "r": o.reason,
        "a": o.area or _("您所在区域"),
        "s": o.planned_start.astimezone(tz).strftime(fmt),
        "e": o.planned_end.astimezone(tz).strftime(fmt),
        "h": hotline,
    }


def outage_notify(*, by, outage_id: int) -> dict:
    """Freeze the affected list (count, content hash, method) and create this round's notices:
    an SMS per household with a mobile number, a printed notice per building, a voice-call line
    per household without a mobile. SMS go through the gateway after the commit. Returns counts."""
    assert_perm(by, Perm.OUTAGE_PLAN)
    with transaction.atomic():
        o = _lock(outage_id, by)
        if o.notice_round:
            raise Conflict(_("通知已发出；改计划开始时间会重新通知。"), code="notified")
        if o.state not in (OutageState.APPROVED, OutageState.STARTED):
            raise DomainError(_("计划停气须先批准才能发通知；抢修停气在开始后通知。"), code="bad_state")
        ids = list(AffectedPremise.objects.filter(outage=o).values_list("premise_id", flat=True))
        if not ids:
            raise DomainError(_("还没有受影响的用户：请先选择停气范围。"), code="empty")
        o.frozen_at, o.frozen_count = timezone.now(), len(ids)
        o.frozen_hash, o.frozen_method = rules.list_hash(ids), o.method
        if o.state == OutageState.APPROVED:
            o.state = OutageState.NOTIFIED
        o.save(
            update_fields=["frozen_at", "frozen_count", "frozen_hash", "frozen_method", "state", "updated_at"]
        )
        _event(o, "frozen", by, count=len(ids), hash=o.frozen_hash, method=o.method)
        counts = _notify_round(o, by)
    return counts


NOTICE_COLUMNS = (
    "outage_id",
    "round",
    "purpose",
    "channel",
    "affected_id",
    "building_key",
    "phone",
    "text",
    "status",
    "gateway",
    "photo",
    "error",
    "created_at",
)


def _insert(model, columns: tuple[str, ...], rows: list[tuple], *, ignore_conflicts: bool = False) -> None:
    """One prepared INSERT run over all rows (executemany): tens of thousands of notices in seconds,
    where building model instances and bulk_create's statements cost more than the database does.
    Plain SQL both SQLite and PostgreSQL take (ON CONFLICT DO NOTHING: SQLite >= 3.24)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cur:
        for i in range(0, len(rows), 5000):
            cur.executemany(sql, rows[i : i + 5000])


def _db_time(at: datetime):
    return connection.ops.adapt_datetimefield_value(at)


def _notice_row(
    o: Outage, purpose: str, channel: str, affected_id, building_key: str, phone: str, text: str, now
):
    status = Notice.Status.QUEUED
    return (
        o.pk,
        o.notice_round,
        purpose,
        channel,
        affected_id,
        building_key,
        phone,
        text,
        status,
        "",
        "",
        "",
        now,
    )


def _mobiles(o: Outage) -> dict[int, str]:
    """The mobile number of each affected customer (the primary one first), in one query."""
    mobiles: dict[int, str] = {}
    for cid, number in (
        Phone.objects.filter(
            kind=Phone.Kind.MOBILE,
            customer_id__in=AffectedPremise.objects.filter(outage=o, customer__isnull=False).values(
                "customer_id"
            ),
        )
        .order_by("-is_primary", "id")
        .values_list("customer_id", "number")
    ):
        mobiles.setdefault(cid, number)
    return mobiles


def _notify_round(o: Outage, by) -> dict:
    """A new round of notices for the frozen list (first notice, or after a changed start)."""
    o.notice_round += 1
    o.save(update_fields=["notice_round"])
    hotline = outage_settings(o.company_id).hotline
    text = notice_text(o, hotline)
    affected = list(AffectedPremise.objects.filter(outage=o).values_list("id", "customer_id", "building_key"))
    mobiles = _mobiles(o)
    now = _db_time(timezone.now())
    advance = Notice.Purpose.ADVANCE
    rows: list[tuple] = []
    buildings: set[str] = set()
    by_channel = {c: 0 for c in Notice.Channel.values}
    for aid, cid, bkey in affected:
        phone = mobiles.get(cid) if cid else None
        channel = Notice.Channel.SMS if phone else Notice.Channel.VOICE
        by_channel[channel] += 1
        rows.append(_notice_row(o, advance, channel, aid, bkey, phone or "", text, now))
        if bkey:
            buildings.add(bkey)
    for bkey in sorted(buildings):
        rows.append(_notice_row(o, advance, Notice.Channel.POSTED, None, bkey, "", text, now))
    by_channel[Notice.Channel.POSTED] = len(buildings)
    _insert(Notice, NOTICE_COLUMNS, rows)
    _event(o, "notified", by, round=o.notice_round, notices=len(rows), buildings=len(buildings))
    oid = o.pk
    transaction.on_commit(lambda: notices_send(outage_id=oid))
    return {"round": o.notice_round, "households": len(affected), **by_channel}


def notices_send(*, outage_id: int | None = None, batch: int = 1000, gateway_name: str | None = None) -> int:
    """Send queued SMS through the gateway. Rows are claimed in batches by one conditional UPDATE
    that also gives each its message id ("k" + notice id; gateways echo a client's id in their
    receipts: 云片's `uid`), so two workers never send one twice and nothing is written per message
    unless the gateway refuses it or names it otherwise. Returns the number handed over."""
    from kefu.outages import sms

    gw = sms.gateway(gateway_name)
    sent = 0
    while True:
        qs = Notice.objects.filter(channel=Notice.Channel.SMS, status=Notice.Status.QUEUED)
        if outage_id is not None:
            qs = qs.filter(outage_id=outage_id)
        ids = list(qs.order_by("id").values_list("id", flat=True)[:batch])
        if not ids:
            return sent
        claim = timezone.now()
        with transaction.atomic():
            n = Notice.objects.filter(pk__in=ids, status=Notice.Status.QUEUED).update(
                status=Notice.Status.SENT,
                sent_at=claim,
                gateway=gw.name,
                message_id=Concat(Value("k"), Cast("id", CharField())),
            )
        if not n:
            continue
        rows = list(
            Notice.objects.filter(pk__in=ids, sent_at=claim, gateway=gw.name).values_list(
                "id", "message_id", "phone", "text"
            )
        )
        results = gw.send([sms.Outgoing(i, p, t, m) for i, m, p, t in rows])
        ours = {i: m for i, m, _p, _t in rows}
        renamed, failed = [], []
        delivered: list[tuple[str, datetime]] = []
        for r in results:
            if not r.ok:
                failed.append(Notice(pk=r.ref, status=Notice.Status.FAILED, error=r.error[:200]))
                continue
            mid = ours[r.ref]
            if r.message_id and r.message_id != mid:  # a gateway that names messages itself
                mid = r.message_id
                renamed.append(Notice(pk=r.ref, message_id=mid))
            if r.delivered_at is not None:
                delivered.append((mid, r.delivered_at))
        if renamed or failed:
            with transaction.atomic():
                Notice.objects.bulk_update(renamed, ["message_id"], batch_size=500)
                Notice.objects.bulk_update(failed, ["status", "error"], batch_size=500)
        if delivered:
            receipts_record(
                gateway_name=gw.name,
                receipts=[sms.Receipt(mid, True, "delivered", at) for mid, at in delivered],
            )
        sent += len(results)


def receipts_record(*, gateway_name: str, receipts: list, company_id: int | None = None) -> dict:
    """Record delivery receipts (batched). A receipt resent by the gateway is stored once; one for
    an unknown message is kept (notice empty) and counted; a notice is delivered once, at the time
    the gateway reports. Outages whose notices all arrived stop their C1 clock."""
    if not receipts:
        return {"received": 0, "duplicates": 0, "unknown": 0, "delivered": 0}
    now = timezone.now()
    mids = list({r.message_id for r in receipts})
    notices: dict[str, tuple[int, int]] = {}
    for i in range(0, len(mids), 900):
        qs = Notice.objects.filter(gateway=gateway_name, message_id__in=mids[i : i + 900])
        if company_id is not None:  # a gateway's token only ever proves its own company's notices (S2)
            qs = qs.filter(outage__company_id=company_id)
        for nid, mid, oid in qs.values_list("id", "message_id", "outage_id"):
            notices[mid] = (nid, oid)
    with transaction.atomic():
        existing: set[tuple[str, str]] = set()
        for i in range(0, len(mids), 900):
            existing.update(
                DeliveryReceipt.objects.filter(
                    gateway=gateway_name, message_id__in=mids[i : i + 900]
                ).values_list("message_id", "status")
            )
        new, seen = [], set()
        for r in receipts:
            key = (r.message_id, r.status)
            if key in existing or key in seen:
                continue
            seen.add(key)
            n = notices.get(r.message_id)
            new.append(
                DeliveryReceipt(
                    gateway=gateway_name,
                    message_id=r.message_id,
                    status=r.status,
                    reported_at=r.at,
                    received_at=now,
                    notice_id=n[0] if n else None,
                )
            )
        received = _db_time(now)
        _insert(
            DeliveryReceipt,
            ("gateway", "message_id", "status", "reported_at", "received_at", "notice_id"),
            [
                (r.gateway, r.message_id, r.status, _db_time(r.reported_at), received, r.notice_id)
                for r in new
            ],
            ignore_conflicts=True,
        )
        delivered = failed = 0
        outages: set[int] = set()
        by_time: dict[datetime, list[int]] = {}
        fail_ids: list[int] = []
        for r in new:
            if r.notice_id is None:
                continue
            if _is_delivered(r.status):
                by_time.setdefault(r.reported_at, []).append(r.notice_id)
            else:
                fail_ids.append(r.notice_id)
            outages.add(notices[r.message_id][1])
        for at, ids in by_time.items():
            for i in range(0, len(ids), 900):
                delivered += Notice.objects.filter(pk__in=ids[i : i + 900], delivered_at__isnull=True).update(
                    status=Notice.Status.DELIVERED, delivered_at=at
                )
        for i in range(0, len(fail_ids), 900):
            failed += Notice.objects.filter(pk__in=fail_ids[i : i + 900], delivered_at__isnull=True).update(
                status=Notice.Status.FAILED
            )
    for oid in outages:  # the check is cheap when households are left (an EXISTS that stops early)
        transaction.on_commit(lambda oid=oid: outage_check_notices(outage_id=oid))
    unknown = sum(1 for r in new if r.notice_id is None)
    return {
        "received": len(receipts),
        "duplicates": len(receipts) - len(new),
        "unknown": unknown,
        "delivered": delivered,
        "failed": failed,
    }


def _is_delivered(status: str) -> bool:
    return status.lower() in ("delivered", "success", "ok", "delivrd")


def notice_mark_posted(*, by, notice_id: int, at: datetime | None = None, photo=None) -> Notice:
    """A printed notice was posted at the building: time and (optional) photo are the proof."""
    assert_perm(by, Perm.OUTAGE_NOTICE)
    at = at or timezone.now()
    with transaction.atomic():
        n = Notice.objects.select_for_update().select_related("outage").filter(pk=notice_id).first()
        if n is None or n.outage.company_id != by.company_id or n.channel != Notice.Channel.POSTED:
            raise NotFound(_("没有找到该张贴通知。"), code="not_found")
        if at > timezone.now():
            raise DomainError(_("张贴时间不能晚于现在。"), field="at")
        n.status, n.posted_at, n.posted_by = Notice.Status.POSTED, at, by
        if photo is not None:
            n.photo.save(f"notice-{n.pk}.jpg", photo, save=False)
        n.save(update_fields=["status", "posted_at", "posted_by", "photo"])
        _event(n.outage, "posted", by, building=n.building_key, at=at.isoformat(), photo=bool(photo))
        oid = n.outage_id
        transaction.on_commit(lambda: outage_check_notices(outage_id=oid))
    return n


def notice_mark_called(*, by, notice_id: int, reached: bool = True) -> Notice:
    """An outbound voice call of the list was made (reached or not)."""
    assert_perm(by, Perm.OUTAGE_NOTICE)
    with transaction.atomic():
        n = Notice.objects.select_for_update().select_related("outage").filter(pk=notice_id).first()
        if n is None or n.outage.company_id != by.company_id or n.channel != Notice.Channel.VOICE:
            raise NotFound(_("没有找到该外呼记录。"), code="not_found")
        n.status = Notice.Status.CALLED if reached else Notice.Status.FAILED
        n.delivered_at = timezone.now() if reached else None
        n.save(update_fields=["status", "delivered_at"])
    return n


def notice_coverage(outage_id: int, round_no: int) -> tuple[int, int, datetime | None]:
    """(households covered, households, when the last one was covered) for a round: a household
    is covered by its delivered SMS (or reached call) or by its building's posted notice, whichever
    came first."""
    posted = dict(
        Notice.objects.filter(
            outage_id=outage_id, round=round_no, channel=Notice.Channel.POSTED, posted_at__isnull=False
        ).values_list("building_key", "posted_at")
    )
    personal: dict[int, datetime] = {}
    for aid, at in Notice.objects.filter(
        outage_id=outage_id, round=round_no, affected__isnull=False, delivered_at__isnull=False
    ).values_list("affected_id", "delivered_at"):
        if aid not in personal or at < personal[aid]:
            personal[aid] = at
    total = covered = 0
    last: datetime | None = None
    for aid, bkey in AffectedPremise.objects.filter(outage_id=outage_id).values_list("id", "building_key"):
        total += 1
        times = [t for t in (personal.get(aid), posted.get(bkey) if bkey else None) if t is not None]
        if times:
            covered += 1
            t = min(times)
            last = t if last is None or t > last else last
    return covered, total, last if covered == total and total else None


def _uncovered_exists(o: Outage) -> bool:
    """Is some household of the current round still without a delivered notice or a posted one on
    its building? One query; pending SMS first (an index probe), then an EXISTS that stops at the
    first uncovered household."""
    if (
        Notice.objects.filter(
            outage=o,
            round=o.notice_round,
            purpose=Notice.Purpose.ADVANCE,
            channel__in=[Notice.Channel.SMS, Notice.Channel.VOICE],
            status__in=[Notice.Status.QUEUED, Notice.Status.SENT],
        ).exists()
        and not Notice.objects.filter(
            outage=o, round=o.notice_round, channel=Notice.Channel.POSTED, posted_at__isnull=False
        ).exists()
    ):
        return True  # SMS still on their way and no building posted: nobody else can cover them
    delivered = Notice.objects.filter(
        affected_id=OuterRef("pk"), round=o.notice_round, delivered_at__isnull=False
    )
    posted = Notice.objects.filter(
        outage_id=o.pk,
        round=o.notice_round,
        channel=Notice.Channel.POSTED,
        posted_at__isnull=False,
        building_key=OuterRef("building_key"),
    )
    return (
        AffectedPremise.objects.filter(outage=o)
        .filter(~Exists(delivered))
        .filter(Q(building_key="") | ~Exists(posted))
        .exists()
    )


def outage_check_notices(*, outage_id: int) -> bool:
    """When every household of the current round is covered, record when (the C1 proof) and stop
    the clock. Idempotent."""
    o = Outage.objects.filter(pk=outage_id).first()
    if o is None or not o.notice_round or o.notices_complete_at is not None:
        return False
    if _uncovered_exists(o):
        return False
    covered, total, last = notice_coverage(o.pk, o.notice_round)
    if last is None:
        return False
    with transaction.atomic():
        n = Outage.objects.filter(
            pk=o.pk, notices_complete_at__isnull=True, notice_round=o.notice_round
        ).update(notices_complete_at=last)
        if n:
            OutageEvent.objects.create(
                outage=o, kind="notices_complete", detail={"at": last.isoformat(), "households": total}
            )
            _changed(o, "notified")
    return bool(n)


# ---- during and after ------------------------------------------------------------------------------
def outage_start(*, by, outage_id: int, at: datetime | None = None) -> Outage:
    """Gas is off: the actual start (C2's clock starts for a planned stop)."""
    assert_perm(by, Perm.OUTAGE_PLAN)
    at = at or timezone.now()
    with transaction.atomic():
        o = _lock(outage_id, by)
        assert_move(o.state, OutageState.STARTED, kind=o.kind)
        if not AffectedPremise.objects.filter(outage=o).exists():
            raise DomainError(_("还没有受影响的用户：请先选择停气范围。"), code="empty")
        if at > timezone.now():
            raise DomainError(_("实际开始时间不能晚于现在。"), field="at")
        o.state, o.actual_start = OutageState.STARTED, at
        if o.frozen_at is None:  # an emergency: the list is frozen when gas goes off
            ids = list(AffectedPremise.objects.filter(outage=o).values_list("premise_id", flat=True))
            o.frozen_at, o.frozen_count, o.frozen_hash, o.frozen_method = (
                timezone.now(),
                len(ids),
                rules.list_hash(ids),
                o.method,
            )
        o.save(
            update_fields=[
                "state",
                "actual_start",
                "frozen_at",
                "frozen_count",
                "frozen_hash",
                "frozen_method",
                "updated_at",
            ]
        )
        _event(o, "started", by, at=at.isoformat())
        _changed(o, "started")
    return o


def outage_restore_notice(*, by, outage_id: int) -> Outage:
    """The notice before restoring (恢复供气预告): households are told to check their valves; an
    SMS per household with a mobile, sent after the commit."""
    assert_perm(by, Perm.OUTAGE_PLAN)
    with transaction.atomic():
        o = _lock(outage_id, by)
        if o.state != OutageState.STARTED:
            raise DomainError(_("只有停气中的停气单可以发恢复供气预告。"), code="bad_state")
        text = _(
            "【恢复供气预告】%(n)s停气即将恢复供气，请检查燃气阀门是否关闭，恢复后如需点火请拨打%(h)s。"
        ) % {
            "n": o.area or o.number,
            "h": outage_settings(o.company_id).hotline,
        }
        rows = _personal_notices(o, Notice.Purpose.RESTORE, text)
        o.restore_notice_at = timezone.now()
        o.save(update_fields=["restore_notice_at", "updated_at"])
        _event(o, "restore_notice", by, notices=len(rows))
        oid = o.pk
        transaction.on_commit(lambda: notices_send(outage_id=oid))
    return o


def _personal_notices(o: Outage, purpose: str, text: str) -> list[Notice]:
    affected = list(AffectedPremise.objects.filter(outage=o).values_list("id", "customer_id", "building_key"))
    mobiles = _mobiles(o)
    now = _db_time(timezone.now())
    rows = [
        _notice_row(o, purpose, Notice.Channel.SMS, aid, b, mobiles[c], text, now)
        for aid, c, b in affected
        if c in mobiles
    ]
    _insert(Notice, NOTICE_COLUMNS, rows)
    return rows


def outage_restore_step(
    *,
    by,
    outage_id: int,
    at: datetime | None = None,
    buildings: list[str] | None = None,
    note: str = "",
    override_reason: str = "",
    needs_ignition: int = 0,
) -> RestorationStep:
    """Give gas back to some households (the buildings named; all remaining when none): one step
    with its households and time (K1's Aₙ·Tₙ exact). Refused without the notice before restoring,
    and for residential households in the quiet hours (22:00–06:00 by default) unless overridden
    with a reason. The last step restores the interruption (C2's clock stops)."""
    assert_perm(by, Perm.OUTAGE_PLAN)
    at = at or timezone.now()
    with transaction.atomic():
        o = _lock(outage_id, by)
        if o.state != OutageState.STARTED:
            raise DomainError(_("只有停气中的停气单可以恢复供气。"), code="bad_state")
        if o.restore_notice_at is None:
            raise DomainError(_("恢复供气前须先发恢复供气预告。"), code="no_restore_notice")
        if at > timezone.now() or (o.actual_start and at < o.actual_start):
            raise DomainError(_("恢复时间须在实际停气开始之后、不晚于现在。"), field="at")
        remaining = AffectedPremise.objects.filter(outage=o, restored_step__isnull=True)
        if buildings:
            remaining = remaining.filter(building_key__in=buildings)
        ids = list(remaining.values_list("id", flat=True))
        if not ids:
            raise DomainError(_("没有待恢复的用户。"), code="nothing")
        conf = outage_settings(o.company_id)
        residential = remaining.filter(Q(customer__isnull=True) | Q(customer__category__is_residential=True))
        override_reason = (override_reason or "").strip()[:200]
        if (
            rules.in_quiet_hours(
                at, quiet_from=conf.quiet_from, quiet_until=conf.quiet_until, tz=_tz(o.company)
            )
            and residential.exists()
            and not override_reason
        ):
            raise DomainError(
                _("%(a)s至%(b)s不给居民恢复供气；确需恢复请填写理由。")
                % {"a": conf.quiet_from.strftime("%H:%M"), "b": conf.quiet_until.strftime("%H:%M")},
                field="override_reason",
                code="quiet_hours",
            )
        step = RestorationStep.objects.create(
            outage=o,
            at=at,
            households=len(ids),
            note=(note or "")[:200],
            override_reason=override_reason,
            by=by,
            needs_ignition=max(0, min(int(needs_ignition or 0), len(ids))),
        )
        for i in range(0, len(ids), 900):
            AffectedPremise.objects.filter(pk__in=ids[i : i + 900]).update(restored_step=step)
        _event(o, "restore_step", by, households=len(ids), at=at.isoformat(), override=override_reason)
        if not AffectedPremise.objects.filter(outage=o, restored_step__isnull=True).exists():
            o.state, o.restored_at = OutageState.RESTORED, at
            o.save(update_fields=["state", "restored_at", "updated_at"])
            _event(o, "restored", by, at=at.isoformat())
            _changed(o, "restored")
    return step


def outage_link_call(
    *,
    by,
    outage_id: int,
    customer_id: int | None = None,
    premise_id: int | None = None,
    caller_phone: str = "",
    ticket_id: int | None = None,
) -> OutageCall:
    """One click on the desk: the caller's work order is linked to the interruption — an existing
    one, or a new consultation work order with the answer template filled in. Calls per
    interruption are counted; the work orders are answered and closed when supply is back."""
    from kefu.tickets.models import Ticket
    from kefu.tickets.services import ticket_create

    o = Outage.objects.filter(pk=outage_id, company_id=by.company_id).first()
    if o is None:
        raise NotFound(_("没有找到该停气单，或您无权查看。"), code="not_found")
    if ticket_id is None:
        tz = _tz(o.company)
        content = _("来电询问停气：%(n)s %(r)s，自%(s)s起停气，预计%(e)s恢复，已告知。") % {
            "n": o.number,
            "r": o.reason,
            "s": (o.actual_start or o.planned_start).astimezone(tz).strftime("%m-%d %H:%M"),
            "e": o.planned_end.astimezone(tz).strftime("%m-%d %H:%M"),
        }
        result = ticket_create(
            by=by,
            kind="consultation",
            content=content,
            customer_id=customer_id,
            premise_id=premise_id,
            caller_phone=caller_phone,
            on_duplicate="create",
        )
        ticket = result.ticket
    else:
        ticket = Ticket.objects.filter(pk=ticket_id, company_id=by.company_id).first()
        if ticket is None:
            raise NotFound(_("没有找到该工单。"), code="not_found")
    with transaction.atomic():
        call, created = OutageCall.objects.get_or_create(ticket=ticket, defaults={"outage": o, "by": by})
        if created:
            _event(o, "call_linked", by, ticket=ticket.number)
    return call


def outage_answer_calls(*, by, outage_id: int, text: str = "") -> int:
    """Supply is back: every linked open work order gets a reply and is closed, in one action."""
    from kefu.tickets.models import Ticket
    from kefu.tickets.services import ticket_reply, ticket_transition
    from kefu.tickets.states import FINAL_STATES as TICKET_FINAL
    from kefu.tickets.states import TicketState

    assert_perm(by, Perm.OUTAGE_PLAN)
    o = Outage.objects.filter(pk=outage_id, company_id=by.company_id).first()
    if o is None:
        raise NotFound(_("没有找到该停气单，或您无权查看。"), code="not_found")
    if o.state not in (OutageState.RESTORED, OutageState.CLOSED):
        raise DomainError(_("恢复供气后才能统一答复来电。"), code="bad_state")
    text = (text or "").strip() or _("您好，%(a)s已于%(t)s恢复供气，如需上门点火请拨打服务热线。") % {
        "a": o.area or o.number,
        "t": o.restored_at.astimezone(_tz(o.company)).strftime("%m-%d %H:%M"),
    }
    done = 0
    for call in OutageCall.objects.filter(outage=o, answered_at__isnull=True).select_related("ticket"):
        t = call.ticket
        if t.state not in TICKET_FINAL:
            ticket_reply(ticket_id=t.pk, by=by, text=text)
            t = Ticket.objects.get(pk=t.pk)
            if t.state != TicketState.RESOLVED:
                t = ticket_transition(
                    ticket_id=t.pk, by=by, to=TicketState.RESOLVED, version=t.version, reason=text[:200]
                )
            ticket_transition(
                ticket_id=t.pk, by=by, to=TicketState.CLOSED, version=t.version, reason=text[:200]
            )
        OutageCall.objects.filter(pk=call.pk).update(answered_at=timezone.now())
        done += 1
    if done:
        _event(o, "calls_answered", by, count=done)
    return done


def outage_close(*, by, outage_id: int) -> Outage:
    assert_perm(by, Perm.OUTAGE_PLAN)
    with transaction.atomic():
        o = _lock(outage_id, by)
        assert_move(o.state, OutageState.CLOSED, kind=o.kind)
        o.state, o.closed_at = OutageState.CLOSED, timezone.now()
        o.save(update_fields=["state", "closed_at", "updated_at"])
        _event(o, "closed", by)
    return o


def outage_cancel(*, by, outage_id: int, reason: str) -> Outage:
    assert_perm(by, Perm.OUTAGE_PLAN)
    reason = _text(reason, "reason", _("取消原因"), 200)
    with transaction.atomic():
        o = _lock(outage_id, by)
        assert_move(o.state, OutageState.CANCELLED, kind=o.kind)
        o.state = OutageState.CANCELLED
        o.save(update_fields=["state", "updated_at"])
        _event(o, "cancelled", by, reason=reason)
        _changed(o, "cancelled")
    return o


# ---- major faults (P8) ---------------------------------------------------------------------------
REPORT_FIELDS = ("impact", "handling", "cause", "corrective", "preventive", "summary")


def fault_report_write(*, by, outage_id: int, **fields) -> FaultReport:
    """Write (or rewrite, while a draft) the fault-analysis report of a major fault (P8)."""
    assert_perm(by, Perm.OUTAGE_PLAN)
    values = {}
    for f in REPORT_FIELDS:
        values[f] = _text(fields.get(f, ""), f, f, 200 if f == "summary" else 4000)
    with transaction.atomic():
        o = _lock(outage_id, by)
        if not o.major:
            raise DomainError(_("只有重大故障需要故障分析报告。"), code="not_major")
        report = FaultReport.objects.select_for_update().filter(outage=o).first()
        if report is not None and report.status != FaultReport.Status.DRAFT:
            raise Conflict(_("报告已批准，不能再改。"), code="approved")
        if report is None:
            report = FaultReport(outage=o, written_by=by, **values)
        else:
            for k, v in values.items():
                setattr(report, k, v)
            report.written_by, report.written_at = by, timezone.now()
        report.save()
        _event(o, "report_written", by)
    return report


def fault_report_approve(*, by, outage_id: int) -> FaultReport:
    assert_perm(by, Perm.OUTAGE_APPROVE)
    with transaction.atomic():
        o = _lock(outage_id, by)
        report = FaultReport.objects.select_for_update().filter(outage=o).first()
        if report is None or report.status != FaultReport.Status.DRAFT:
            raise DomainError(_("没有待批准的故障分析报告。"), code="bad_state")
        report.status, report.approved_by, report.approved_at = (
            FaultReport.Status.APPROVED,
            by,
            timezone.now(),
        )
        report.save(update_fields=["status", "approved_by", "approved_at"])
        _event(o, "report_approved", by)
    return report


def fault_report_publish(*, by, outage_id: int) -> FaultReport:
    """Publish an approved report to the affected customers: an SMS summary each (the PDF is on
    the public page and the outage page)."""
    assert_perm(by, Perm.OUTAGE_PLAN)
    with transaction.atomic():
        o = _lock(outage_id, by)
        report = FaultReport.objects.select_for_update().filter(outage=o).first()
        if report is None or report.status != FaultReport.Status.APPROVED:
            raise DomainError(_("报告须先批准才能发布。"), code="bad_state")
        rows = _personal_notices(o, Notice.Purpose.REPORT, f"【故障说明】{report.summary}")
        report.status, report.published_at = FaultReport.Status.PUBLISHED, timezone.now()
        report.save(update_fields=["status", "published_at"])
        _event(o, "report_published", by, sms=len(rows))
        oid = o.pk
        transaction.on_commit(lambda: notices_send(outage_id=oid))
    return report


def settings_update(
    *, by, public_page: bool | None = None, quiet_from=None, quiet_until=None, hotline: str | None = None
) -> OutageSettings:
    """The operator switch of the public page, the quiet hours and the hotline."""
    from kefu.accounts.audit import audit_record

    assert_perm(by, Perm.OUTAGE_APPROVE)
    assert_can_write(by, by.company_id)
    with transaction.atomic():
        row = outage_settings(by.company_id)
        if public_page is not None:
            row.public_page = bool(public_page)
        if quiet_from is not None:
            row.quiet_from = quiet_from
        if quiet_until is not None:
            row.quiet_until = quiet_until
        if hotline is not None:
            row.hotline = _text(hotline, "hotline", _("服务热线"), 30)
        row.save()
        audit_record(action="outages.settings", obj=row, actor=by, detail={"public_page": row.public_page})
    return row
