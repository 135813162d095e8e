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
SPAN_DAYS = 730  # stored work orders spread over the last two years
AGENTS = 60
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)
PLACES = [
    "幸福小区",
    "泰山花园",
    "岱宗苑",
    "东岳小区",
    "南关新村",
    "财源街道家属院",
    "天平湖畔",
    "北集坡社区",
]
PROBLEMS = [
    "燃气表不走字，屏幕无显示",
    "厨房有燃气味，担心漏气",
    "咨询开户需要带什么材料",
    "IC卡插入后不能读卡",
    "燃气表需要更换电池",
    "热水器打不着火",
    "小区停气什么时候恢复",
    "投诉维修人员上门迟到",
    "表扬安检员服务热情",
    "建议增加营业厅周末开放时间",
    "预约上门安检",
    "灶具需要安装",
    "管道外漏有异味",
    "阶梯气价如何计算",
    "补办IC卡",
]
KIND_WEIGHTS = [
    ("consultation", 40),
    ("repair", 20),
    ("meter_card", 12),
    ("complaint", 6),
    ("emergency", 4),
    ("installation", 5),
    ("inspection_appointment", 5),
    ("appliance", 4),
    ("suggestion", 2),
    ("praise", 2),
]


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
        code=COMPANY_CODE,
        defaults={"name": "基准测试燃气公司", "short_name": "基准燃气", "area_code": "0538"},
    )
    dept, _ = Department.objects.get_or_create(
        company=company, code="repair", defaults={"name": "维修部", "kind": "repair"}
    )
    agents = list(User.objects.filter(company=company, role="agent").order_by("pk"))
    for i in range(len(agents), AGENTS):
        u = User(
            company=company,
            username=f"bench-tk-agent{i}",
            employee_no=f"BT{i:04d}",
            full_name=f"坐席{i}",
            role="agent",
        )
        u.set_unusable_password()
        u.save()
        agents.append(u)
    kinds_for(company)
    return company, agents, dept


def stored(company) -> int:
    from kefu.tickets.models import Ticket

    return Ticket.objects.filter(company=company).count()


def _rows(company, agents, kinds, *, start: int, count: int, last_day, rnd):
    """`count` stored work orders as {column: value}, numbered from position `start` on.

    Numbers: position i is day `last_day - i % SPAN_DAYS`, sequence `i // SPAN_DAYS + 1`, so every
    position has its own number whatever the target, and a resumed fill (same `last_day`: the
    newest filled day) continues where the last one stopped.
    """
    codes = [c for c, _w in KIND_WEIGHTS]
    weights = [w for _c, w in KIND_WEIGHTS]
    for i in range(start, start + count):
        day = last_day - timedelta(days=i % SPAN_DAYS)  # UTC date, before the first fill's day
        received = datetime.combine(day, dtime(0), tzinfo=dt_timezone.utc) + timedelta(
            seconds=rnd.randrange(0, 86400)
        )
        seq = i // SPAN_DAYS + 1
        kind = kinds[rnd.choices(codes, weights)[0]]
        r = rnd.random()
        state = (
            "closed"
            if r < 0.88
            else "resolved"
            if r < 0.92
            else "cancelled"
            if r < 0.93
            else rnd.choice(["new", "assigned", "in_progress", "on_hold"])
        )
        owner = agents[rnd.randrange(len(agents))].pk
        place = rnd.choice(PLACES)
        yield {
            "company_id": company.pk,
            "number": f"GD{day:%Y%m%d}-{seq:04d}",
            "kind_id": kind.pk,
            "channel": "hotline",
            "severity": "major" if kind.code == "emergency" else "general",
            "state": state,
            "caller_surname": rnd.choice(SURNAMES),
            "caller_title": rnd.choice(["mr", "ms"]),
            "caller_phone": f"1{rnd.choice('35789')}{rnd.randrange(10**9):09d}",
            "address": f"{place}{rnd.randint(1, 40)}号楼{rnd.randint(1, 4)}单元{rnd.randint(1, 18)}0{rnd.randint(1, 2)}室",
            "content": f"{rnd.choice(PROBLEMS)}，{rnd.choice(PROBLEMS)}（编号{rnd.randrange(10**6):06d}）",
            "received_at": received,
            "owner_id": owner,
            "created_by_id": owner,
            "created_at": received,
            "updated_at": received,
            "resolved_at": received + timedelta(hours=2) if state in ("resolved", "closed") else None,
            "closed_at": received + timedelta(days=1) if state in ("closed", "cancelled") else None,
        }


def _secondary_indexes(cur) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the work-order table's non-unique indexes (PostgreSQL)."""
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = 'tickets_ticket' AND indexdef NOT LIKE 'CREATE UNIQUE%%'"
    )
    return list(cur.fetchall())


def fill(company, agents, target: int, *, seed: int = 1, batch: int = 5000, log=None) -> float:
    """Insert work orders until the company has `target`; returns the seconds it took.

    SQLite: prepared INSERTs (executemany), so the content-search triggers of migration 0003 run
    as for any insert. PostgreSQL: `COPY … FROM STDIN`; when adding 500,000 rows or more outside a
    transaction the secondary indexes (trigram GIN included) are dropped first and built again at
    the end, which is several times faster than maintaining them row by row.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from kefu.tickets.models import Ticket, TicketKind

    have = stored(company)
    if have >= target:
        return 0.0
    # Fill positions count only the rows a fill made: the create benchmark's work orders (they carry
    # an idempotency key and today's numbers) must not shift the numbering of the next fill.
    filled_rows = Ticket.objects.filter(company=company, idempotency_key="")
    filled = filled_rows.count()
    newest = filled_rows.order_by("-received_at").values_list("received_at", flat=True).first()
    rnd = random.Random(seed + filled)
    kinds = {k.code: k for k in TicketKind.objects.filter(company=company)}
    last_day = (
        newest.astimezone(dt_timezone.utc).date() if newest else (timezone.now() - timedelta(days=1)).date()
    )
    started = time.perf_counter()
    pg = connection.vendor == "postgresql"
    fields = [f for f in Ticket._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: (None if f.null and not f.has_default() else f.get_default()) for f in fields}
    columns = [f.column for f in fields]
    insert_sql = (
        f"INSERT INTO tickets_ticket ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    )
    dropped: list[tuple[str, str]] = []
    if pg and target - have >= 500_000 and not connection.in_atomic_block:
        with connection.cursor() as cur:
            dropped = _secondary_indexes(cur)
            for name, _sql in dropped:
                cur.execute(f'DROP INDEX IF EXISTS "{name}"')
        if log:
            log(f"dropped {len(dropped)} secondary indexes for the bulk load")
    try:
        n, end = filled, filled + (target - have)
        while n < end:
            count = min(batch, end - n)
            rows = _rows(company, agents, kinds, start=n, count=count, last_day=last_day, rnd=rnd)
            with transaction.atomic():
                if pg:
                    with connection.cursor() as cur:
                        with cur.cursor.copy(
                            f"COPY tickets_ticket ({', '.join(columns)}) FROM STDIN"
                        ) as copy:
                            for row in rows:
                                merged = defaults | row
                                copy.write_row([merged[f.attname] for f in fields])
                else:
                    prepped = [
                        [f.get_db_prep_save(merged[f.attname], connection) for f in fields]
                        for merged in (defaults | row for row in rows)
                    ]
                    with connection.cursor() as cur:
                        cur.executemany(insert_sql, prepped)
            n += count
            if log and ((n // batch) % 20 == 0 or n == end):
                log(f"stored {have + n - filled}/{target} ({time.perf_counter() - started:.0f}s)")
    finally:
        if dropped:
            with connection.cursor() as cur:
                cur.execute("SET maintenance_work_mem = '1GB'")
                for name, sql in dropped:
                    t0 = time.perf_counter()
                    cur.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
                    if log:
                        log(f"index {name} built ({time.perf_counter() - t0:.0f}s)")
                cur.execute("RESET maintenance_work_mem")
    # Stored orders are all in the past; today's counter (the create benchmark's numbers) is kept.
    with connection.cursor() as cur:
        if pg and not connection.in_atomic_block:
            cur.execute("VACUUM ANALYZE tickets_ticket")  # visibility map: index-only scans for the counts
        else:
            cur.execute("ANALYZE tickets_ticket" if pg else "ANALYZE")
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
