"""The administrator's admin site (S1, S2, 三权分立): the second-factor and role gate, company scoping,
user creation and changes through the services with audit rows, no deletion, disable and unlock."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session

from kefu.accounts import services
from kefu.accounts.audit import Action
from kefu.accounts.models import AuditEvent, Lockout, User
from kefu.accounts.tests.conftest import verified_client
from kefu.accounts.tests.factories import TEST_PASSWORD, DepartmentFactory, TeamFactory, UserFactory
from kefu.core.errors import Conflict, DomainError, Forbidden

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Chushi-Mima-2026"


# --- The gate ---------------------------------------------------------------------------------


def test_admin_without_second_factor_is_sent_to_mfa(clock, client, admin_x):
    client.force_login(admin_x)
    r = client.get("/admin/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/mfa/")


def test_admin_site_checks_verification_itself(clock, rf, admin_x, settings):
    """Even with the MFA policy switched off, the admin site requires a verified second factor."""
    from kefu.accounts.admin import admin_has_permission

    request = rf.get("/admin/")
    request.user = admin_x
    admin_x.is_verified = lambda: False
    assert not admin_has_permission(request)
    admin_x.is_verified = lambda: True
    assert admin_has_permission(request)
    admin_x.role = "manager"  # staff flag alone is not enough: the role must manage accounts
    assert not admin_has_permission(request)


def test_verified_admin_gets_in_and_agent_does_not(clock, client, admin_x, agent_x):
    verified_client(client, admin_x)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200
    client.logout()
    client.force_login(agent_x)
    r = client.get("/admin/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]


# --- Users ------------------------------------------------------------------------------------


def test_create_user_in_admin(clock, client, admin_x):
    dept = DepartmentFactory(company=admin_x.company)
    team = TeamFactory(department=dept)
    verified_client(client, admin_x)
    r = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "zhangsan",
            "employee_no": "K1001",
            "full_name": "张三",
            "role": "agent",
            "department": dept.pk,
            "team": team.pk,
            "mobile": "13800138000",
            "email": "",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    user = User.objects.get(username="zhangsan")
    assert user.company == admin_x.company and user.must_change_password and not user.is_staff
    row = AuditEvent.objects.get(action=Action.USER_CREATED)
    assert row.actor == admin_x and row.detail["user"]["employee_no"] == "K1001"
    assert "password" not in row.detail["user"]


def test_admin_form_refuses_weak_password_and_duplicate_employee_no(clock, client, admin_x, agent_x):
    verified_client(client, admin_x)
    data = {
        "username": "lisi",
        "employee_no": agent_x.employee_no,
        "full_name": "李四",
        "role": "agent",
        "password1": "abc",
        "password2": "abc",
    }
    r = client.post("/admin/accounts/user/add/", data)
    assert r.status_code == 200
    errors = r.context["adminform"].form.errors
    assert "password1" in errors and "employee_no" in errors
    assert not User.objects.filter(username="lisi").exists()


def test_change_user_writes_diff_and_role_change(clock, client, admin_x, agent_x):
    verified_client(client, admin_x)
    r = client.get(f"/admin/accounts/user/{agent_x.pk}/change/")
    assert r.status_code == 200
    form = r.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update({"full_name": "王五", "role": "team_lead", "must_change_password": ""})
    data = {k: v for k, v in data.items() if v is not False}
    r = client.post(f"/admin/accounts/user/{agent_x.pk}/change/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    agent_x.refresh_from_db()
    assert (agent_x.full_name, agent_x.role) == ("王五", "team_lead")
    changed = AuditEvent.objects.get(action=Action.USER_CHANGED)
    assert changed.detail["changes"]["full_name"][1] == "王五"
    assert changed.detail["changes"]["role"] == ["agent", "team_lead"]
    assert AuditEvent.objects.get(action=Action.ROLE_CHANGED).detail == {
        "changes": {"role": ["agent", "team_lead"]}
    }


def test_role_to_admin_gives_staff_and_back(clock, admin_x, agent_x):
    services.user_change_role(by=admin_x, user=agent_x, role="admin")
    agent_x.refresh_from_db()
    assert agent_x.is_staff
    services.user_change_role(by=admin_x, user=agent_x, role="agent")
    agent_x.refresh_from_db()
    assert not agent_x.is_staff
    assert AuditEvent.objects.filter(action=Action.ROLE_CHANGED).count() == 2


def test_service_rules(clock, admin_x, admin_y, agent_x, agent_y):
    with pytest.raises(Forbidden):
        services.user_change_role(by=admin_x, user=admin_x, role="auditor")  # no self-promotion
    with pytest.raises(Forbidden):
        services.user_change_role(by=admin_x, user=agent_y, role="manager")  # other company
    with pytest.raises(Forbidden):
        services.user_change(by=admin_x, user=agent_x, group_reader=True)  # only the superuser
    with pytest.raises(DomainError):
        services.user_change_role(by=admin_x, user=agent_x, role="god")
    with pytest.raises(DomainError):
        services.user_change(by=admin_x, user=agent_x, is_superuser=True)
    with pytest.raises(Conflict):
        services.user_create(
            by=admin_x,
            company=admin_x.company,
            username="new",
            employee_no=agent_x.employee_no,
            full_name="新人",
            role="agent",
            password=NEW_PASSWORD,
        )
    with pytest.raises(DomainError):
        services.user_create(
            by=admin_x,
            company=admin_x.company,
            username="new",
            employee_no="N1",
            full_name="新人",
            role="agent",
            password="short",
        )
    other_dept = DepartmentFactory(company=admin_y.company)
    with pytest.raises(DomainError):
        services.user_create(
            by=admin_x,
            company=admin_x.company,
            username="new",
            employee_no="N1",
            full_name="新人",
            role="agent",
            password=NEW_PASSWORD,
            department=other_dept,
        )
    with pytest.raises(Forbidden):
        services.user_disable(user=admin_x, by=admin_x)
    # the same employee number is fine in another company (unique within a company only)
    services.user_create(
        by=admin_y,
        company=admin_y.company,
        username="new",
        employee_no=agent_x.employee_no,
        full_name="新人",
        role="agent",
        password=NEW_PASSWORD,
    )


def test_no_delete_anywhere(clock, client, admin_x, agent_x):
    verified_client(client, admin_x)
    r = client.get("/admin/accounts/user/")
    assert "delete_selected" not in r.content.decode()
    assert client.get(f"/admin/accounts/user/{agent_x.pk}/delete/").status_code == 403
    r = client.post(f"/admin/accounts/user/{agent_x.pk}/delete/", {"post": "yes"})
    assert r.status_code == 403
    assert User.objects.filter(pk=agent_x.pk).exists()


def test_disable_action_ends_sessions(clock, client, admin_x, agent_x):
    from django.test import Client

    agent_client = Client()
    agent_client.force_login(agent_x)
    verified_client(client, admin_x)
    r = client.post("/admin/accounts/user/", {"action": "disable_users", "_selected_action": [agent_x.pk]})
    assert r.status_code == 302
    agent_x.refresh_from_db()
    assert not agent_x.is_active
    assert agent_client.get("/").status_code == 302
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(agent_x.pk)]
    assert AuditEvent.objects.get(action=Action.USER_DISABLED).actor == admin_x


def test_password_reset_in_admin(clock, client, admin_x, agent_x):
    verified_client(client, admin_x)
    r = client.post(
        f"/admin/accounts/user/{agent_x.pk}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert r.status_code == 302
    agent_x.refresh_from_db()
    assert agent_x.check_password(NEW_PASSWORD) and agent_x.must_change_password
    assert AuditEvent.objects.get(action=Action.PASSWORD_RESET).actor == admin_x
    r = client.post(
        f"/admin/accounts/user/{agent_x.pk}/password/", {"password1": "weak", "password2": "weak"}
    )
    assert r.status_code == 200


def test_reset_mfa_action(clock, client, admin_x, supervisor_x):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=supervisor_x, name="phone", confirmed=True)
    verified_client(client, admin_x)
    client.post("/admin/accounts/user/", {"action": "reset_mfa", "_selected_action": [supervisor_x.pk]})
    assert not TOTPDevice.objects.filter(user=supervisor_x).exists()
    assert AuditEvent.objects.get(action=Action.MFA_RESET).detail["devices"] == 1


def test_unlock_action(clock, client, admin_x, agent_x):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "agent_x", "password": "wrong"}, REMOTE_ADDR="10.1.1.1")
    verified_client(client, admin_x)
    r = client.get("/admin/accounts/lockout/")
    assert r.status_code == 200 and "agent_x" in r.content.decode()
    ids = list(Lockout.objects.values_list("pk", flat=True))
    client.post("/admin/accounts/lockout/", {"action": "release_locks", "_selected_action": ids})
    assert not Lockout.objects.filter(released_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action=Action.UNLOCKED, actor=admin_x).count() == 2
    client.logout()
    r = client.post(
        "/accounts/login/", {"username": "agent_x", "password": TEST_PASSWORD}, REMOTE_ADDR="10.1.1.1"
    )
    assert r.status_code == 302


# --- Company scoping --------------------------------------------------------------------------


def test_admin_sees_only_own_company(clock, client, admin_x, agent_x, agent_y):
    dept_y = DepartmentFactory(company=agent_y.company, name="Y客服中心")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "agent_y", "password": "wrong"}, REMOTE_ADDR="10.2.2.2")
    verified_client(client, admin_x)
    page = client.get("/admin/accounts/user/").content.decode()
    assert "agent_x" in page and "agent_y" not in page
    assert client.get(f"/admin/accounts/user/{agent_y.pk}/change/").status_code == 302  # "does not exist"
    assert (
        client.post(
            f"/admin/accounts/user/{agent_y.pk}/password/",
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        ).status_code
        == 404
    )
    assert "Y客服中心" not in client.get("/admin/accounts/department/").content.decode()
    assert client.get(f"/admin/accounts/department/{dept_y.pk}/change/").status_code == 302
    assert "Y市燃气" not in client.get("/admin/accounts/company/").content.decode()
    lock_page = client.get("/admin/accounts/lockout/").content.decode()
    assert "agent_y" not in lock_page
    # disabling a Y user through the action with a forged id does nothing
    client.post("/admin/accounts/user/", {"action": "disable_users", "_selected_action": [agent_y.pk]})
    agent_y.refresh_from_db()
    assert agent_y.is_active
    # the department form offers only the own company's departments
    r = client.get("/admin/accounts/user/add/")
    choices = [c for c, _label in r.context["adminform"].form.fields["department"].choices if c]
    assert dept_y.pk not in [int(str(c)) for c in choices]


def test_department_create_is_scoped_and_audited(clock, client, admin_x):
    verified_client(client, admin_x)
    r = client.post(
        "/admin/accounts/department/add/",
        {"code": "repair", "name": "维修部", "kind": "repair", "is_active": "on"},
    )
    assert r.status_code == 302
    row = AuditEvent.objects.get(action=Action.CREATED, object_type="accounts.department")
    assert row.company == admin_x.company and row.detail["values"]["name"] == "维修部"


def test_admin_site_sends_staff_to_mfa_even_with_policy_off(clock, client, admin_x, settings):
    settings.KEFU_SECURITY = {**settings.KEFU_SECURITY, "MFA_ENFORCED": False}
    client.force_login(admin_x)
    assert client.get("/").status_code == 200  # the policy is off for ordinary pages
    r = client.get("/admin/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/mfa/")


def test_superuser_manages_every_company_and_grants_group_read(clock, company_x, company_y, agent_y):
    root = UserFactory(company=None, username="root", is_superuser=True, is_staff=True)
    user = services.user_create(
        by=root,
        company=company_y,
        username="reader",
        employee_no="G1",
        full_name="集团审计",
        role="auditor",
        password=NEW_PASSWORD,
        group_reader=True,
    )
    assert user.group_reader and user.company == company_y
    services.user_change(by=root, user=agent_y, group_reader=True)
    row = AuditEvent.objects.get(action=Action.ROLE_CHANGED)
    assert row.detail == {"changes": {"group_reader": [False, True]}} and row.company == company_y


def test_admin_revokes_company_tokens_only(clock, client, admin_x, agent_x, agent_y):
    from kefu.accounts.models import ApiToken

    tx, _raw = services.token_create(user=agent_x, name="X脚本", scopes=[])
    ty, _raw = services.token_create(user=agent_y, name="Y脚本", scopes=[])
    verified_client(client, admin_x)
    page = client.get("/admin/accounts/apitoken/").content.decode()
    assert "X脚本" in page and "Y脚本" not in page
    assert token_hash_not_shown(page, tx)
    client.post("/admin/accounts/apitoken/", {"action": "revoke_tokens", "_selected_action": [tx.pk, ty.pk]})
    assert ApiToken.objects.get(pk=tx.pk).revoked_at is not None
    assert ApiToken.objects.get(pk=ty.pk).revoked_at is None
    assert AuditEvent.objects.get(action=Action.TOKEN_REVOKED).actor == admin_x


def token_hash_not_shown(page: str, token) -> bool:
    return token.token_hash not in page


def test_every_admin_page_renders(clock, client, admin_x, agent_x, company_x):
    """Changelists, add and change pages render for the company administrator and the superuser."""
    dept = DepartmentFactory(company=company_x)
    team = TeamFactory(department=dept)
    root = UserFactory(company=None, username="root", is_superuser=True, is_staff=True)
    for who in (admin_x, root):
        client.logout()
        verified_client(client, who)
        for path in [
            "/admin/",
            "/admin/accounts/user/",
            "/admin/accounts/user/add/",
            f"/admin/accounts/user/{agent_x.pk}/change/",
            f"/admin/accounts/user/{admin_x.pk}/change/",
            f"/admin/accounts/user/{agent_x.pk}/password/",
            "/admin/accounts/department/",
            f"/admin/accounts/department/{dept.pk}/change/",
            "/admin/accounts/team/",
            f"/admin/accounts/team/{team.pk}/change/",
            "/admin/accounts/company/",
            f"/admin/accounts/company/{company_x.pk}/change/",
            "/admin/accounts/companygroup/",
            "/admin/accounts/lockout/",
            "/admin/accounts/apitoken/",
        ]:
            assert client.get(path).status_code == 200, (who.username, path)
    client.logout()
    verified_client(client, admin_x)
    form = client.get(f"/admin/accounts/user/{admin_x.pk}/change/").context["adminform"].form
    assert form.fields["role"].disabled  # no changing one's own role
    assert "group_reader" not in form.fields
