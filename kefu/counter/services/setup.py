"""Setting up a company's counter: a hall, the usual business types with their documents (003 6.2.1,
004 第四条), windows and a first price list. Idempotent; the demo and the tests use it, and an
administrator adjusts everything afterwards in 系统管理."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from kefu.counter.models import BusinessType, Hall, PriceItem, PriceList, Window
from kefu.counter.numbering import next_number

#: prefix, name, documents, work-order kind, can be completed on the spot
BUSINESS_TYPES = [
    ("A", "开户报装", ["身份证", "房产证或购房合同"], "installation", False),
    ("B", "缴费购气", [], "", True),
    ("C", "过户更名", ["身份证", "房产证", "原户主证明"], "", True),
    ("D", "报修与安检预约", [], "repair", False),
    ("E", "咨询与其他", [], "consultation", True),
]
#: code, name, unit, amount (元), passed to billing
PRICE_ITEMS = [
    ("IC-CARD", "IC卡补办", "张", "20.00", True),
    ("TRANSFER", "过户手续费", "次", "50.00", False),
    ("HOSE", "燃气专用软管", "米", "15.00", False),
    ("ALARM", "燃气报警器", "台", "280.00", False),
    ("RECONNECT", "复装通气费", "次", "100.00", False),
]


def counter_seed(*, company, by, windows: int = 4) -> Hall:
    """The company's first hall with the usual business types, `windows` windows (window 1 serves
    every type, the others two or three each) and a first price list when it has none."""
    with transaction.atomic():
        hall, _created = Hall.objects.get_or_create(
            company=company, code="main", defaults={"name": f"{company.short_name}营业厅"}
        )
        types = []
        for i, (prefix, name, docs, kind, on_spot) in enumerate(BUSINESS_TYPES):
            bt, _c = BusinessType.objects.get_or_create(
                company=company,
                prefix=prefix,
                defaults={
                    "name": name,
                    "documents": docs,
                    "ticket_kind": kind,
                    "on_spot": on_spot,
                    "sort_order": i,
                },
            )
            types.append(bt)
        for n in range(1, windows + 1):
            w, created = Window.objects.get_or_create(hall=hall, number=n, defaults={"is_open": True})
            if created:
                w.business_types.set(types if n == 1 else [types[(n - 2) % len(types)], types[1], types[-1]])
        if not PriceList.objects.filter(company=company).exists():
            version = next_number(company_id=company.pk, series="pricelist", period="all")
            pl = PriceList.objects.create(
                company=company,
                version=version,
                effective_from=date(2024, 1, 1),
                basis="物价局核定收费标准",
                published_by=by,
            )
            PriceItem.objects.bulk_create(
                PriceItem(price_list=pl, code=c, name=n, unit=u, amount=Decimal(a), to_billing=b)
                for c, n, u, a, b in PRICE_ITEMS
            )
    return hall
