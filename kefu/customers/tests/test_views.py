"""Web shell (issue 2 item 10): search page (?q=, ?phone=, htmx partial), customer page (masked,
"显示完整信息" for permitted roles and logged), create/edit forms, home page per role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kefu.accounts.models import AuditEvent
from kefu.accounts.tests.factories import UserFactory
from kefu.customers.models import Customer
from kefu.customers.tests.test_customer_services import new_customer, seed_categories


@pytest.fixture
def zhang(supervisor_x):
    from datetime import date

    from kefu.customers import services

    c = new_customer(supervisor_x, phones=[{"number": "13812345678"}])
    services.care_register(
        user=supervisor_x,
        customer_id=c.pk,
        needs=["elderly"],
        consent_on=date(2026, 1, 1),
        consent_by="张三丰",
    )
    return c


@pytest.fixture
def clerk_x(company_x):
    return UserFactory(company=company_x, role="clerk", username="clerk_x")


def test_search_page_by_phone_param(client, agent_x, zhang):
    client.force_login(agent_x)
    r = client.get(reverse("customers:search"), {"phone": "+8613812345678"})
    html = r.content.decode()
    assert r.status_code == 200
    assert "来电号码" in html
    assert "张**" in html and "138****5678" in html
    assert "张三丰" not in html
    assert "13812345678" not in html.replace("+8613812345678", "").replace("%2B8613812345678", "")
    assert "关爱·老" in html
    assert reverse("customers:detail", args=[zhang.pk]) in html


def test_search_htmx_returns_only_the_results(client, agent_x, zhang):
    client.force_login(agent_x)
    r = client.get(reverse("customers:search"), {"q": "幸福小区3-2-501"}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert "<html" not in html
    assert "张**" in html


def test_search_nothing_found_says_so(client, agent_x, zhang):
    client.force_login(agent_x)
    r = client.get(reverse("customers:search"), {"q": "13999999999"})
    assert "没有找到" in r.content.decode()


def test_search_other_company_finds_nothing(client, agent_y, zhang):
    client.force_login(agent_y)
    r = client.get(reverse("customers:search"), {"q": "13812345678"})
    assert "张**" not in r.content.decode()


def test_search_needs_login(client):
    r = client.get(reverse("customers:search"), {"q": "1"})
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_search_refused_for_administrator(client, company_x, settings):
    settings.KEFU_SECURITY = {**settings.KEFU_SECURITY, "MFA_ENFORCED": False}
    auditor = UserFactory(company=company_x, role="admin")
    client.force_login(auditor)
    assert client.get(reverse("customers:search"), {"q": "1"}).status_code == 403


def test_detail_masked_for_agent_without_unmask_button(client, agent_x, zhang):
    client.force_login(agent_x)
    r = client.get(reverse("customers:detail", args=[zhang.pk]))
    html = r.content.decode()
    assert r.status_code == 200
    assert "张**" in html and "138****5678" in html and "特殊关爱客户" in html
    assert "显示完整信息" not in html
    assert client.post(reverse("customers:unmask", args=[zhang.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="privacy.unmasked_view").exists()


def test_detail_unmask_by_clerk_is_logged(client, clerk_x, zhang):
    client.force_login(clerk_x)
    html = client.get(reverse("customers:detail", args=[zhang.pk])).content.decode()
    assert "显示完整信息" in html
    assert client.get(reverse("customers:unmask", args=[zhang.pk])).status_code == 405  # never a GET link
    r = client.post(reverse("customers:unmask", args=[zhang.pk]))
    html = r.content.decode()
    assert r.status_code == 200
    assert "张三丰" in html and "13812345678" in html
    assert (
        AuditEvent.objects.filter(
            action="privacy.unmasked_view", actor=clerk_x, object_id=str(zhang.pk)
        ).count()
        == 1
    )


def test_detail_unmask_by_supervisor_is_logged(client, supervisor_x, zhang, settings):
    settings.KEFU_SECURITY = {**settings.KEFU_SECURITY, "MFA_ENFORCED": False}
    client.force_login(supervisor_x)
    r = client.post(reverse("customers:unmask", args=[zhang.pk]))
    assert r.status_code == 200 and "张三丰" in r.content.decode()
    assert AuditEvent.objects.filter(action="privacy.unmasked_view", actor=supervisor_x).count() == 1


def test_detail_other_company_404(client, agent_y, zhang):
    client.force_login(agent_y)
    assert client.get(reverse("customers:detail", args=[zhang.pk])).status_code == 404


def test_create_and_edit_by_clerk(client, clerk_x):
    seed_categories(clerk_x.company)
    client.force_login(clerk_x)
    r = client.post(
        reverse("customers:create"),
        {
            "account_no": "555",
            "name": "王五",
            "category": "resident",
            "phones_text": "139 1234 5678\n6201234",
            "address": "幸福小区5号楼1单元302室",
            "status": "active",
        },
    )
    assert r.status_code == 302, r.content.decode()
    c = Customer.objects.get(account_no="555")
    assert list(c.phones.order_by("-is_primary").values_list("number", flat=True)) == [
        "13912345678",
        "05386201234",
    ]
    r = client.get(reverse("customers:edit", args=[c.pk]))
    assert r.status_code == 200 and "王五" in r.content.decode()
    assert AuditEvent.objects.filter(action="privacy.unmasked_view", object_id=str(c.pk)).count() == 1
    form = {
        "name": "王六",
        "category": "resident",
        "phones_text": "13912345678\n05386201234",
        "address": "幸福小区5号楼1单元302室",
        "status": "active",
        "version": "1",
    }
    assert client.post(reverse("customers:edit", args=[c.pk]), form).status_code == 302
    c.refresh_from_db()
    assert (c.name, c.version) == ("王六", 2)
    diff = AuditEvent.objects.filter(action="data.updated", object_id=str(c.pk)).get().detail["changes"]
    assert list(diff) == ["name"]
    # The same stale form again: a conflict message, nothing overwritten.
    r = client.post(reverse("customers:edit", args=[c.pk]), {**form, "name": "赵七"})
    assert r.status_code == 200 and "已被他人修改" in r.content.decode()
    c.refresh_from_db()
    assert c.name == "王六"


def test_create_form_shows_service_errors(client, clerk_x):
    seed_categories(clerk_x.company)
    client.force_login(clerk_x)
    r = client.post(
        reverse("customers:create"),
        {
            "account_no": "556",
            "name": "王五",
            "category": "resident",
            "phones_text": "12345",
            "address": "x",
            "status": "active",
        },
    )
    assert r.status_code == 200 and "电话号码无效" in r.content.decode()
    assert not Customer.objects.filter(account_no="556").exists()


def test_agent_cannot_open_forms(client, agent_x, zhang):
    client.force_login(agent_x)
    assert client.get(reverse("customers:create")).status_code == 403
    assert client.get(reverse("customers:edit", args=[zhang.pk])).status_code == 403


@pytest.mark.parametrize(
    ("role", "present", "absent"),
    [
        ("agent", ["来电查询"], ["审计日志", "系统管理", "新建客户"]),
        ("clerk", ["新建客户"], ["审计日志"]),
        ("auditor", ["审计日志"], ["来电查询", "系统管理"]),
        ("admin", ["系统管理"], ["审计日志"]),
    ],
)
def test_home_per_role(client, company_x, role, present, absent, settings):
    settings.KEFU_SECURITY = {**settings.KEFU_SECURITY, "MFA_ENFORCED": False}
    user = UserFactory(company=company_x, role=role)
    client.force_login(user)
    html = client.get("/").content.decode()
    main = html.split('<div class="tiles">', 1)[1]
    for text in present:
        assert text in main, text
    for text in absent:
        assert text not in main, text
    assert ('name="q"' in html) == (role in ("agent", "clerk"))


def test_admin_has_categories_but_no_personal_data():
    from django.contrib import admin

    from kefu.customers.models import CareRegistration, CustomerCategory, Phone, Premise

    assert admin.site.is_registered(CustomerCategory)
    for model in (Customer, Phone, Premise, CareRegistration):
        assert not admin.site.is_registered(model)
