"""factory_boy factories for customers, made through the real service (`customer_create`), so every
customer has what production gives it: premise, cleaned phones, status history and an audit row (S2).

    CustomerFactory(user=clerk_x)                       # a resident of company X with one mobile
    CustomerFactory(user=clerk_x, category="commercial", phones=[], address="…")
"""

from __future__ import annotations

import factory

from kefu.accounts.tests.factories import UserFactory
from kefu.customers.defaults import CATEGORY_DEFAULTS
from kefu.customers.models import Customer, CustomerCategory


def seed_categories(company) -> None:
    """The default customer categories (C5 frequencies), without the default departments."""
    for order, cat in enumerate(CATEGORY_DEFAULTS):
        CustomerCategory.objects.get_or_create(
            company=company,
            code=cat.code,
            defaults={
                "name": cat.name,
                "is_residential": cat.is_residential,
                "inspections_per_year": cat.inspections_per_year,
                "sort_order": order,
            },
        )


class CustomerFactory(factory.Factory):
    """`user` needs Perm.CUSTOMER_EDIT (a clerk, supervisor or manager); the customer is in its company."""

    class Meta:
        model = Customer

    user = factory.SubFactory(UserFactory, role="clerk")
    account_no = factory.Sequence(lambda n: f"{10000001 + n}")
    name = "张三丰"
    category = "resident"
    phones = factory.Sequence(lambda n: [{"number": f"138{n:08d}", "is_primary": True}])
    address = "泰山区岱宗大街幸福小区3号楼2单元501室"

    @classmethod
    def _create(cls, model_class, *, user, **kwargs):
        from kefu.customers.services import customer_create

        seed_categories(user.company)
        return customer_create(user=user, **kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("customers are made through customer_create: use CustomerFactory()")
