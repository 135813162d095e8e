"""Demo data of household inspections for `kefu demo` (step 45, after the field's crews): this
year's programme for every demo customer, the hazard catalogue, a registered water heater for some
households, a batch for today in the largest community for an inspector with the inspection skill,
and visits through the real services — completed ones, nobody home (the ladder started), a refusal,
hazards (one rectified and waiting for its re-check)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.core.errors import DomainError
from kefu.field.models import Technician
from kefu.inspections import rules, services
from kefu.inspections.models import LedgerEntry, Programme


def build_demo_inspections(company) -> int:
    """Build the inspection demo of `company` (skips when a programme exists). Returns the number
    of visits recorded."""
    today = services.local_today(company)
    if Programme.objects.filter(company=company, year=today.year).exists():
        return 0
    planner = (
        User.objects.filter(company=company, role__in=[Role.TEAM_LEAD, Role.SUPERVISOR], is_active=True)
        .order_by("role", "id")
        .first()
    )
    inspectors = [
        t for t in Technician.objects.filter(company=company, is_active=True) if "inspection" in t.skills
    ]
    if planner is None or not inspectors:
        return 0
    services.settings_for(company)
    services.hazard_types_seed(company)
    services.programme_generate(by=planner, year=today.year)
    top = (
        LedgerEntry.objects.filter(company=company, programme__year=today.year, kind="household")
        .exclude(community="")
        .values("community")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if top is None:
        return 0
    batch = services.batch_create(
        by=planner,
        year=today.year,
        community=top["community"],
        buildings=[],
        inspector_id=inspectors[0].pk,
        first_day=today,
        last_day=today + timedelta(days=2),
    )
    rows = list(LedgerEntry.objects.filter(batch=batch).select_related("customer").order_by("id")[:12])
    for e in rows[::3]:
        services.appliance_register(by=planner, customer_id=e.customer_id, kind="燃气热水器", model="JSQ24")
    user = inspectors[0].user
    checklist = {c["code"]: "pass" for c in rules.DEFAULT_CHECKLIST}
    made = 0
    plan = [
        "done",
        "done",
        "nobody_home",
        "hazard",
        "refused",
        "done",
        "nobody_home",
        "hazard_major",
        "vacant",
    ]
    for i, (e, what) in enumerate(zip(rows, plan, strict=False)):
        data = services.VisitInput(client_id=f"demo-insp-{e.pk}", outcome="done", checklist=dict(checklist))
        data.signed_by, data.advice_given, data.meter_reading = e.customer.name, True, str(1000 + 37 * i)
        data.appliances_checked = True
        if what == "nobody_home":
            data = services.VisitInput(client_id=data.client_id, outcome="nobody_home", door_notice=True)
        elif what == "refused":
            data = services.VisitInput(
                client_id=data.client_id, outcome="refused", reason="户主称近期已自检，拒绝入户"
            )
        elif what == "vacant":
            data = services.VisitInput(
                client_id=data.client_id, outcome="vacant", reason="房屋出售中，无人居住"
            )
        elif what == "hazard":
            data.checklist["hose"] = "fail"
            data.hazards = [services.HazardInput(type_code="hose_aged", description="胶管龟裂，已超过18个月")]
        elif what == "hazard_major":
            data.checklist["leak_joints"] = "fail"
            data.hazards = [
                services.HazardInput(type_code="leak", description="表前阀接口漏气", shut_off=True)
            ]
        try:
            visit, _created = services.visit_submit(by=user, entry_id=e.pk, data=data)
            made += 1
        except DomainError:
            continue
        if what == "hazard":
            h = visit.hazards.first()
            services.hazard_notice_sign(by=user, hazard_id=h.pk, signed_by=e.customer.name)
            services.hazard_rectify(by=user, hazard_id=h.pk, how="customer", note="已更换金属波纹管")
    Programme.objects.filter(company=company, year=today.year).update(synced_at=timezone.now())
    return made


def demo_step(run) -> None:
    """`kefu demo`, step 45 (kefu.core.demo)."""
    made = build_demo_inspections(run.company)
    run.summary.append(f"入户安检 {made} 户次")
