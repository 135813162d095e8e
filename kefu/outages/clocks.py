"""Commitment clocks on supply interruptions (C1, C2): the subject adapter of "outages.outage"
(kefu.sla.subjects), how interruption facts become clock events, the listener and the catch-up.

| outage fact | clock events |
|---|---|
| planned stop approved | `outage.planned_start` at the planned start: C1 (notice lead) starts, |
| | due = planned start − 48 h (it counts backwards) |
| planned start changed | the open C1 clock is cancelled; a new one starts at the new planned start |
| every household covered | `outage.notified` when the last household had a delivered SMS or its |
| | building's notice posted: C1 met, or met after breach |
| gas off (actual start) | `outage.started`: C2 (restored within 24 h) starts |
| last restoration step | `outage.restored` at that step's time: C2 met |
| cancelled | open clocks cancelled |

Emergency repairs and force majeure get no clocks (the standard excludes them from C1 and C2);
their interruptions still count in K1. Everything is re-derived from the outage row by one
idempotent function (`outage_clocks_sync`), which the listener and the sweep's catch-up call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from kefu.core.errors import NotFound
from kefu.outages.facts import OutageChanged
from kefu.outages.models import Outage
from kefu.outages.states import OutageKind, OutageState
from kefu.sla.codes import Event as ClockEvent
from kefu.sla.models import Clock, ClockKind
from kefu.sla.selectors import commitment_set_in_force
from kefu.sla.services import clock_cancel, clocks_on_event
from kefu.sla.states import OPEN_STATES
from kefu.sla.subjects import CatchUpResult, SubjectInfo

logger = logging.getLogger("kefu.sla")

SUBJECT_TYPE = "outages.outage"
CATCH_UP_LOOKBACK = timedelta(days=14)


def outage_attrs(outage) -> dict[str, str]:
    return {"kind": "", "sub_kind": "", "customer_category": "", "severity": "", "channel": ""}


def _clocks(outage_id: int, kind: str) -> list[Clock]:
    return list(
        Clock.objects.filter(subject_type=SUBJECT_TYPE, subject_id=str(outage_id), clock_kind=kind).order_by(
            "id"
        )
    )


def _emit(o: Outage, event: str, at: datetime) -> None:
    clocks_on_event(
        company=o.company,
        subject_type=SUBJECT_TYPE,
        subject_id=str(o.pk),
        event=event,
        at=at,
        commitment_set=commitment_set_in_force(o.company, o.approved_at or o.created_at),
        attrs=outage_attrs(o),
    )


def outage_clocks_sync(outage_id: int) -> bool:
    """Bring the interruption's clocks to its facts (idempotent). Returns whether anything changed."""
    o = Outage.objects.select_related("company").filter(pk=outage_id).first()
    if o is None:
        return False
    changed = False
    with transaction.atomic():
        c1 = _clocks(o.pk, ClockKind.NOTICE_LEAD)
        c2 = [
            c
            for c in Clock.objects.filter(subject_type=SUBJECT_TYPE, subject_id=str(o.pk))
            if c.clock_kind != ClockKind.NOTICE_LEAD
        ]
        if o.state == OutageState.CANCELLED or o.kind != OutageKind.PLANNED:
            for c in c1 + c2:
                if c.state in OPEN_STATES:
                    clock_cancel(clock=c, at=o.updated_at)
                    changed = True
            return changed
        if o.approved_at is not None:
            current = [c for c in c1 if c.started_at == o.planned_start and c.state != "cancelled"]
            for c in c1:  # a moved start: the old C1 clock is not measured any more
                if c.state in OPEN_STATES and c.started_at != o.planned_start:
                    clock_cancel(clock=c, at=o.updated_at)
                    changed = True
            if not current:
                _emit(o, ClockEvent.OUTAGE_PLANNED_START, o.planned_start)
                changed = True
            if o.notices_complete_at is not None and any(
                c.state in OPEN_STATES for c in _clocks(o.pk, ClockKind.NOTICE_LEAD)
            ):
                _emit(o, ClockEvent.OUTAGE_NOTIFIED, o.notices_complete_at)
                changed = True
        if o.actual_start is not None:
            if not c2:
                _emit(o, ClockEvent.OUTAGE_STARTED, o.actual_start)
                changed = True
            if o.restored_at is not None and any(
                c.state in OPEN_STATES
                for c in Clock.objects.filter(subject_type=SUBJECT_TYPE, subject_id=str(o.pk)).exclude(
                    clock_kind=ClockKind.NOTICE_LEAD
                )
            ):
                _emit(o, ClockEvent.OUTAGE_RESTORED, o.restored_at)
                changed = True
    return changed


def on_outage_changed(event: OutageChanged) -> None:
    """Re-derive the clocks (catch-up: outages_with_clocks_behind)."""
    outage_clocks_sync(event.outage_id)


def outages_with_clocks_behind(*, now: datetime, limit: int = 500) -> list[int]:
    """Planned interruptions changed in the last two weeks (approved, or cancelled) — the sync is
    cheap and idempotent, so the catch-up simply re-derives them."""
    return list(
        Outage.objects.filter(kind=OutageKind.PLANNED, updated_at__gte=now - CATCH_UP_LOOKBACK)
        .exclude(approved_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


class OutageClocks:
    """The adapter of supply interruptions: subject type "outages.outage", subject id the pk."""

    subject_type = SUBJECT_TYPE
    api_segment = "outages"  # GET /api/v1/sla/outages/{id}/clocks
    model_label = "outages.outage"

    def attrs(self, subject) -> dict[str, str]:
        return outage_attrs(subject)

    def attribute_choices(self) -> dict[str, list[tuple[str, str]]]:
        return {}

    def describe(self, subject_ids: Iterable[str]) -> dict[str, SubjectInfo]:
        pks = [int(i) for i in subject_ids if str(i).isdigit()]
        rows = Outage.objects.filter(pk__in=pks).values(
            "id",
            "number",
            "created_by_id",
            "created_by__department_id",
            "created_by__team_id",
            "created_by__full_name",
        )
        return {
            str(r["id"]): SubjectInfo(
                label=_("停气 %(n)s") % {"n": r["number"]},
                reference=r["number"],
                url=f"/outages/{r['id']}/",
                owner_name=r["created_by__full_name"] or "",
                warn_user_ids=(r["created_by_id"],),
                team_id=r["created_by__team_id"],
                department_id=r["created_by__department_id"],
            )
            for r in rows
        }

    def visible_ids(self, user, *, team_id: int | None = None) -> QuerySet:
        from kefu.outages.selectors import outages_visible

        qs = outages_visible(user)
        if team_id is not None:
            qs = qs.filter(created_by__team_id=team_id)
        return qs.annotate(sid=Cast("pk", output_field=CharField())).values("sid")

    def assert_visible(self, user, subject_id: str) -> None:
        from kefu.outages.selectors import outage_get

        if not str(subject_id).isdigit():
            raise NotFound(_("没有找到该停气单，或您无权查看。"), code="not_found")
        outage_get(user=user, outage_id=int(subject_id))

    def catch_up(self, *, now: datetime, limit: int) -> CatchUpResult:
        result = CatchUpResult()
        for oid in outages_with_clocks_behind(now=now, limit=limit):
            try:
                if outage_clocks_sync(oid):
                    result.repaired += 1
            except Exception as exc:  # one bad outage must not stop the sweep
                logger.exception("catching up the clocks of outage %s failed", oid)
                result.errors.append(f"outage {oid}: {exc}")
        return result


outage_clocks = OutageClocks()


def register() -> None:
    """Register the adapter and the listener (OutagesConfig.ready)."""
    from kefu.core.events import subscribe
    from kefu.sla.subjects import register_subject

    register_subject(outage_clocks)
    subscribe(OutageChanged, on_outage_changed, catch_up=outages_with_clocks_behind)
