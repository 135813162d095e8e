"""The outages step of `kefu demo` (kefu.core.demo), made through the same services the staff use:

- the pipe network of the demo's first community (a regulator station, a valve and a service
  connection per building, with coordinates for the map), imported as a GIS CSV export;
- a planned stop next week, its area found by the valve-closure analysis of a damaged pipe,
  approved by the manager, notices sent (the console SMS gateway delivers at once) and half the
  buildings' printed notices posted;
- an emergency repair in progress in a second community, a major fault (P8), with calls linked
  from the desk;
- the public page switched on.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.core.demo import DemoRun
from kefu.customers.models import Customer, Premise
from kefu.outages import services
from kefu.outages.models import Notice, Outage
from kefu.outages.network_import import network_import


def _user(company, role):
    return User.objects.filter(company=company, role=role, is_active=True).order_by("id").first()


def _network_csv(company) -> tuple[str, str, str] | None:
    """nodes.csv and edges.csv of the first community (a trunk along its buildings), and a pipe."""
    community = (
        Premise.objects.filter(company=company)
        .exclude(community="")
        .order_by("id")
        .values_list("community", flat=True)
        .first()
    )
    if not community:
        return None
    buildings: dict[str, list[str]] = {}
    for bld, acc in Customer.objects.filter(company=company, premise__community=community).values_list(
        "premise__building", "account_no"
    ):
        buildings.setdefault(bld or "0", []).append(acc)
    nodes = [
        "id,kind,name,lon,lat,accounts",
        f"RS,regulator,{community}调压站,117.100,36.200,",
        "V0,valve,总阀,117.102,36.200,",
    ]
    edges = ["id,from,to", "P0,RS,V0"]
    prev = "V0"
    for i, (bld, accs) in enumerate(sorted(buildings.items(), key=lambda kv: kv[0].zfill(4)), start=1):
        x = 117.100 + 0.004 * i
        nodes.append(f"J{i},junction,,{x:.3f},36.200,")
        nodes.append(f"V{i},valve,{bld}号楼阀门,{x:.3f},36.201,")
        nodes.append(f"H{i},service,{community}{bld}号楼,{x:.3f},36.203,{';'.join(accs)}")
        edges += [f"T{i},{prev},J{i}", f"B{i},J{i},V{i}", f"S{i},V{i},H{i}"]
        prev = f"J{i}"
        if i % 3 == 0:  # a section valve on the trunk every three buildings
            nodes.append(f"W{i},valve,干管阀{i},{x + 0.002:.3f},36.200,")
            edges.append(f"X{i},J{i},W{i}")
            prev = f"W{i}"
    # a damaged trunk pipe behind the first section valve: the buildings after it lose gas
    return "\n".join(nodes) + "\n", "\n".join(edges) + "\n", "T4" if len(buildings) >= 4 else "T1"


def build_demo_outages(company) -> int:
    if Outage.objects.filter(company=company).exists():
        return 0
    dispatcher, manager = _user(company, Role.DISPATCHER), _user(company, Role.MANAGER)
    technician, agent = _user(company, Role.TECHNICIAN), _user(company, Role.AGENT)
    if not (dispatcher and manager):
        return 0
    services.settings_update(by=manager, public_page=True)
    made = 0
    csv = _network_csv(company)
    now = timezone.now()
    if csv is not None:
        nodes, edges, pipe = csv
        network_import(by=dispatcher, fmt="csv", nodes=nodes, edges=edges)
        start = (now + timedelta(days=6)).replace(hour=1, minute=0, second=0, microsecond=0)  # 09:00 Shanghai
        o = services.outage_create(
            by=dispatcher,
            kind="planned",
            reason="庭院管网改造（更换老旧钢管）",
            area="首个小区部分楼栋",
            planned_start=start,
            planned_end=start + timedelta(hours=8),
        )
        services.outage_set_affected(
            by=dispatcher, outage_id=o.pk, method="network", selection={"pipe": pipe}
        )
        services.outage_approve(by=manager, outage_id=o.pk)
        services.outage_notify(by=dispatcher, outage_id=o.pk)
        services.notices_send(outage_id=o.pk)
        posted = list(Notice.objects.filter(outage=o, channel="posted").order_by("building_key"))
        for n in posted[: len(posted) // 2]:
            services.notice_mark_posted(by=technician or dispatcher, notice_id=n.pk)
        made += 1
    zones = list(
        Premise.objects.filter(company=company)
        .exclude(community="")
        .values_list("community", flat=True)
        .distinct()[:2]
    )
    if len(zones) == 2:
        e = services.outage_create(
            by=dispatcher,
            kind="emergency",
            reason="中压管道被第三方施工挖断",
            area=zones[1],
            planned_start=now - timedelta(hours=3),
            planned_end=now + timedelta(hours=5),
            major=True,
        )
        services.outage_set_affected(
            by=dispatcher, outage_id=e.pk, method="address", selection={"communities": [zones[1]]}
        )
        services.outage_start(by=dispatcher, outage_id=e.pk, at=now - timedelta(hours=3))
        services.outage_notify(by=dispatcher, outage_id=e.pk)
        services.notices_send(outage_id=e.pk)
        callers = Customer.objects.filter(company=company, premise__community=zones[1]).order_by("id")[:3]
        for c in callers:
            services.outage_link_call(by=agent or dispatcher, outage_id=e.pk, customer_id=c.pk)
        made += 1
    return made


def demo_step(run: DemoRun) -> None:
    """`kefu demo`, step 40: a planned stop with notices and an emergency repair with calls."""
    made = build_demo_outages(run.company)
    if made:
        run.summary.append(f"停气 {made} 起")
