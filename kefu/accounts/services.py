"""Account services (S1, S2): people's accounts, roles, API tokens, disabling people who leave.

Each service checks who may call it and writes its audit row. The Django admin and the API call
these; nothing else changes accounts.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record, diff_fields
from kefu.accounts.models import ApiToken, Company, Department, Team, User, hash_token
from kefu.accounts.roles import Perm, Role, role_allows
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import Conflict, DomainError, Forbidden

# Fields of a user an account administrator may change (user_change). Role and group-level read
# are permission changes: they also write ROLE_CHANGED.
USER_EDITABLE_FIELDS = (
    "employee_no",
    "full_name",
    "email",
    "mobile",
    "department",
    "team",
    "language",
    "must_change_password",
    "role",
    "group_reader",
)
PERMISSION_FIELDS = ("role", "group_reader")


def user_snapshot(user: User) -> dict[str, Any]:
    """The audited view of a user: plain JSON values (foreign keys by id), never the password."""
    out: dict[str, Any] = {}
    for name in ("username", "company", "is_active", *USER_EDITABLE_FIELDS):
        field = User._meta.get_field(name)
        out[name] = getattr(user, field.attname)
    return out


def assert_can_manage(by: User | None, company: Company | None) -> None:
    """Account administration happens within the administrator's own company (S2); a superuser
    (the operator's installation account) may manage every company."""
    if by is None:
        return  # an operator command (manage.py); the audit row says "command"
    if by.is_superuser and by.is_active:
        return
    assert_perm(by, Perm.ACCOUNT_MANAGE)
    if company is None or by.company_id != company.pk:
        raise Forbidden(_("不能管理其他公司的账号。"), code="other_company")


def _check_org(company: Company, department: Department | None, team: Team | None) -> None:
    if department is not None and department.company_id != company.pk:
        raise DomainError(_("部门不属于该公司。"), field="department")
    if team is not None:
        if team.company_id != company.pk:
            raise DomainError(_("班组不属于该公司。"), field="team")
        if department is not None and team.department_id != department.pk:
            raise DomainError(_("班组不属于所选部门。"), field="team")


def _check_employee_no(company: Company, employee_no: str, exclude_pk: int | None = None) -> None:
    if not employee_no:
        raise DomainError(_("请填写工号。"), field="employee_no")
    clash = User.objects.filter(company=company, employee_no=employee_no)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise Conflict(_("本公司已有工号为 %(no)s 的用户。") % {"no": employee_no}, field="employee_no")


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise DomainError(_("未知的角色：%(r)s") % {"r": role}, field="role")


def _validate_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError("；".join(exc.messages), field="password") from exc


@transaction.atomic
def user_create(
    *,
    by: User | None,
    company: Company,
    username: str,
    employee_no: str,
    full_name: str,
    role: str,
    password: str,
    department: Department | None = None,
    team: Team | None = None,
    mobile: str = "",
    email: str = "",
    group_reader: bool = False,
) -> User:
    """Create a person's own account (S1). The initial password follows the policy and must be
    changed at the first log-in; administrators get staff access to the admin site."""
    assert_can_manage(by, company)
    username = username.strip()
    employee_no = employee_no.strip()
    if not username:
        raise DomainError(_("请填写登录名。"), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(_("登录名 %(u)s 已被使用。") % {"u": username}, field="username")
    _check_employee_no(company, employee_no)
    _check_role(role)
    _check_org(company, department, team)
    if group_reader and by is not None and not by.is_superuser:
        raise Forbidden(_("只有平台超级管理员可以授予集团只读权限。"), field="group_reader")
    user = User(
        company=company,
        username=username,
        employee_no=employee_no,
        full_name=full_name.strip(),
        role=role,
        department=department,
        team=team,
        mobile=mobile.strip(),
        email=email.strip(),
        group_reader=group_reader,
        is_staff=role == Role.ADMIN,
    )
    _validate_password(password, user)
    user.set_password(password)
    user.save()
    # The password history hook cleared the flag on save; an initial password is always temporary.
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    user.must_change_password = True
    audit_record(
        action=Action.USER_CREATED, obj=user, actor=by, company=company, detail={"user": user_snapshot(user)}
    )
    return user


@transaction.atomic
def user_change(*, by: User | None, user: User, **changes: Any) -> User:
    """Change a person's account (S1). Writes USER_CHANGED with the field diff and, when the role or
    group-level read changes, ROLE_CHANGED as well. Username, company and the active flag are not
    changed here (disable/enable have their own services)."""
    unknown = set(changes) - set(USER_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("这些字段不能在此修改：%(f)s") % {"f": ", ".join(sorted(unknown))})
    user = User.objects.select_for_update().get(pk=user.pk)
    assert_can_manage(by, user.company)
    before = user_snapshot(user)
    if by is not None and by.pk == user.pk and any(f in changes for f in PERMISSION_FIELDS):
        if any(changes[f] != getattr(user, f) for f in PERMISSION_FIELDS if f in changes):
            raise Forbidden(_("不能修改自己的角色或权限。"), field="role")
    if "group_reader" in changes and changes["group_reader"] != user.group_reader:
        if by is not None and not by.is_superuser:
            raise Forbidden(_("只有平台超级管理员可以授予集团只读权限。"), field="group_reader")
    if "role" in changes:
        _check_role(changes["role"])
    if "employee_no" in changes:
        changes["employee_no"] = (changes["employee_no"] or "").strip()
        if changes["employee_no"] != user.employee_no:
            _check_employee_no(user.company, changes["employee_no"], exclude_pk=user.pk)
    for name, value in changes.items():
        setattr(user, name, value)
    _check_org(user.company, user.department, user.team)
    user.is_staff = user.role == Role.ADMIN or user.is_superuser
    user.save()
    after = user_snapshot(user)
    diff = diff_fields(before, after)
    if not diff:
        return user
    audit_record(
        action=Action.USER_CHANGED, obj=user, actor=by, company=user.company, detail={"changes": diff}
    )
    role_diff = {k: v for k, v in diff.items() if k in PERMISSION_FIELDS}
    if role_diff:
        audit_record(
            action=Action.ROLE_CHANGED,
            obj=user,
            actor=by,
            company=user.company,
            detail={"changes": role_diff},
        )
    return user


def user_change_role(*, by: User | None, user: User, role: str) -> User:
    """Give a person another role (S1, 三权分立: the administrator assigns, the auditor sees the row)."""
    return user_change(by=by, user=user, role=role)


@transaction.atomic
def user_password_reset(*, by: User | None, user: User, password: str) -> User:
    """An administrator sets a temporary password: it follows the policy, must be changed at the next
    log-in, and every session of the person ends."""
    assert_can_manage(by, user.company)
    _validate_password(password, user)
    user.set_password(password)
    user.save()
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    user.must_change_password = True
    ended = end_sessions(user)
    audit_record(
        action=Action.PASSWORD_RESET,
        obj=user,
        actor=by,
        company=user.company,
        detail={"sessions_ended": ended},
    )
    return user


@transaction.atomic
def user_mfa_reset(*, by: User | None, user: User) -> int:
    """Forget a person's authenticator (lost phone): they enrol a new one at the next log-in."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    assert_can_manage(by, user.company)
    removed, _detail = TOTPDevice.objects.filter(user=user).delete()
    ended = end_sessions(user)
    audit_record(
        action=Action.MFA_RESET,
        obj=user,
        actor=by,
        company=user.company,
        detail={"devices": removed, "sessions_ended": ended},
    )
    return removed


def end_sessions(user: User) -> int:
    """Delete every live browser session of `user` (after disabling or a password reset).

    Sessions last at most the idle timeout, so the live set is small (one per person logged in)."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def user_disable(*, user: User, by: User | None, reason: str = "") -> User:
    """A person who leaves is disabled, never deleted: sessions end, API tokens stop working (S1)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    assert_can_manage(by, user.company)
    if by is not None and by.pk == user.pk:
        raise Forbidden(_("不能停用自己的账号。"))
    if not user.is_active:
        return user
    user.is_active = False
    user.disabled_at = timezone.now()
    user.save(update_fields=["is_active", "disabled_at"])
    ended = end_sessions(user)
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
    audit_record(
        action=Action.USER_DISABLED,
        obj=user,
        actor=by,
        company=user.company,
        detail={"reason": reason, "sessions_ended": ended, "tokens_stopped": tokens},
    )
    return user


@transaction.atomic
def user_enable(*, user: User, by: User | None) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    assert_can_manage(by, user.company)
    if user.is_active:
        return user
    user.is_active, user.disabled_at = True, None
    user.save(update_fields=["is_active", "disabled_at"])
    audit_record(action=Action.USER_ENABLED, obj=user, actor=by, company=user.company)
    return user


@transaction.atomic
def token_create(
    *, user: User, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a named token for `user`; returns the row and the secret, which is never shown again.
    Only the SHA-256 of the secret is stored (S1)."""
    if not user.is_active:
        raise Forbidden(_("账号已停用。"))
    name = name.strip()
    if not name:
        raise DomainError(_("请填写令牌名称。"), field="name")
    if "\x00" in name or len(name) > ApiToken._meta.get_field("name").max_length:
        raise DomainError(_("令牌名称最多 100 个字，且不能含有控制字符。"), field="name")
    unknown = set(scopes) - set(ApiToken.Scope.values)
    if unknown:
        raise DomainError(_("未知的令牌范围：%(s)s") % {"s": ", ".join(sorted(unknown))}, field="scopes")
    if expires_at is not None and timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at)  # a local time without zone: the installation's zone
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(_("过期时间必须晚于当前时间。"), field="expires_at")
    if ApiToken.objects.filter(user=user, name=name).exists():
        raise Conflict(_("已有同名令牌。"), field="name")
    raw = settings.KEFU_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:12],
        token_hash=hash_token(raw),
        scopes=sorted(set(scopes) | {ApiToken.Scope.READ}),
        expires_at=expires_at,
    )
    audit_record(
        action=Action.TOKEN_CREATED,
        obj=row,
        actor=user,
        company=user.company,
        detail={
            "scopes": row.scopes,
            "owner": user.username,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return row, raw


def tokens_visible_to(user: User):
    """Tokens a person may see and revoke: their own; an account administrator also sees those of
    their company (S2: never another company's)."""
    qs = ApiToken.objects.select_related("user")
    if user.is_superuser:
        return qs
    if role_allows(user, Perm.ACCOUNT_MANAGE) and user.company_id:
        return qs.filter(user__company_id=user.company_id)
    return qs.filter(user=user)


@transaction.atomic
def token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    """Revoke a token at once. Its owner may revoke it, and so may an account administrator of the
    owner's company."""
    if token.user_id != by.pk:
        assert_can_manage(by, token.user.company)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            action=Action.TOKEN_REVOKED,
            obj=token,
            actor=by,
            company=token.user.company,
            detail={"owner": token.user.username},
        )
    return token
