"""Data for the outage benchmarks: a bench company with N premises and customers (a mobile each),
and a pipe network of about 60,000 segments whose service connections feed those premises.

The network is a 100 × 100 mesh of junctions fed from four regulator stations at the corners; four
mesh pipes in five carry a valve; 20,000 service connections hang off the junctions, one in five
behind its own valve, each feeding N / 20,000 premises (≈ 59,600 pipe segments in all). Made once
per database and reused.
"""

from __future__ import annotations

import os
import random

COMPANY_CODE = "bench-outages"
GRID = 100
SERVICES = 20_000


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("KEFU_DEBUG", "0")
    import django

    django.setup()


def ensure(n_premises: int = 200_000, *, seed: int = 1, log=print):
    """The bench company (created with its data when missing) and its dispatcher and manager."""
    from kefu.accounts.models import Company, User
    from kefu.customers.defaults import company_seed_defaults
    from kefu.customers.models import Customer, CustomerCategory, Phone, Premise

    company, _ = Company.objects.get_or_create(
        code=COMPANY_CODE,
        defaults={"name": "停气基准燃气公司", "short_name": "停气基准", "area_code": "0538"},
    )
    company_seed_defaults(company)
    users = {}
    for role in ("dispatcher", "manager", "technician"):
        u = User.objects.filter(company=company, role=role).first()
        if u is None:
            u = User(company=company, username=f"bench-out-{role}", full_name=role, role=role)
            u.set_unusable_password()
            u.save()
        users[role] = u
    have = Premise.objects.filter(company=company).count()
    if have != n_premises:
        if have:
            raise SystemExit(f"bench company holds {have} premises, not {n_premises}: use a fresh database")
        cat = CustomerCategory.objects.get(company=company, code="resident")
        rnd = random.Random(seed)
        batch = 10_000
        for start in range(0, n_premises, batch):
            count = min(batch, n_premises - start)
            premises = Premise.objects.bulk_create(
                [
                    Premise(
                        company=company,
                        community=f"小区{(start + i) // 2000:03d}",
                        building=str(((start + i) // 40) % 50 + 1),
                        unit="1",
                        room=str((start + i) % 40 + 101),
                        address=f"基准路小区{(start + i) // 2000:03d}",
                        supply_zone=f"Z{(start + i) * 8 // n_premises}",
                    )
                    for i in range(count)
                ]
            )
            if not premises[0].pk:  # SQLite before 3.35 returns no ids
                premises = list(Premise.objects.filter(company=company).order_by("-id")[:count])[::-1]
            customers = Customer.objects.bulk_create(
                [
                    Customer(
                        company=company, account_no=f"B{start + i:07d}", name="用户", category=cat, premise=p
                    )
                    for i, p in enumerate(premises)
                ]
            )
            Phone.objects.bulk_create(
                [
                    Phone(customer=c, number=f"139{rnd.randrange(10**8):08d}", kind="mobile", is_primary=True)
                    for c in customers
                ]
            )
            log(f"premises {start + count}/{n_premises}")
        _network(company, users["dispatcher"], log=log)
    return company, users


def _network(company, dispatcher, *, log=print) -> None:
    """Write the mesh through the real importer (CSV text), so it is validated like a GIS file."""
    from kefu.customers.models import Customer
    from kefu.outages.network_import import network_import

    accounts = list(
        Customer.objects.filter(company=company).order_by("id").values_list("account_no", flat=True)
    )
    per = max(1, len(accounts) // SERVICES)
    nodes = ["id,kind,name,lon,lat,accounts"]
    edges = ["id,from,to"]
    for x in range(GRID):
        for y in range(GRID):
            nodes.append(f"J{x}_{y},junction,,{117 + x / 1000:.4f},{36 + y / 1000:.4f},")
    for i, (x, y) in enumerate([(0, 0), (0, GRID - 1), (GRID - 1, 0), (GRID - 1, GRID - 1)]):
        nodes.append(f"RS{i},regulator,,,,")
        edges.append(f"R{i},RS{i},J{x}_{y}")
    k = 0
    for x in range(GRID):
        for y in range(GRID):
            for nx_, ny_ in ((x + 1, y), (x, y + 1)):
                if nx_ >= GRID or ny_ >= GRID:
                    continue
                k += 1
                a, b = f"J{x}_{y}", f"J{nx_}_{ny_}"
                if k % 5:
                    nodes.append(f"V{k},valve,,,,")
                    edges += [f"M{k}a,{a},V{k}", f"M{k}b,V{k},{b}"]
                else:
                    edges.append(f"M{k},{a},{b}")
    rnd = random.Random(7)
    for s in range(SERVICES):
        j = f"J{rnd.randrange(GRID)}_{rnd.randrange(GRID)}"
        accs = ";".join(accounts[s * per : (s + 1) * per])
        nodes.append(f"H{s},service,,,,{accs}")
        if s % 5 == 0:
            nodes.append(f"SV{s},valve,,,,")
            edges += [f"L{s}a,{j},SV{s}", f"L{s}b,SV{s},H{s}"]
        else:
            edges.append(f"L{s},{j},H{s}")
    run = network_import(
        by=dispatcher, fmt="csv", nodes="\n".join(nodes) + "\n", edges="\n".join(edges) + "\n"
    )
    if not run.ok:
        raise SystemExit(f"bench network refused: {run.errors[:3]}")
    log(f"network: {run.nodes} nodes, {run.edges} pipe segments, {run.premises} premises")
