"""The demo city: a realistic gas company in 泰安 to try kefu and to benchmark it.

`build_demo(customers=5000, seed=1)` creates 泰安安泰燃气有限公司 (area code 0538) with its
departments and teams, one user of every role, districts → streets → communities (小区) with
buildings, units and rooms, a supply zone per street, customers by category in realistic
proportions (≈95 % residential), one or two phones, a meter, about 2 % in the special-care
registry (C7, with consent), some suspended and closed customers with their status history; and a
second company with a few customers, to show that nobody sees another company's data (S2).

Deterministic: the same seed gives the same account numbers, names and addresses. Customers are
written by the importer's bulk writer (`CustomerBulkWriter`), so a million take under a minute.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import Company, CompanyGroup, Department, Team, User
from kefu.accounts.roles import Role
from kefu.core.demo import DemoRefused, DemoRun
from kefu.customers.defaults import company_seed_defaults
from kefu.customers.importing.bulk import (
    CareData,
    CustomerBulkWriter,
    CustomerData,
    MeterData,
    PremiseData,
    WriteCounts,
)
from kefu.customers.models import (
    BillingImport,
    BillingSnapshot,
    CareRegistration,
    Customer,
    CustomerCategory,
    CustomerStatusChange,
    ImportRun,
    Meter,
    Phone,
    Premise,
)

MAIN_CODE = "taian"
SECOND_CODE = "feicheng"
BATCH = 5000

SURNAMES = (
    "王" * 8
    + "李" * 8
    + "张" * 8
    + "刘" * 6
    + "陈" * 5
    + "杨" * 4
    + "赵" * 4
    + "孙" * 4
    + "徐" * 3
    + "吴" * 3
    + "周" * 3
    + "马" * 3
    + "朱" * 2
    + "胡" * 2
    + "郭" * 2
    + "何" * 2
    + "高" * 2
    + "林" * 2
    + "罗"
    + "梁"
    + "宋"
    + "郑"
    + "谢"
    + "韩"
    + "唐"
    + "冯"
    + "于"
    + "董"
    + "程"
    + "曹"
    + "袁"
    + "邓"
    + "许"
    + "傅"
    + "沈"
    + "曾"
    + "彭"
    + "吕"
    + "苏"
    + "卢"
    + "蒋"
    + "蔡"
    + "贾"
    + "丁"
    + "魏"
    + "薛"
    + "叶"
    + "阎"
    + "岳"
    + "颜"
    + "孔"
    + "毕"
    + "房"
    + "展"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英建国志红玉梅秀华文斌宁浩鹏飞亮晨雪倩婷峰辉俊凤琴萍波"

# District → (streets, supply-zone prefix). Street names of 泰安, communities are invented.
DISTRICTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("泰山区", ("岱庙街道", "财源街道", "泰前街道", "上高街道", "徐家楼街道", "省庄镇", "邱家店镇"), "TS"),
    ("岱岳区", ("粥店街道", "天平街道", "北集坡街道", "满庄镇", "夏张镇", "山口镇"), "DY"),
    ("高新区", ("南关街道", "北天门街道", "北集坡街道"), "GX"),
    ("泰山景区", ("东岳街道",), "JQ"),
)
COMMUNITY_HEAD = "泰山岱宗东岳龙潭虎山望岳御碑奈河明堂温泉长城青年迎胜灵山擂鼓花园阳光金色锦绣华新泰和丽景书香翡翠岱岳天外凤凰碧霞红门"  # noqa: E501 (one message or data row, kept whole)
COMMUNITY_TAIL = ("小区", "花园", "家园", "新村", "苑", "名居", "雅居", "新城", "佳苑", "公寓")
ROADS = (
    "东岳大街",
    "岱宗大街",
    "泰山大街",
    "灵山大街",
    "财源大街",
    "青年路",
    "迎胜路",
    "望岳路",
    "擂鼓石大街",
    "龙潭路",
    "温泉路",
    "长城路",
)
SHOPS = (
    "家常菜馆",
    "快餐店",
    "面馆",
    "烧烤店",
    "宾馆",
    "洗浴中心",
    "蛋糕房",
    "火锅店",
    "水饺馆",
    "煎饼铺",
    "早餐店",
    "酒店",
)
FACTORIES = ("机械有限公司", "食品有限公司", "纺织有限公司", "建材有限公司", "化工有限公司", "印务有限公司")
PUBLIC = (
    "第{n}中学",
    "第{n}小学",
    "{d}人民医院",
    "{d}社区卫生服务中心",
    "{d}幼儿园",
    "{d}政务服务中心",
    "{d}养老院",
)
VILLAGES = (
    "东牛庄",
    "西羊娄",
    "南留",
    "北集坡",
    "小井",
    "大辛庄",
    "马庄",
    "夏张",
    "石碑",
    "郝家庄",
    "徐家楼",
    "旧县",
)

# Share of customers by category (residential ≈ 95 %).
CATEGORY_SHARES = (
    ("resident", 0.950),
    ("commercial", 0.028),
    ("coal_to_gas", 0.010),
    ("public_building", 0.006),
    ("industrial", 0.003),
    ("heating", 0.003),
)
METER_PREFIX = {"ic_card": "IC", "smart": "ZN", "mechanical": "JX"}
CARE_SHARE = 0.02
SUSPENDED_SHARE = 0.015
CLOSED_SHARE = 0.01

DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    # username, role, full name, department code
    ("agent", Role.AGENT, "刘晓燕", "service_centre"),
    ("clerk", Role.CLERK, "孙丽华", "counter"),
    ("dispatcher", Role.DISPATCHER, "赵建军", "service_centre"),
    ("technician", Role.TECHNICIAN, "王师傅", "repair"),
    ("quality", Role.QUALITY, "陈静", "service_centre"),
    ("team_lead", Role.TEAM_LEAD, "李强", "service_centre"),
    ("supervisor", Role.SUPERVISOR, "张敏", "service_centre"),
    ("manager", Role.MANAGER, "周国平", "gm_office"),
    ("auditor", Role.AUDITOR, "吴芳", "gm_office"),
    ("admin", Role.ADMIN, "郑磊", "gm_office"),
)
TEAMS = (
    ("service_centre", "坐席一班"),
    ("service_centre", "坐席二班"),
    ("repair", "维修一班"),
    ("repair", "维修二班"),
    ("emergency", "抢险一班"),
    ("inspection", "安检一组"),
    ("inspection", "安检二组"),
)
USER_TEAMS = {"agent": "坐席一班", "team_lead": "坐席一班", "technician": "维修一班"}
SECOND_USERS = (("fc_agent", Role.AGENT, "肥城坐席", "service_centre"),)


@dataclass
class DemoResult:
    company: Company
    created: bool
    counts: WriteCounts = field(default_factory=WriteCounts)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, role label, company


def _name(rnd: random.Random) -> str:
    given = rnd.choice(GIVEN) + (rnd.choice(GIVEN) if rnd.random() < 0.7 else "")
    return rnd.choice(SURNAMES) + given


def _mobile(rnd: random.Random) -> str:
    return f"1{rnd.choice('3456789')}{rnd.randrange(10**9):09d}"


def _landline(rnd: random.Random, area: str) -> str:
    return f"{area}{rnd.choice('2345678')}{rnd.randrange(10**6):06d}"


def _day(rnd: random.Random, start: date, end: date) -> date:
    # One random() per date, whatever the span, so the sequence (and every later name and
    # account number) does not depend on the day the demo is built.
    return start + timedelta(days=int(rnd.random() * max((end - start).days, 1)))


class CityGenerator:
    """Yields `CustomerData` for a company, deterministically from a seed."""

    def __init__(
        self, *, seed: int, categories: dict[str, int], area_code: str, account_prefix: str, today: date
    ):
        self.rnd = random.Random(seed)
        self.categories = categories
        self.area = area_code
        self.prefix = account_prefix
        self.today = today
        self.serial = 0
        shares = [(code, share) for code, share in CATEGORY_SHARES if code in categories]
        self.codes = [c for c, _s in shares]
        self.weights = [s for _c, s in shares]

    def _communities(self) -> Iterator[tuple[str, str, str, str, int, int, int]]:
        """(district, street, community, zone, buildings, units, floors), forever."""
        rnd = self.rnd
        n = 0
        while True:
            n += 1
            d_index = rnd.randrange(len(DISTRICTS))
            district, streets, zone_prefix = DISTRICTS[d_index]
            s_index = rnd.randrange(len(streets))
            name = rnd.choice(COMMUNITY_HEAD) + rnd.choice(COMMUNITY_HEAD) + rnd.choice(COMMUNITY_TAIL)
            if n > 50:
                name = f"{name}{'一二三四五六七八九'[n % 9]}期"
            zone = f"{zone_prefix}-{s_index + 1:02d}"
            yield (
                district,
                streets[s_index],
                name,
                zone,
                rnd.randint(4, 30),
                rnd.randint(1, 4),
                rnd.randint(5, 18),
            )

    def customers(self, count: int) -> Iterator[CustomerData]:
        produced = 0
        communities = self._communities()
        seen_names: set[str] = set()
        while produced < count:
            district, street, community, zone, buildings, units, floors = next(communities)
            if community in seen_names:
                community = f"{community}{len(seen_names)}"
            seen_names.add(community)
            for b in range(1, buildings + 1):
                for u in range(1, units + 1):
                    for f in range(1, floors + 1):
                        for door in (1, 2):
                            if produced >= count:
                                return
                            produced += 1
                            yield self._customer(
                                produced, district, street, community, zone, b, u, f * 100 + door
                            )

    def _customer(
        self, n: int, district: str, street: str, community: str, zone: str, b: int, u: int, room: int
    ) -> CustomerData:
        rnd = self.rnd
        code = rnd.choices(self.codes, self.weights)[0]
        name = _name(rnd)
        if code == "resident":
            premise = PremiseData(
                district,
                street,
                community,
                str(b),
                str(u),
                str(room),
                f"{district}{street}{community}{b}号楼{u}单元{room}室",
                zone,
            )
        else:
            number = rnd.randint(1, 399)
            road = rnd.choice(ROADS)
            if code == "commercial":
                name = f"{name[0]}记{rnd.choice(SHOPS)}"
            elif code == "industrial":
                name = f"泰安{rnd.choice(COMMUNITY_HEAD)}{rnd.choice(COMMUNITY_HEAD)}{rnd.choice(FACTORIES)}"
            elif code == "public_building":
                name = rnd.choice(PUBLIC).format(n=rnd.randint(1, 20), d=district)
            elif code == "heating":
                name = f"{community}换热站"
            if code == "coal_to_gas":
                village = rnd.choice(VILLAGES) + "村"
                premise = PremiseData(
                    "岱岳区",
                    rnd.choice(DISTRICTS[1][1]),
                    village,
                    "",
                    "",
                    str(number),
                    f"岱岳区{village}{number}号",
                    "DY-V",
                )
            else:
                premise = PremiseData(
                    district, street, "", str(number), "", "", f"{district}{road}{number}号", zone
                )
        opened = _day(rnd, date(1998, 1, 1), self.today - timedelta(days=30))
        phones = [_mobile(rnd) if rnd.random() < 0.88 else _landline(rnd, self.area)]
        if rnd.random() < 0.35:
            extra = _mobile(rnd) if rnd.random() < 0.7 else _landline(rnd, self.area)
            if extra != phones[0]:
                phones.append(extra)
        self.serial += 1
        kind = rnd.choices(("ic_card", "smart", "mechanical"), (0.55, 0.35, 0.10))[0]
        installed = opened + timedelta(days=rnd.randrange(0, 30))
        battery = None
        if kind in ("ic_card", "smart") and (self.today - installed).days > 900 and rnd.random() < 0.6:
            battery = _day(rnd, installed + timedelta(days=700), self.today)
        meter = MeterData(f"{METER_PREFIX[kind]}{opened:%y}{self.serial:08d}", kind, installed, battery)
        status, suspended, closed = Customer.Status.ACTIVE.value, None, None
        r = rnd.random()
        if r < CLOSED_SHARE:
            status = Customer.Status.CLOSED.value
            closed = _day(rnd, opened + timedelta(days=30), self.today)
            suspended = (
                closed - timedelta(days=rnd.randint(30, 300))
                if rnd.random() < 0.5 and closed - opened > timedelta(days=400)
                else None
            )
        elif r < CLOSED_SHARE + SUSPENDED_SHARE:
            status = Customer.Status.SUSPENDED.value
            suspended = _day(rnd, opened + timedelta(days=30), self.today)
        care = None
        if code in ("resident", "coal_to_gas") and status == "active" and rnd.random() < CARE_SHARE:
            needs = rnd.sample(["elderly", "weak", "ill", "disabled"], rnd.choice((1, 1, 1, 2)))
            by_self = rnd.random() < 0.6
            care = CareData(
                needs=needs,
                note=rnd.choice(
                    (
                        "独居老人，行动不便",
                        "听力较弱，请大声说话",
                        "轮椅使用者",
                        "慢性病，需上门办理",
                        "视力较弱",
                    )
                ),
                consent_on=_day(rnd, date(2020, 1, 1), self.today),
                consent_by=name if by_self else f"{name[0]}{rnd.choice(GIVEN)}（子女）",
            )
        notes = "临街商铺" if code == "commercial" and rnd.random() < 0.2 else ""
        return CustomerData(
            account_no=f"{self.prefix}{n:08d}",
            name=name,
            category_id=self.categories[code],
            status=status,
            opened_on=opened,
            notes=notes,
            premise=premise,
            phones=phones,
            meters=[meter],
            suspended_on=suspended,
            closed_on=closed,
            care=care,
        )


def _company(code: str, name: str, short: str, hotline: str, group: CompanyGroup) -> tuple[Company, bool]:
    return Company.objects.get_or_create(
        code=code,
        defaults={"name": name, "short_name": short, "hotline": hotline, "area_code": "0538", "group": group},
    )


def _users(company: Company, specs, employee_prefix: str) -> list[tuple[str, str, str]]:
    """One user per spec; the password is KEFU_DEMO_PASSWORD and counts as freshly set."""
    departments = {d.code: d for d in Department.objects.filter(company=company)}
    teams = {t.name: t for t in Team.objects.filter(company=company)}
    logins = []
    for i, (username, role, full_name, dept) in enumerate(specs, 1):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username)
        elif user.company_id != company.pk:
            continue  # a real account with this name exists elsewhere: leave it alone
        user.company = company
        user.role = role
        user.full_name = full_name
        user.employee_no = f"{employee_prefix}{i:04d}"
        user.department = departments.get(dept)
        user.team = teams.get(USER_TEAMS.get(username, ""))
        user.is_staff = role == Role.ADMIN
        user.is_active = True
        user.password_changed_at = timezone.now()
        user.must_change_password = False
        user.set_password(settings.KEFU_DEMO_PASSWORD)
        user.save()
        logins.append((username, str(Role(role).label), company.short_name))
    return logins


def demo_logins() -> list[tuple[str, str, str]]:
    """The demo accounts that exist (for `--if-empty`, which builds nothing but prints them)."""
    names = [u[0] for u in DEMO_USERS + SECOND_USERS]
    users = {u.username: u for u in User.objects.filter(username__in=names).select_related("company")}
    return [
        (n, str(Role(users[n].role).label), users[n].company.short_name if users[n].company else "")
        for n in names
        if n in users
    ]


def demo_reset(company: Company) -> None:
    """Delete a demo company's customers and premises (raw deletes: fast at a million rows).

    Anything else that refers to them (work orders…) makes the database refuse: then start from an
    empty database instead.
    """
    with transaction.atomic(), connection.cursor() as cur:
        ids = f'SELECT id FROM "{Customer._meta.db_table}" WHERE company_id = %s'
        for model in (Phone, Meter, CustomerStatusChange, CareRegistration, BillingSnapshot):
            cur.execute(f'DELETE FROM "{model._meta.db_table}" WHERE customer_id IN ({ids})', [company.pk])
        for model in (Customer, Premise, ImportRun, BillingImport):
            cur.execute(f'DELETE FROM "{model._meta.db_table}" WHERE company_id = %s', [company.pk])


def _fill(company: Company, *, customers: int, seed: int, prefix: str, progress=None) -> WriteCounts:
    categories = dict(CustomerCategory.objects.filter(company=company).values_list("code", "id"))
    gen = CityGenerator(
        seed=seed,
        categories=categories,
        area_code=company.area_code,
        account_prefix=prefix,
        today=timezone.localdate(),
    )
    writer = CustomerBulkWriter(company.pk, reason="演示数据")
    counts = WriteCounts()
    batch: list[CustomerData] = []
    with transaction.atomic():
        for rec in gen.customers(customers):
            batch.append(rec)
            if len(batch) >= BATCH:
                counts.add(writer.write(batch))
                batch = []
                if progress:
                    progress(counts.created + counts.updated + counts.unchanged, customers)
        if batch:
            counts.add(writer.write(batch))
        if progress:
            progress(customers, customers)
        audit_record(
            action=Action.IMPORTED,
            company=company,
            object_type="customers.customer",
            object_repr="demo",
            detail={"source": "demo", "seed": seed, "created": counts.created, "updated": counts.updated},
        )
    return counts


def build_demo(
    *,
    customers: int = 5000,
    seed: int = 1,
    company_code: str = MAIN_CODE,
    if_empty: bool = False,
    reset: bool = False,
    progress=None,
) -> DemoResult:
    """Build (or, with `reset`, rebuild) the demo city. Idempotent: re-running upserts the same data."""
    group, _ = CompanyGroup.objects.get_or_create(code="taian-energy", defaults={"name": "泰安能源集团"})
    existing = Company.objects.filter(code=company_code).first()
    if existing is not None and if_empty:
        return DemoResult(company=existing, created=False, logins=demo_logins())
    main, _created = _company(company_code, "泰安安泰燃气有限公司", "安泰燃气", "0538-96777", group)
    second, _ = _company(SECOND_CODE, "肥城安泰燃气有限公司", "肥城燃气", "0538-3222777", group)
    for company in (main, second):
        company_seed_defaults(company)
        if reset:
            demo_reset(company)
    for company in (main, second):
        departments = {d.code: d for d in Department.objects.filter(company=company)}
        for dept, team in TEAMS:
            Team.objects.get_or_create(company=company, department=departments[dept], name=team)
    logins = _users(main, DEMO_USERS, "TA") + _users(second, SECOND_USERS, "FC")
    counts = _fill(main, customers=customers, seed=seed, prefix="37", progress=progress)
    _fill(second, customers=min(50, customers), seed=seed + 1, prefix="38")
    for company, company_seed in ((main, seed), (second, seed + 1)):
        demo_billing(company, seed=company_seed)
    return DemoResult(company=main, created=True, counts=counts, logins=logins)


def demo_billing(company: Company, *, seed: int = 1, now=None):
    """This morning's delivery from the billing system for every customer of `company`, through
    the same import as a real file (kefu.customers.billing, docs/import.md): balance, arrears, the
    last purchase, meter lock and valve state, alarm and hose expiry — so the customer card's
    billing facts are filled and say when the billing system updated them. Most households are in
    credit; a few owe money, and of those some have their meter locked and valve closed."""
    now = timezone.localtime(now or timezone.now())
    updated = (now - timedelta(hours=2)).replace(minute=30, second=0, microsecond=0)
    rnd = random.Random(seed * 7919)
    records: list[tuple[int, dict]] = []
    report = None
    accounts = Customer.objects.filter(company=company).order_by("pk").values_list("account_no", flat=True)
    for line, account in enumerate(accounts.iterator(chunk_size=2000), start=2):
        if len(records) >= BILLING_CHUNK:  # a big city: one delivery per chunk, memory stays flat
            report = _deliver(company, records, updated)
            records = []
        owes = rnd.random() < 0.08
        arrears = Decimal(rnd.randrange(2000, 60000)) / 100 if owes else Decimal(0)
        balance = -arrears if owes else Decimal(rnd.randrange(0, 40000)) / 100
        locked = owes and arrears > 300
        bought = now - timedelta(days=rnd.randrange(1, 120), minutes=rnd.randrange(0, 600))
        fitted = (now - timedelta(days=rnd.randrange(30, 1800))).date()
        records.append(
            (
                line,
                {
                    "account_no": account,
                    "updated_at": updated.strftime("%Y-%m-%d %H:%M"),
                    "balance": f"{balance:.2f}",
                    "arrears": f"{arrears:.2f}",
                    "last_purchase_at": bought.strftime("%Y-%m-%d %H:%M"),
                    "last_purchase_amount": f"{rnd.choice((50, 100, 100, 200, 200, 300, 500))}.00",
                    "meter_locked": "是" if locked else "否",
                    "valve_closed": "是" if locked else "否",
                    "alarm_expires_on": (fitted + timedelta(days=5 * 365)).isoformat(),
                    "hose_expires_on": (fitted + timedelta(days=8 * 365)).isoformat(),
                },
            )
        )
    if records:
        report = _deliver(company, records, updated)
    return report


BILLING_CHUNK = 50_000


def _deliver(company: Company, records: list[tuple[int, dict]], updated):
    from kefu.customers.billing import billing_apply
    from kefu.customers.models import BillingImport

    return billing_apply(
        company=company,
        records=records,
        source=BillingImport.Source.FILE,
        original_name=f"演示计费数据-{updated:%Y%m%d}.csv",
    )


# --- `kefu demo`, step 10 (kefu.core.demo) ---------------------------------------------------------


def add_demo_arguments(parser) -> None:
    """The options of the customers step of `kefu demo`."""
    parser.add_argument("--customers", type=int, default=5000, help="客户数量（默认 5000）")
    parser.add_argument("--company", default=MAIN_CODE, help=f"公司代码（默认 {MAIN_CODE}）")
    parser.add_argument("--reset", action="store_true", help="先删除演示公司的客户数据再生成")


def demo_step(run: DemoRun) -> None:
    """`kefu demo`, step 10: the demo company with its departments, teams and a user of every role,
    and the city's customers (`build_demo`). With --if-empty and the company there, nothing is built
    and the later steps are skipped; the logins are printed all the same."""
    from kefu.customers.management.commands.import_customers import ProgressBar

    opts = run.options
    if opts["customers"] < 0:
        raise DemoRefused("客户数量不能为负数。")
    bar = None if opts["no_progress"] or opts["customers"] < 20000 else ProgressBar()
    if bar:
        bar.stage("生成")
    try:
        result = build_demo(
            customers=opts["customers"],
            seed=opts["seed"],
            company_code=opts["company"],
            if_empty=opts["if_empty"],
            reset=opts["reset"],
            progress=bar,
        )
    finally:
        if bar:
            bar.finish()
    run.company, run.built, run.logins = result.company, result.created, result.logins
    if result.created:
        c = result.counts
        run.summary.append(f"新增 {c.created} 户，更新 {c.updated} 户，{c.unchanged} 户无变化")
