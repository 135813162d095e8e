"""Caller lookup (P2, C15): detection of what was typed, ranking, masking, care flags, company
scoping (S2) — with personas: agent X finds X's customer, agent Y finds nothing of X."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.accounts.models import AuditEvent
from kefu.accounts.tests.factories import UserFactory
from kefu.core.errors import Forbidden, NotFound
from kefu.customers import services
from kefu.customers.selectors import caller_lookup, customer_card, plan_lookup
from kefu.customers.tests.test_customer_services import new_customer


@pytest.fixture
def city(supervisor_x):
    """A few customers of company X, two of them at 3-2-501 in different communities."""
    zhang = new_customer(
        supervisor_x,
        account_no="10000001",
        name="张三丰",
        phones=[{"number": "13812345678"}, {"number": "0538-6201234"}],
        address="泰山区岱宗大街幸福小区3号楼2单元501室",
    )
    li = new_customer(
        supervisor_x,
        account_no="10000002",
        name="李四",
        phones=[{"number": "13912345678"}],
        address="泰山区和平小区3号楼2单元501室",
    )
    wang = new_customer(
        supervisor_x,
        account_no="20000001",
        name="张伟",
        phones=[{"number": "13700000001"}],
        address="幸福小区7号楼1单元101室",
        category="commercial",
    )
    services.care_register(
        user=supervisor_x,
        customer_id=zhang.pk,
        needs=["elderly", "disabled"],
        consent_on=date(2026, 1, 1),
        consent_by="张三丰",
    )
    return {"zhang": zhang, "li": li, "wang": wang}


@pytest.mark.parametrize(
    "typed",
    ["13812345678", "138 1234 5678", "+86 138-1234-5678", "0086 13812345678", "１３８１２３４５６７８"],
)
def test_phone_in_any_written_form(agent_x, city, typed):
    found = caller_lookup(user=agent_x, query=typed)
    assert [r.customer_id for r in found] == [city["zhang"].pk]
    r = found[0]
    assert r.match == "phone"
    assert r.phone_masked == "138****5678"
    assert r.name_masked == "张**"
    assert "501" not in r.address_masked and "***" in r.address_masked
    assert r.care_needs == ["老", "残"]
    assert r.category == "居民"
    assert r.status == "active"


@pytest.mark.parametrize("typed", ["6201234", "0538-6201234", "(0538) 620 1234"])
def test_landline_with_and_without_area_code(agent_x, city, typed):
    found = caller_lookup(user=agent_x, query=typed)
    assert [r.customer_id for r in found] == [city["zhang"].pk]
    assert found[0].phone_masked == "0538*****34"


def test_account_number(agent_x, city):
    found = caller_lookup(user=agent_x, query="20000001")
    assert [(r.customer_id, r.match) for r in found] == [(city["wang"].pk, "account")]


@pytest.mark.parametrize(
    "typed", ["幸福小区3-2-501", "幸福小区3号楼2单元501", "幸福小区3栋2单元501室", "泰山区幸福小区3-2-501"]
)
def test_address_with_community_ranks_that_community_only(agent_x, city, typed):
    found = caller_lookup(user=agent_x, query=typed)
    assert [r.customer_id for r in found] == [city["zhang"].pk]
    assert found[0].match == "address"


@pytest.mark.parametrize("typed", ["3-2-501", "3号楼2单元501", "3栋2单元501室", "三号楼二单元501"])
def test_address_without_community_finds_both(agent_x, city, typed):
    found = caller_lookup(user=agent_x, query=typed)
    assert {r.customer_id for r in found} == {city["zhang"].pk, city["li"].pk}


def test_surname_beside_the_address_ranks_first(agent_x, city):
    found = caller_lookup(user=agent_x, query="李 3-2-501")
    assert [r.customer_id for r in found][0] == city["li"].pk
    found = caller_lookup(user=agent_x, query="3-2-501 张")
    assert [r.customer_id for r in found][0] == city["zhang"].pk


def test_unknown_community_falls_back_to_the_address(agent_x, city):
    found = caller_lookup(user=agent_x, query="阳光花园3-2-501")
    assert {r.customer_id for r in found} == {city["zhang"].pk, city["li"].pk}


def test_name_exact_before_prefix(agent_x, city):
    found = caller_lookup(user=agent_x, query="张伟")
    assert [r.customer_id for r in found] == [city["wang"].pk]
    found = caller_lookup(user=agent_x, query="张")
    assert {r.customer_id for r in found} == {city["zhang"].pk, city["wang"].pk}
    assert all(r.match == "name" for r in found)


def test_community_alone(agent_x, city):
    found = caller_lookup(user=agent_x, query="幸福小区")
    assert {r.customer_id for r in found} == {city["zhang"].pk, city["wang"].pk}


def test_ranking_exact_identifiers_first(agent_x, supervisor_x, city):
    # A customer whose account number is another's phone-like digits: phone and account both 100.
    new_customer(
        supervisor_x,
        account_no="6201234",
        name="王五",
        phones=[{"number": "13600000000"}],
        address="和平小区1-1-101",
    )
    found = caller_lookup(user=agent_x, query="6201234")
    assert {r.match for r in found} == {"phone", "account"}
    assert all(r.score == 100 for r in found)


def test_closed_customers_rank_after_active(agent_x, supervisor_x, city):
    services.customer_update(
        user=supervisor_x, customer_id=city["li"].pk, version=1, changes={"status": "closed"}
    )
    found = caller_lookup(user=agent_x, query="3-2-501")
    assert [r.customer_id for r in found] == [city["zhang"].pk, city["li"].pk]
    assert found[1].status == "closed"


def test_ended_care_is_not_shown(agent_x, supervisor_x, city):
    reg = city["zhang"].care.get()
    services.care_end(user=supervisor_x, registration_id=reg.pk)
    assert caller_lookup(user=agent_x, query="13812345678")[0].care_needs == []


@pytest.mark.parametrize(
    "typed", ["", "   ", "x" * 200, "???", "0", "%", "_", "'; drop table x; --", "99999999"]
)
def test_nonsense_finds_nothing_and_never_fails(agent_x, city, typed):
    assert caller_lookup(user=agent_x, query=typed) == []


def test_limit(agent_x, supervisor_x, city):
    for i in range(5):
        new_customer(
            supervisor_x, account_no=f"3000000{i}", name=f"张{i}", phones=[{"number": f"1350000000{i}"}]
        )
    assert len(caller_lookup(user=agent_x, query="张", limit=3)) == 3
    assert len(caller_lookup(user=agent_x, query="张", limit=0)) == 1


# --- personas (S2) -------------------------------------------------------------------------------


def test_agent_of_another_company_finds_nothing(agent_y, city):
    for typed in ["13812345678", "10000001", "幸福小区3-2-501", "张三丰", "张"]:
        assert caller_lookup(user=agent_y, query=typed) == []


def test_roles_without_customer_view_are_refused(company_x, city):
    auditor = UserFactory(company=company_x, role="auditor")
    with pytest.raises(Forbidden):
        caller_lookup(user=auditor, query="13812345678")


def test_group_reader_sees_member_companies(company_x, company_y, city):
    from kefu.accounts.models import CompanyGroup

    group = CompanyGroup.objects.create(code="g", name="集团")
    company_x.group = company_y.group = group
    company_x.save()
    company_y.save()
    reader = UserFactory(company=company_y, role="agent", group_reader=True)
    assert [r.customer_id for r in caller_lookup(user=reader, query="13812345678")] == [city["zhang"].pk]


def test_card_masked_by_default(agent_x, city):
    card = customer_card(user=agent_x, customer_id=city["zhang"].pk)
    assert card.name == "张**"
    assert [p.number for p in card.phones] == ["138****5678", "0538*****34"]
    assert "501" not in card.address and card.room == "***"
    assert card.care_needs == ["老", "残"]
    assert card.care[0].consent_by == "张**"
    assert not card.unmasked and not card.can_unmask
    assert not AuditEvent.objects.filter(action="privacy.unmasked_view").exists()


def test_card_unmasked_by_agent_is_forbidden_and_logged(agent_x, city):
    with pytest.raises(Forbidden):
        customer_card(user=agent_x, customer_id=city["zhang"].pk, unmasked=True)
    assert not AuditEvent.objects.filter(action="privacy.unmasked_view").exists()
    assert (
        AuditEvent.objects.filter(action="auth.permission_denied", actor=agent_x, result="denied").count()
        == 1
    )


def test_card_unmasked_by_supervisor_is_logged(supervisor_x, city):
    card = customer_card(user=supervisor_x, customer_id=city["zhang"].pk, unmasked=True)
    assert card.name == "张三丰"
    assert card.phones[0].number == "13812345678"
    assert card.address == "泰山区岱宗大街幸福小区3号楼2单元501室"
    row = AuditEvent.objects.get(action="privacy.unmasked_view")
    assert (row.actor, row.object_id, row.object_type) == (
        supervisor_x,
        str(city["zhang"].pk),
        "customers.customer",
    )


def test_card_of_another_company_is_not_found(agent_y, city):
    with pytest.raises(NotFound):
        customer_card(user=agent_y, customer_id=city["zhang"].pk)


def test_card_has_history_meters_and_notes(agent_x, supervisor_x, city):
    from kefu.customers.models import Meter

    Meter.objects.create(
        customer=city["zhang"], serial="M001", kind="ic_card", battery_replaced_on=date(2025, 5, 1)
    )
    card = customer_card(user=agent_x, customer_id=city["zhang"].pk)
    assert [(m.serial, m.kind_label, m.battery_replaced_on) for m in card.meters] == [
        ("M001", "IC卡表", date(2025, 5, 1))
    ]
    assert [s.status for s in card.status_history] == ["active"]
    assert caller_lookup(user=agent_x, query="M001")[0].match == "meter"


# --- detection (pure) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "phone", "ident", "building", "name", "community"),
    [
        ("13812345678", "13812345678", None, None, None, None),
        ("+86 152-4668-6067", "15246686067", None, None, None, None),
        ("6201234", "05386201234", "6201234", None, None, None),
        ("HX-00012", None, "HX-00012", None, None, None),
        ("3-2-501", None, "3-2-501", "3", None, None),
        ("幸福小区3-2-501", None, None, "3", None, None),
        ("张三", None, None, None, "张三", None),
        ("幸福小区", None, None, None, None, "幸福小区"),
        ("欧阳娜娜娜", None, None, None, "欧阳娜娜娜", "欧阳娜娜娜"),
    ],
)
def test_plan_lookup(typed, phone, ident, building, name, community):
    plan = plan_lookup(typed, area_code="0538")
    assert plan.phone == phone
    assert plan.ident == ident
    assert (plan.address.building if plan.address else None) == building
    assert plan.name == name
    assert plan.community == community


@pytest.mark.parametrize(
    ("typed", "queries"),
    [
        ("13912345678", 1),  # phone: one statement with row, primary phone and care flag
        ("10000002", 1),  # account number found: meters are not searched
        ("和平小区3-2-501", 1),  # address in the named community
        ("13812345678", 2),  # + the care registry, only because this customer is registered
    ],
)
def test_lookup_query_count(agent_x, city, django_assert_num_queries, typed, queries):
    """Speed at a million customers comes from few indexed statements (bench/lookup.py measures)."""
    agent_x.company  # the area code is read from the company, loaded once per request in service
    with django_assert_num_queries(queries):
        assert caller_lookup(user=agent_x, query=typed)
