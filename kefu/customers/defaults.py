"""Master data every company starts with: the six customer categories and the standard departments.

`company_seed_defaults` is idempotent (get-or-create by code), so the demo, the import and an
operator may all call it. Inspection frequencies follow C5 (000 2.2.5; 004): residential at least
once a year; commercial, industrial and heating at least three times a year (000 2.2.5);
coal-to-gas (气代煤) twice a year (004); public buildings once a year (004).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from kefu.accounts.models import Company, Department
from kefu.customers.models import CustomerCategory


@dataclass(frozen=True)
class CategoryDefault:
    code: str
    name: str
    is_residential: bool
    inspections_per_year: int  # C5


CATEGORY_DEFAULTS: tuple[CategoryDefault, ...] = (
    CategoryDefault("resident", "居民", True, 1),  # 000 2.2.5
    CategoryDefault("commercial", "商业", False, 3),  # 000 2.2.5
    CategoryDefault("industrial", "工业", False, 3),  # 000 2.2.5
    CategoryDefault("heating", "采暖", False, 3),  # 000 2.2.5
    CategoryDefault("coal_to_gas", "气代煤", True, 2),  # 004
    CategoryDefault("public_building", "公建", False, 1),  # 004
)

DEPARTMENT_DEFAULTS: tuple[tuple[str, str, str], ...] = (
    ("service_centre", "客户服务中心", Department.Kind.SERVICE_CENTRE),
    ("repair", "维修", Department.Kind.REPAIR),
    ("emergency", "抢险", Department.Kind.EMERGENCY),
    ("inspection", "安检", Department.Kind.INSPECTION),
    ("engineering", "工程", Department.Kind.ENGINEERING),
    ("operations", "运行", Department.Kind.OPERATIONS),
    ("counter", "营业厅", Department.Kind.COUNTER),
    ("finance", "财务", Department.Kind.FINANCE),
    ("gm_office", "总经理办公室", Department.Kind.GM_OFFICE),
)


@transaction.atomic
def company_seed_defaults(company: Company) -> dict[str, int]:
    """Create the default categories (C5 frequencies) and departments a company lacks.

    Existing rows are left as the company configured them. Returns how many rows were created.
    """
    created = {"categories": 0, "departments": 0}
    for order, cat in enumerate(CATEGORY_DEFAULTS):
        _obj, made = CustomerCategory.objects.get_or_create(
            company=company,
            code=cat.code,
            defaults={
                "name": cat.name,
                "is_residential": cat.is_residential,
                "inspections_per_year": cat.inspections_per_year,
                "sort_order": order,
            },
        )
        created["categories"] += made
    for code, name, kind in DEPARTMENT_DEFAULTS:
        _obj, made = Department.objects.get_or_create(
            company=company, code=code, defaults={"name": name, "kind": kind}
        )
        created["departments"] += made
    return created
