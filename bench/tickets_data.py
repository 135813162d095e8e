"""Shared set-up of the work-order benchmarks: a company with agents and N stored work orders.

The stored work orders are bulk-inserted (not through the service, which would take hours at
10 million): realistic numbers, kinds, states (≈ 8 % open), owners, phones, addresses and Chinese
content spread over the last two years. They have no timeline rows; the create benchmark measures
the full write path (service, event, counter) on top of them.
"""
from __future__ import annotations

import os
import random
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from datetime import timezone as dt_timezone

COMPANY_CODE = "bench-tk"
AGENTS = 60
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
PLACES = ["幸福小区", "泰山花园", "岱宗苑", "东岳小区", "南关新村", "财源街道家属院", "天平湖畔", "北集坡社区"]
PROBLEMS = [
    "燃气表不走字，屏幕无显示", "厨房有燃气味，担心漏气", "咨询开户需要带什么材料", "IC卡插入后不能读卡",
    "燃气表需要更换电池", "热水器打不着火", "小区停气什么时候恢复", "投诉维修人员上门迟到", "表扬安检员服务热情",
    "建议增加营业厅周末开放时间", "预约上门安检", "灶具需要安装", "管道外漏有异味", "阶梯气价如何计算", "补办IC卡",
]
KIND_WEIGHTS = [("consultation", 40), ("repair", 20), ("meter_card", 12), ("complaint", 6), ("emergency", 4),
                ("installation", 5), ("inspection_appointment", 5), ("appliance", 4), ("suggestion", 2), ("praise", 2)]


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("KEFU_DEBUG", "0")
    import django

    django.setup()


def ensure_company():
    """The benchmark company, its agents (and a technician) and the standard taxonomy."""
    from kefu.accounts.models import Company, Department, User
    from kefu.tickets.taxonomy import kinds_for

    company, _ = Company.objects.get_or_create(
        code=COMPANY_CODE, defaults={"name": "基准测试燃气公司", "short_name": "基准燃气", "area_code": "0538"}
    )
    dept, _ = Department.objects.get_or_create(company=company, code="repair", defaults={"name": "维修部", "kind": "repair"})
    agents = list(User.objects.filter(company=company, role="agent").order_by("pk"))
    for i in range(len(agents), AGENTS):
        u = User(company=company, username=f"bench-tk-agent{i}", employee_no=f"BT{i:04d}", full_name=f"坐席{i}", role="agent")
        u.set_unusable_password()
        u.save()
        agents.append(u)
    kinds_for(company)
    return company, agents, dept


def stored(company) -> int:
    from kefu.tickets.models import Ticket

    return Ticket.objects.filter(company=company).count()


def fill(company, agents, target: int, *, seed: int = 1, batch: int = 5000, log=None) -> float:
    """Insert work orders until the company has `target`; returns the seconds it took."""
    from django.db import transaction
    from django.utils import timezone

    from kefu.tickets.models import Ticket, TicketKind, TicketNumberCounter

    have = stored(company)
    if have >= target:
        return 0.0
    rnd = random.Random(seed + have)
    kinds = {k.code: k for k in TicketKind.objects.filter(company=company)}
    codes = [c for c, _w in KIND_WEIGHTS]
    weights = [w for _c, w in KIND_WEIGHTS]
    now = timezone.now()
    span_days = 730
    per_day = max(target // span_days, 1)
    started = time.perf_counter()
    n = have
    # Numbers: day d (counting back from yesterday) holds sequence 1..per_day+; continue where we stopped.
    while n < target:
        rows = []
        for j in range(min(batch, target - n)):
            day_index, seq = divmod(n + j, per_day)
            day = (now - timedelta(days=day_index % span_days + 1)).date()  # UTC date, always before today
            received = datetime.combine(day, dtime(0), tzinfo=dt_timezone.utc) + timedelta(seconds=rnd.randrange(0, 86400))
            seq += 1 + per_day * (day_index // span_days)
            kind = kinds[rnd.choices(codes, weights)[0]]
            r = rnd.random()
            state = ("closed" if r < 0.88 else "resolved" if r < 0.92 else "cancelled" if r < 0.93 else
                     rnd.choice(["new", "assigned", "in_progress", "on_hold"]))
            owner = agents[rnd.randrange(len(agents))]
            place = rnd.choice(PLACES)
            rows.append(Ticket(
                company=company, number=f"GD{day:%Y%m%d}-{seq:04d}", kind=kind, channel="hotline",
                severity="major" if kind.code == "emergency" else "general", state=state,
                caller_surname=rnd.choice(SURNAMES), caller_title=rnd.choice(["mr", "ms"]),
                caller_phone=f"1{rnd.choice('35789')}{rnd.randrange(10**9):09d}",
                address=f"{place}{rnd.randint(1, 40)}号楼{rnd.randint(1, 4)}单元{rnd.randint(1, 18)}0{rnd.randint(1, 2)}室",
                content=f"{rnd.choice(PROBLEMS)}，{rnd.choice(PROBLEMS)}（编号{rnd.randrange(10**6):06d}）",
                received_at=received, owner=owner, created_by=owner, created_at=received, updated_at=received,
                resolved_at=received + timedelta(hours=2) if state in ("resolved", "closed") else None,
                closed_at=received + timedelta(days=1) if state in ("closed", "cancelled") else None,
            ))
        with transaction.atomic():
            Ticket.objects.bulk_create(rows, batch_size=batch)
        n += len(rows)
        if log:
            log(f"stored {n}/{target} ({time.perf_counter() - started:.0f}s)")
    # The create benchmark numbers today's orders; stored orders are all in the past.
    TicketNumberCounter.objects.filter(company=company).delete()
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE tickets_ticket")
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return time.perf_counter() - started


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(int(-(-pct * len(ordered) // 100)) - 1, 0)
    return ordered[min(k, len(ordered) - 1)]


def summary(ms: list[float]) -> dict:
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2) if ms else 0.0,
    }
