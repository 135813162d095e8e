"""The small things a service centre's first day found: the language menu names each language in
its own words; "已超时 0分" never; a bare surname never (L3: 郭先生/女士); the admin speaks Chinese
and lists each department once; stored Chinese names (kinds, commitments, holidays) and the
worker's notifications read in English when the interface is English."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from kefu.accounts.tests.factories import DepartmentFactory, UserFactory


def test_language_menu_names_each_language_in_its_own_words(client, db):
    client.cookies["django_language"] = "en"
    html = client.get("/accounts/login/").content.decode()
    assert '<option value="en" selected>English</option>' in html and 'aria-label="Language"' in html
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/accounts/login/").content.decode()
    assert '<option value="zh-hans" selected>简体中文</option>' in html and 'aria-label="语言"' in html


def test_no_zero_minutes_overdue():
    from kefu.sla.templatetags.sla_tags import human_span

    assert human_span(timedelta(seconds=20)) == "不到1分"
    assert human_span(timedelta(minutes=5)) == "5分"


def test_salutation_never_a_bare_surname():
    from kefu.tickets.models import Ticket

    assert Ticket(caller_surname="郭").salutation == "郭先生/女士"
    assert Ticket(caller_surname="郭", caller_title="ms").salutation == "郭女士"
    assert Ticket().salutation == ""


def test_stored_names_in_english():
    from kefu.core.templatetags.kefu_tags import label
    from kefu.notify.templatetags.notify_tags import notice_text
    from kefu.sla.templatetags.sla_tags import holiday_name

    with translation.override("en"):
        assert holiday_name("春节调休上班") == "Spring Festival (make-up working day)"
        assert holiday_name("本公司厂庆") == "本公司厂庆"
        assert (
            label("报警抢险") == "Gas leak / emergency repair"
            and label("紧急抢险到达现场") == "Emergency crew on site"
        )
        title = notice_text(
            "工单 GD20260303-0001「C8 紧急抢险到达现场」 已超时（应于 2026-03-03 09:40 前完成）"
        )
        assert (
            "GD20260303-0001" in title and "Emergency crew on site" in title and "2026-03-03 09:40" in title
        )
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in title)
        assert notice_text("请在到期前处理，超时将通知主管。") != "请在到期前处理，超时将通知主管。"
        assert notice_text("别的通知") == "别的通知"
    with translation.override("zh-hans"):
        assert notice_text("请在到期前处理，超时将通知主管。") == "请在到期前处理，超时将通知主管。"


@pytest.fixture
def admin_client(client, company_x, company_y):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin = UserFactory(company=company_x, role="admin", username="adm", is_staff=True)
    client.force_login(admin)
    session = client.session
    session["otp_device_id"] = TOTPDevice.objects.create(user=admin, name="t", confirmed=True).persistent_id
    session.save()
    return client


def test_admin_user_pages_in_chinese_and_each_department_once(admin_client, company_x, company_y):
    for company in (company_x, company_y):
        dept = DepartmentFactory(company=company, code="repair", name="维修部")
        UserFactory(company=company, role="technician", department=dept)
    html = admin_client.get("/admin/accounts/user/").content.decode()
    assert html.count("?department__id__exact=") == 1
    html = admin_client.get("/admin/accounts/user/add/").content.decode()
    assert "After you’ve created a user" not in html and "保存后可以继续填写姓名" in html


def test_api_docs_use_packaged_assets(client, agent_x):
    client.force_login(agent_x)
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    from django.contrib.staticfiles import finders

    assert finders.find("ninja/swagger-ui-bundle.js") and finders.find("ninja/redoc.standalone.js")
