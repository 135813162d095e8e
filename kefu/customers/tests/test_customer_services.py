"""Customer create/update services (issue 2 item 5): validation, company and role checks, optimistic
locking on `version`, status history (K1/K4), audit rows with field diffs (S2)."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.accounts.models import AuditEvent
from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.customers import services
from kefu.customers.models import CareRegistration, Customer, CustomerCategory, CustomerStatusChange

CATEGORIES = [("resident", "居民"), ("commercial", "商业"), ("industrial", "工业")]


def seed_categories(company) -> None:
    for i, (code, name) in enumerate(CATEGORIES):
        CustomerCategory.objects.get_or_create(
            company=company, code=code, defaults={"name": name, "sort_order": i}
        )


def new_customer(user, **kw) -> Customer:
    """A customer made through the real service (ARCHITECTURE: data set up through services)."""
    seed_categories(user.company)
    data = {
        "account_no": "10000001",
        "name": "张三丰",
        "category": "resident",
        "phones": [{"number": "138-1234-5678"}],
        "address": "泰山区岱宗大街幸福小区3号楼2单元501室",
        "district": "泰山区",
    }
    data.update(kw)
    return services.customer_create(user=user, **data)


@pytest.fixture
def clerk_x(company_x):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_x, role="clerk", username="clerk_x")


def test_create_normalises_phones_and_parses_the_address(supervisor_x):
    c = new_customer(
        supervisor_x,
        phones=[{"number": "+86 138-1234-5678"}, {"number": "620 1234", "label": "家里"}],
    )
    phones = list(c.phones.order_by("-is_primary", "id").values_list("number", "is_primary", "kind"))
    assert phones == [("13812345678", True, "mobile"), ("05386201234", False, "landline")]
    p = c.premise
    assert (p.community, p.building, p.unit, p.room) == ("幸福小区", "3", "2", "501")
    assert c.version == 1
    assert list(c.status_changes.values_list("status", flat=True)) == ["active"]
    row = AuditEvent.objects.get(action="data.created", object_id=str(c.pk))
    assert row.actor == supervisor_x
    assert row.detail["changes"]["account_no"] == [None, "10000001"]


def test_explicit_structured_address_wins(supervisor_x):
    c = new_customer(
        supervisor_x,
        address="岱宗大街88号",
        community="幸福小区",
        building="5号楼",
        unit="1单元",
        room="302室",
    )
    assert (c.premise.community, c.premise.building, c.premise.unit, c.premise.room) == (
        "幸福小区",
        "5",
        "1",
        "302",
    )


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"account_no": ""}, "account_no"),
        ({"account_no": "户号 1"}, "account_no"),
        ({"name": "  "}, "name"),
        ({"category": "nope"}, "category"),
        ({"status": "gone"}, "status"),
        ({"phones": [{"number": "12345"}]}, "phones[0].number"),
        ({"phones": [{"number": "13812345678"}, {"number": "+86 13812345678"}]}, "phones[1].number"),
        (
            {
                "phones": [
                    {"number": "13812345678", "is_primary": True},
                    {"number": "13912345678", "is_primary": True},
                ]
            },
            "phones",
        ),
        ({"colour": "red"}, "colour"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(supervisor_x, kw, field):
    with pytest.raises(DomainError) as exc:
        new_customer(supervisor_x, **kw)
    assert exc.value.field == field
    assert exc.value.status == 400
    assert not Customer.objects.exists()


def test_duplicate_account_number_is_a_conflict(supervisor_x):
    new_customer(supervisor_x)
    with pytest.raises(Conflict):
        new_customer(supervisor_x, name="李四")
    assert Customer.objects.count() == 1


def test_same_account_number_in_another_company_is_fine(supervisor_x, company_y):
    from kefu.accounts.tests.factories import UserFactory

    sup_y = UserFactory(company=company_y, role="supervisor")
    new_customer(supervisor_x)
    new_customer(sup_y)
    assert Customer.objects.count() == 2


def test_agent_may_not_create(agent_x):
    seed_categories(agent_x.company)
    with pytest.raises(Forbidden):
        new_customer(agent_x)


def test_update_with_diff_and_version(supervisor_x):
    c = new_customer(supervisor_x)
    c2 = services.customer_update(
        user=supervisor_x,
        customer_id=c.pk,
        version=1,
        changes={"name": "张三", "phones": [{"number": "13912345678"}], "address": "幸福小区5-1-302"},
    )
    assert c2.version == 2
    assert c2.name == "张三"
    assert list(c2.phones.values_list("number", flat=True)) == ["13912345678"]
    assert (c2.premise.building, c2.premise.unit, c2.premise.room) == ("5", "1", "302")
    row = AuditEvent.objects.get(action="data.updated", object_id=str(c.pk))
    assert row.detail["changes"]["name"] == ["张三丰", "张三"]
    assert row.detail["changes"]["phones"] == [["13812345678*"], ["13912345678*"]]
    assert "account_no" not in row.detail["changes"]


def test_stale_version_is_a_conflict_and_changes_nothing(supervisor_x):
    c = new_customer(supervisor_x)
    services.customer_update(user=supervisor_x, customer_id=c.pk, version=1, changes={"notes": "第一次"})
    with pytest.raises(Conflict) as exc:
        services.customer_update(user=supervisor_x, customer_id=c.pk, version=1, changes={"notes": "旧版本"})
    assert exc.value.status == 409
    c.refresh_from_db()
    assert (c.notes, c.version) == ("第一次", 2)


def test_status_change_is_recorded_with_dates(supervisor_x):
    c = new_customer(supervisor_x, opened_on=date(2020, 1, 1))
    services.customer_update(
        user=supervisor_x,
        customer_id=c.pk,
        version=1,
        changes={"status": "suspended", "status_effective_on": date(2026, 3, 1), "status_reason": "欠费"},
    )
    c.refresh_from_db()
    assert (c.status, c.suspended_on) == ("suspended", date(2026, 3, 1))
    history = list(
        CustomerStatusChange.objects.filter(customer=c).values_list("status", "effective_on", "reason")
    )
    assert history == [("active", date(2020, 1, 1), ""), ("suspended", date(2026, 3, 1), "欠费")]


def test_update_other_company_is_not_found(supervisor_x, company_y):
    from kefu.accounts.tests.factories import UserFactory

    c = new_customer(supervisor_x)
    sup_y = UserFactory(company=company_y, role="supervisor")
    with pytest.raises(NotFound):
        services.customer_update(user=sup_y, customer_id=c.pk, version=1, changes={"notes": "x"})


def test_update_refuses_unknown_fields(supervisor_x):
    c = new_customer(supervisor_x)
    with pytest.raises(DomainError):
        services.customer_update(user=supervisor_x, customer_id=c.pk, version=1, changes={"company": 2})


def test_care_register_and_end(supervisor_x, agent_x):
    c = new_customer(supervisor_x)
    reg = services.care_register(
        user=agent_x,
        customer_id=c.pk,
        needs=["老", "disabled"],
        consent_on=date(2026, 1, 5),
        consent_by="张三丰",
        note="独居，行动不便",
    )
    assert reg.needs == ["elderly", "disabled"]
    assert reg.registered_by == agent_x
    with pytest.raises(DomainError):
        services.care_register(
            user=agent_x, customer_id=c.pk, needs=["happy"], consent_on=date(2026, 1, 5), consent_by="张"
        )
    with pytest.raises(DomainError):
        services.care_register(
            user=agent_x, customer_id=c.pk, needs=["老"], consent_on=date(2026, 1, 5), consent_by=" "
        )
    services.care_end(user=agent_x, registration_id=reg.pk)
    assert CareRegistration.objects.get(pk=reg.pk).ended_on is not None
    with pytest.raises(Conflict):
        services.care_end(user=agent_x, registration_id=reg.pk)
