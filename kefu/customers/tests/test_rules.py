"""The account-number rule (kefu/customers/rules.py, docs/import.md) is the same at every entry
point: the web form, the API and the import accept and refuse the same account numbers with the
same message, and the caller lookup finds what they accept."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kefu.core.errors import DomainError
from kefu.customers.importing import import_customers
from kefu.customers.models import Customer
from kefu.customers.rules import account_no_problem, clean_account_no
from kefu.customers.selectors import caller_lookup
from kefu.customers.tests.test_api import auth
from kefu.customers.tests.test_customer_services import clerk_x, seed_categories  # noqa: F401 (fixture)
from kefu.customers.tests.test_import import LINES, write_csv

GOOD = ["3800012345", "A-1", "A.123", "a_7.B-9", "1", "X" * 30]
BAD = ["", ".A1", "-1", "A 1", "户号1", "A/1", "A+1", "X" * 31, "3.8E+09"]


@pytest.mark.parametrize("value", GOOD)
def test_good_account_numbers(value):
    assert account_no_problem(value) is None
    assert clean_account_no(f"  {value} ") == value


def test_full_width_is_folded():
    assert clean_account_no("Ａ．１２３") == "A.123"


@pytest.mark.parametrize("value", BAD)
def test_bad_account_numbers_say_why(value):
    problem = account_no_problem(value)
    assert problem and "户号" in problem
    with pytest.raises(DomainError) as exc:
        clean_account_no(value)
    assert exc.value.field == "account_no" and exc.value.message == problem


def _form(client, user, account_no: str):
    client.force_login(user)
    return client.post(
        reverse("customers:create"),
        {
            "account_no": account_no,
            "name": "王五",
            "category": "resident",
            "address": "幸福小区5号楼1单元302室",
            "status": "active",
        },
    )


def _api(client, user, account_no: str):
    return client.post(
        "/api/v1/customers/",
        {"account_no": account_no, "name": "王五", "category": "居民", "address": "幸福小区5号楼1单元302室"},
        content_type="application/json",
        **auth(user, write=True),
    )


def _import(company, tmp_path, account_no: str):
    line = LINES[0].replace("1001,", f"{account_no},", 1)
    return import_customers(company=company, path=write_csv(tmp_path / "one.csv", [line]))


@pytest.mark.django_db
@pytest.mark.parametrize("account_no", ["A.123", "A-1_2"])
def test_form_api_and_import_accept_the_same(client, clerk_x, tmp_path, account_no):
    seed_categories(clerk_x.company)
    assert _form(client, clerk_x, account_no).status_code == 302
    assert Customer.objects.filter(account_no=account_no).count() == 1
    Customer.objects.all().delete()
    assert _api(client, clerk_x, account_no).status_code == 201
    assert Customer.objects.filter(account_no=account_no).count() == 1
    Customer.objects.all().delete()
    report = _import(clerk_x.company, tmp_path, account_no)
    assert report.ok, report.summary()
    assert Customer.objects.filter(account_no=account_no).count() == 1
    # The lookup finds it by its account number (P2).
    found = caller_lookup(user=clerk_x, query=account_no)
    assert [(c.account_no, c.match) for c in found] == [(account_no, "account")]


@pytest.mark.django_db
@pytest.mark.parametrize("account_no", [".A1", "A 1", "A/1", "X" * 31])
def test_form_api_and_import_refuse_the_same_with_the_same_message(client, clerk_x, tmp_path, account_no):
    seed_categories(clerk_x.company)
    problem = account_no_problem(account_no)
    r = _form(client, clerk_x, account_no)
    assert r.status_code == 200 and not Customer.objects.exists()
    if len(account_no) <= 30:  # a longer one is cut by the form field's maxlength first
        assert problem in r.content.decode().replace("&quot;", '"').replace("&#x27;", "'")
    r = _api(client, clerk_x, account_no)
    assert r.status_code in (400, 422) and not Customer.objects.exists()
    if r.status_code == 400:
        assert r.json()["detail"] == problem and r.json()["field"] == "account_no"
    report = _import(clerk_x.company, tmp_path, account_no)
    assert [(e.column, e.reason) for e in report.errors] == [("户号", problem)]
    assert not Customer.objects.exists()


def test_field_lengths_are_the_columns():
    """One table of lengths (rules.MAX_LEN) for form, API, service and import: the database columns."""
    from kefu.customers.models import CareRegistration, Customer, CustomerStatusChange, Meter, Phone, Premise
    from kefu.customers.rules import MAX_LEN

    columns = {
        "account_no": Customer,
        "name": Customer,
        "district": Premise,
        "street": Premise,
        "community": Premise,
        "building": Premise,
        "unit": Premise,
        "room": Premise,
        "address": Premise,
        "supply_zone": Premise,
    }
    for key, model in columns.items():
        assert MAX_LEN[key] == model._meta.get_field(key).max_length, key
    assert MAX_LEN["meter_serial"] == Meter._meta.get_field("serial").max_length
    assert MAX_LEN["status_reason"] == CustomerStatusChange._meta.get_field("reason").max_length
    assert MAX_LEN["phone_label"] == Phone._meta.get_field("label").max_length
    assert MAX_LEN["consent_by"] == CareRegistration._meta.get_field("consent_by").max_length
    assert MAX_LEN["care_note"] == CareRegistration._meta.get_field("note").max_length
