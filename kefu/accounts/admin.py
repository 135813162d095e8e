"""The admin site for the system administrator (S1, S2, 三权分立).

- Only staff users of the administrator role (or the installation's superuser) who have passed the
  second factor in this session get in (`admin_has_permission`).
- Every model is scoped to the administrator's own company; nothing is ever deleted (people who
  leave are disabled with the "停用" action, departments and teams are switched off).
- Every change goes through the services, which write the audit rows (USER_CREATED, USER_CHANGED
  with the field diff, ROLE_CHANGED, ...).
- The audit log is NOT here: the administrator cannot read it; the auditor reads it at /accounts/audit/.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db.models import Q
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts import policy, services
from kefu.accounts.audit import Action, audit_record, diff_fields
from kefu.accounts.context import current_actor
from kefu.accounts.models import ApiToken, Company, CompanyGroup, Department, Lockout, Team, User
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError


def admin_has_permission(request) -> bool:
    """Who may use the admin site at all: an active staff user of the administrator role (or a
    superuser) whose session has passed the second factor (S1) — the rule of
    django_otp.admin.OTPAdminSite plus the role."""
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    if not (user.is_superuser or role_allows(user, Perm.ACCOUNT_MANAGE)):
        return False
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


# The project's default admin site gets the role and second-factor rule (it is the same rule as
# OTPAdminSite.has_permission, without replacing the site other apps register into).
admin.site.has_permission = admin_has_permission

for _model in (Group,):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
try:  # django-otp registers its device admin for every user of every company: not scoped, remove it.
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if admin.site.is_registered(TOTPDevice):
        admin.site.unregister(TOTPDevice)
except ImportError:  # pragma: no cover
    pass


def _json_value(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


class KefuModelAdmin(admin.ModelAdmin):
    """Base for the account and master-data admins: role permission instead of Django's per-model
    permissions, company scoping, no delete, and an audit row with the diff for every save (S2).

    `perm` is the permission code the role needs; `company_path` is the lookup from the model to its
    company ("" for models that are the company themselves)."""

    perm: str = Perm.MASTER_DATA
    company_path: str = "company"
    actions_on_top = True

    def _allowed(self, request) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or role_allows(user, self.perm)))

    def has_module_permission(self, request) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request) and (obj is None or self._in_scope(request, obj))

    def has_add_permission(self, request) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request) and (obj is None or self._in_scope(request, obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # S1: never delete; disable instead

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def _company_id_of(self, obj) -> int | None:
        if not self.company_path:
            return obj.pk
        return getattr(obj, f"{self.company_path}_id")

    def _in_scope(self, request, obj) -> bool:
        return request.user.is_superuser or self._company_id_of(obj) == request.user.company_id

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        lookup = f"{self.company_path}_id" if self.company_path else "pk"
        return qs.filter(**{lookup: request.user.company_id})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            cid = request.user.company_id
            if db_field.related_model is Company:
                kwargs["queryset"] = Company.objects.filter(pk=cid)
            elif db_field.related_model in (Department, Team):
                kwargs["queryset"] = db_field.related_model.objects.filter(company_id=cid)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        ro = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser and self.company_path == "company":
            ro.append("company")
        return ro

    def save_model(self, request, obj, form, change):
        if not change and self.company_path == "company" and not request.user.is_superuser:
            obj.company_id = request.user.company_id
        before = {}
        if change:
            before = {k: _json_value(v) for k, v in model_to_dict(type(obj).objects.get(pk=obj.pk)).items()}
        super().save_model(request, obj, form, change)
        after = {k: _json_value(v) for k, v in model_to_dict(obj).items()}
        company = obj if isinstance(obj, Company) else getattr(obj, "company", None)
        if change:
            diff = diff_fields(before, after)
            if diff:
                audit_record(action=Action.UPDATED, obj=obj, company=company, detail={"changes": diff})
        else:
            audit_record(action=Action.CREATED, obj=obj, company=company, detail={"values": after})


@admin.register(CompanyGroup)
class CompanyGroupAdmin(KefuModelAdmin):
    """Groups are the installation's structure: only the superuser changes them; an administrator
    sees the group of their company."""

    list_display = ("name", "code")

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        company = request.user.company
        return qs.filter(pk=company.group_id) if company and company.group_id else qs.none()

    def _in_scope(self, request, obj) -> bool:
        return request.user.is_superuser or (request.user.company and request.user.company.group_id == obj.pk)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(Company)
class CompanyAdmin(KefuModelAdmin):
    company_path = ""
    list_display = ("name", "short_name", "code", "hotline", "area_code", "is_active")
    search_fields = ("name", "code")

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ()
        return ("code", "group", "is_active")


@admin.register(Department)
class DepartmentAdmin(KefuModelAdmin):
    list_display = ("name", "code", "kind", "company", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code")


@admin.register(Team)
class TeamAdmin(KefuModelAdmin):
    list_display = ("name", "department", "company", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    list_select_related = ("department",)

    def save_model(self, request, obj, form, change):
        if obj.department_id and not obj.company_id:
            obj.company_id = obj.department.company_id
        super().save_model(request, obj, form, change)


# --- Users ------------------------------------------------------------------------------------


class _OrgCheckMixin:
    """Department and team must belong to the user's company, the team to the department; the
    employee number is unique within the company (the model constraint is skipped by the form when
    the company is not one of its fields)."""

    def _check_org(self, cleaned: dict, company: Company | None) -> None:
        dept, team = cleaned.get("department"), cleaned.get("team")
        if company is None:
            return
        employee_no = (cleaned.get("employee_no") or "").strip()
        if employee_no and "employee_no" not in self.errors:
            clash = User.objects.filter(company=company, employee_no=employee_no).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("employee_no", _("本公司已有此工号的用户。"))
        if dept is not None and dept.company_id != company.pk:
            self.add_error("department", _("部门不属于该公司。"))
        if team is not None and (
            team.company_id != company.pk or (dept is not None and team.department_id != dept.pk)
        ):
            self.add_error("team", _("班组不属于所选部门或公司。"))


class UserAddForm(_OrgCheckMixin, forms.ModelForm):
    """New personal account: the initial password follows the policy and must be changed at the
    first log-in (services.user_create)."""

    password1 = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("确认初始密码"), widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = (
            "company",
            "username",
            "employee_no",
            "full_name",
            "role",
            "department",
            "team",
            "mobile",
            "email",
            "group_reader",
        )

    def __init__(self, *args, by: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.by = by
        self.fields["employee_no"].required = True
        self.fields["full_name"].required = True
        if not by.is_superuser:
            self.fields.pop("company", None)
            self.fields.pop("group_reader", None)
            self.instance.company = by.company
        else:
            self.fields["company"].required = True

    def clean(self):
        cleaned = super().clean()
        company = cleaned.get("company") or self.instance.company
        self._check_org(cleaned, company)
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif p1:
            probe = User(
                username=cleaned.get("username") or "",
                full_name=cleaned.get("full_name") or "",
                email=cleaned.get("email") or "",
                employee_no=cleaned.get("employee_no") or "",
            )
            try:
                validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class UserEditForm(_OrgCheckMixin, forms.ModelForm):
    """Changes to an account (services.user_change). Username and company are fixed; the active
    flag changes only through the 停用/启用 actions."""

    class Meta:
        model = User
        fields = services.USER_EDITABLE_FIELDS

    def __init__(self, *args, by: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.by = by
        if not by.is_superuser:
            self.fields.pop("group_reader", None)
        if self.instance.pk == by.pk:
            for name in services.PERMISSION_FIELDS:
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("不能修改自己的角色或权限。")

    def clean(self):
        cleaned = super().clean()
        self._check_org(cleaned, self.instance.company)
        return cleaned


class KefuAdminPasswordChangeForm(AdminPasswordChangeForm):
    """An administrator sets a temporary password (services.user_password_reset): policy-checked,
    must be changed at the next log-in, the person's sessions end, audited."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields.pop("usable_password", None)
        self.fields["password1"].required = True
        self.fields["password2"].required = True

    def save(self, commit=True):
        by = current_actor().user
        by = by if getattr(by, "is_authenticated", False) else None
        return services.user_password_reset(by=by, user=self.user, password=self.cleaned_data["password1"])


@admin.register(User)
class UserAdmin(KefuModelAdmin, DjangoUserAdmin):
    perm = Perm.ACCOUNT_MANAGE
    form = UserEditForm
    add_form = UserAddForm
    add_form_template = "admin/accounts/user/add_form.html"  # Django's own sentence has no Chinese
    change_password_form = KefuAdminPasswordChangeForm
    list_display = (
        "username",
        "employee_no",
        "full_name",
        "role",
        "department",
        "team",
        "is_active",
        "last_login",
    )
    list_filter = (
        "role",
        "is_active",
        ("department", admin.RelatedOnlyFieldListFilter),
    )  # own company only, once each
    search_fields = ("username", "employee_no", "full_name", "mobile")
    ordering = ("employee_no",)
    filter_horizontal = ()
    readonly_fields = (
        "username",
        "company",
        "is_active",
        "disabled_at",
        "last_login",
        "date_joined",
        "password_changed_at",
        "password_link",
    )
    actions = ["disable_users", "enable_users", "reset_mfa"]

    fieldsets = (
        (None, {"fields": ("username", "company", "password_link")}),
        (_("个人信息"), {"fields": ("employee_no", "full_name", "mobile", "email", "language")}),
        (_("组织与角色"), {"fields": ("department", "team", "role", "group_reader")}),
        (
            _("状态"),
            {
                "fields": (
                    "is_active",
                    "disabled_at",
                    "must_change_password",
                    "password_changed_at",
                    "last_login",
                    "date_joined",
                )
            },
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "fields": (
                    "company",
                    "username",
                    "employee_no",
                    "full_name",
                    "role",
                    "department",
                    "team",
                    "mobile",
                    "email",
                    "group_reader",
                    "password1",
                    "password2",
                )
            },
        ),
    )

    @admin.display(description=_("密码"))
    def password_link(self, obj) -> str:
        from django.utils.html import format_html

        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a class="button" href="../password/">{}</a>', _("重置密码"))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        drop = {"company", "group_reader"} if obj is None else {"group_reader"}
        return tuple(
            (title, {**opts, "fields": tuple(f for f in opts["fields"] if f not in drop)})
            for title, opts in fieldsets
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        base = super().get_form(request, obj, **kwargs)
        by = request.user

        class BoundForm(base):
            def __init__(self, *args, **kw):
                super().__init__(*args, by=by, **kw)

        return BoundForm

    def save_model(self, request, obj, form, change):
        """Through the services, which check the rules again and write the audit rows."""
        if not change:
            data = form.cleaned_data
            created = services.user_create(
                by=request.user,
                company=data.get("company") or request.user.company,
                username=data["username"],
                employee_no=data["employee_no"],
                full_name=data["full_name"],
                role=data["role"],
                password=data["password1"],
                department=data.get("department"),
                team=data.get("team"),
                mobile=data.get("mobile") or "",
                email=data.get("email") or "",
                group_reader=bool(data.get("group_reader")),
            )
            obj.__dict__.update({k: v for k, v in created.__dict__.items() if k != "_state"})
            obj._state.adding = False
            return
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.USER_EDITABLE_FIELDS
        }
        if changes:
            changed = services.user_change(by=request.user, user=obj, **changes)
            obj.__dict__.update({k: v for k, v in changed.__dict__.items() if k != "_state"})

    def save_related(self, request, form, formsets, change):
        pass  # no many-to-many (Django groups and per-user permissions are not used: roles are)

    def _each(self, request, queryset, fn, done: str) -> None:
        count = 0
        for user in queryset:
            try:
                fn(user)
                count += 1
            except DomainError as exc:
                self.message_user(request, f"{user}: {exc.message}", messages.ERROR)
        if count:
            self.message_user(request, done % {"n": count}, messages.SUCCESS)

    @admin.action(description=_("停用所选用户（结束会话，令牌失效）"))
    def disable_users(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda u: services.user_disable(user=u, by=request.user, reason="admin"),
            str(_("已停用 %(n)d 个用户。")),
        )

    @admin.action(description=_("启用所选用户"))
    def enable_users(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda u: services.user_enable(user=u, by=request.user),
            str(_("已启用 %(n)d 个用户。")),
        )

    @admin.action(description=_("重置动态口令（下次登录重新绑定）"))
    def reset_mfa(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda u: services.user_mfa_reset(by=request.user, user=u),
            str(_("已为 %(n)d 个用户重置动态口令。")),
        )


@admin.register(Lockout)
class LockoutAdmin(KefuModelAdmin):
    """Current and past log-in locks; the administrator can end a lock early (logged).

    Account locks are shown for the administrator's own company's users; address locks concern
    everybody behind that address and are shown to every administrator."""

    perm = Perm.ACCOUNT_MANAGE
    list_display = ("kind", "key", "locked_at", "until", "state", "released_at", "released_by")
    list_filter = ("kind",)
    search_fields = ("key",)
    actions = ["release_locks"]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        return qs.filter(self._scope_q(request.user))

    @staticmethod
    def _scope_q(user) -> Q:
        names = [
            n.lower()
            for n in User.objects.filter(company_id=user.company_id).values_list("username", flat=True)
        ]
        return Q(kind=Lockout.Kind.ADDRESS) | Q(kind=Lockout.Kind.USERNAME, key__in=names)

    def _in_scope(self, request, obj) -> bool:
        return (
            request.user.is_superuser
            or Lockout.objects.filter(self._scope_q(request.user), pk=obj.pk).exists()
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("状态"))
    def state(self, obj: Lockout) -> str:
        return str(_("锁定中")) if obj.is_active_at(timezone.now()) else str(_("已结束"))

    @admin.action(description=_("解锁所选"))
    def release_locks(self, request, queryset):
        count = 0
        for lock in queryset.filter(released_at__isnull=True, until__gt=timezone.now()):
            try:
                policy.lock_release(lock=lock, by=request.user)
                count += 1
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        self.message_user(request, str(_("已解锁 %(n)d 条。")) % {"n": count}, messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(KefuModelAdmin):
    """API tokens of the company's people (never the secret, which is not stored): the administrator
    sees and revokes them (services.token_revoke, audited). Tokens are created by their owners."""

    perm = Perm.ACCOUNT_MANAGE
    company_path = "user__company"
    list_display = (
        "name",
        "user",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username", "user__full_name")
    list_select_related = ("user",)
    actions = ["revoke_tokens"]

    def _company_id_of(self, obj) -> int | None:
        return obj.user.company_id

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs if request.user.is_superuser else qs.filter(user__company_id=request.user.company_id)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("吊销所选令牌"))
    def revoke_tokens(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            try:
                services.token_revoke(token=token, by=request.user)
                count += 1
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        self.message_user(request, str(_("已吊销 %(n)d 个令牌。")) % {"n": count}, messages.SUCCESS)
