"""Companies, departments, teams, personal user accounts, API tokens and the audit log.

S1: every person has a personal account and an employee number unique in their company.
S2/S3: every business record belongs to one company; the audit log records every access to
unmasked personal data and every export.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.roles import Role


class CompanyGroup(models.Model):
    """A group of gas companies (集团). Group-level readers see all its member companies."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)

    class Meta:
        verbose_name = verbose_name_plural = _("集团")

    def __str__(self) -> str:
        return self.name


class Company(models.Model):
    """A member company: the tenant that owns every business record."""

    group = models.ForeignKey(
        CompanyGroup, verbose_name=_("集团"), null=True, blank=True, on_delete=models.PROTECT
    )
    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=30, help_text=_("用于开场白：您好，××燃气公司"))
    time_zone = models.CharField(_("时区"), max_length=40, default="Asia/Shanghai")
    hotline = models.CharField(_("服务热线"), max_length=30, blank=True)
    area_code = models.CharField(
        _("长途区号"), max_length=5, blank=True, help_text=_("本地座机号码补全区号用，如 0538")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("公司")

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    class Kind(models.TextChoices):
        SERVICE_CENTRE = "service_centre", _("客户服务中心")
        REPAIR = "repair", _("维修")
        EMERGENCY = "emergency", _("抢险")
        INSPECTION = "inspection", _("安检")
        ENGINEERING = "engineering", _("工程")
        OPERATIONS = "operations", _("运行")
        COUNTER = "counter", _("营业厅")
        FINANCE = "finance", _("财务")
        GM_OFFICE = "gm_office", _("总经理办公室")
        OTHER = "other", _("其他")

    company = models.ForeignKey(
        Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="departments"
    )
    code = models.SlugField(_("代码"), max_length=32)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("部门")
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="department_code_unique")]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    company = models.ForeignKey(
        Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="teams"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="teams"
    )
    name = models.CharField(_("名称"), max_length=100)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("班组")
        constraints = [models.UniqueConstraint(fields=["department", "name"], name="team_name_unique")]

    def __str__(self) -> str:
        return f"{self.department.name} / {self.name}"

    def clean(self) -> None:
        if self.department_id and self.company_id and self.department.company_id != self.company_id:
            raise ValidationError(_("班组与部门必须属于同一公司"))


class User(AbstractUser):
    """A person's own account (S1). People who leave are disabled (is_active=False), never deleted."""

    company = models.ForeignKey(
        Company, verbose_name=_("公司"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    employee_no = models.CharField(_("工号"), max_length=20, blank=True)
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.AGENT)
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.PROTECT
    )
    team = models.ForeignKey(Team, verbose_name=_("班组"), null=True, blank=True, on_delete=models.PROTECT)
    mobile = models.CharField(_("手机"), max_length=20, blank=True)
    group_reader = models.BooleanField(
        _("集团只读"), default=False, help_text=_("可查看本集团所有成员公司的数据（只读）")
    )
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    must_change_password = models.BooleanField(_("下次登录须改密码"), default=False)
    disabled_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    language = models.CharField(_("界面语言"), max_length=10, default="zh-hans")

    objects = UserManager()

    class Meta:
        verbose_name = verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "employee_no"],
                condition=~models.Q(employee_no=""),
                name="employee_no_unique_in_company",
            )
        ]

    def __str__(self) -> str:
        return f"{self.full_name or self.username} ({self.employee_no or self.username})"

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class PasswordHistory(models.Model):
    """The hashes of a user's recent passwords, so the last N cannot be reused (等保 level 3)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=256)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]


class LoginFailure(models.Model):
    """One failed login. Lock-out counts recent rows per username and per source address."""

    username = models.CharField(max_length=150, db_index=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["source_ip", "at"], name="loginfail_ip_at")]


class Lockout(models.Model):
    """An active lock on a username or a source address, until `until` or an administrator unlocks."""

    class Kind(models.TextChoices):
        USERNAME = "username", _("账号")
        ADDRESS = "address", _("来源地址")

    kind = models.CharField(_("锁定对象"), max_length=10, choices=Kind.choices)
    key = models.CharField(_("账号或地址"), max_length=150)
    locked_at = models.DateTimeField(_("锁定时间"), default=timezone.now)
    until = models.DateTimeField(_("锁定至"), db_index=True)
    released_at = models.DateTimeField(_("解锁时间"), null=True, blank=True)
    released_by = models.ForeignKey(
        User, verbose_name=_("解锁人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = _("登录锁定")
        indexes = [models.Index(fields=["kind", "key", "until"], name="lockout_lookup")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"

    def is_active_at(self, now) -> bool:
        return self.released_at is None and self.until > now


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A named bearer token for an integration (telephony, portal) or a person's script.

    Only the SHA-256 of the secret is stored; the secret is shown once at creation. The token acts
    as its user, limited further by its scopes.
    """

    class Scope(models.TextChoices):
        READ = "read", _("只读")
        WRITE = "write", _("读写")

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=16, db_index=True)
    token_hash = models.CharField(_("密钥哈希"), max_length=64, unique=True)
    scopes = models.JSONField(_("范围"), default=list)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("API 令牌")
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="token_name_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AuditQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes with a clear error before the database trigger would."""

    def update(self, **kwargs):
        raise PermissionError("审计日志只能追加，不能修改")

    def delete(self):
        raise PermissionError("审计日志只能追加，不能删除")

    def _update(self, values):
        raise PermissionError("审计日志只能追加，不能修改")


class AuditEvent(models.Model):
    """One line of the append-only audit log (S2, S3, 等保 level 3).

    No interface updates or deletes a row: `save()` refuses updates, `delete()` refuses, and database
    triggers (migration 0002) refuse UPDATE and DELETE except the archive command's delete of rows it
    has first written to an archive file and recorded in AuditArchive.
    """

    class Result(models.TextChoices):
        OK = "ok", _("成功")
        FAILED = "failed", _("失败")
        DENIED = "denied", _("拒绝")

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("公司"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    actor = models.ForeignKey(
        User,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    actor_label = models.CharField(_("操作人标识"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=60, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    result = models.CharField(_("结果"), max_length=10, choices=Result.choices, default=Result.OK)
    source_ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object_at"),
            models.Index(fields=["company", "at"], name="audit_company_at"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("审计日志只能追加，不能修改")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志只能追加，不能删除")


class AuditArchive(models.Model):
    """A batch of audit rows moved to a file by `kefu archive-audit` (retention ≥ 180 days online).

    The database trigger lets DELETE through only for audit rows with id ≤ a recorded `through_id`
    and a time before its `before`; archive rows themselves can be neither changed nor deleted
    (migration 0003).
    """

    through_id = models.BigIntegerField(_("截止编号"))
    before = models.DateTimeField(_("截止时间"))
    row_count = models.IntegerField(_("条数"))
    path = models.CharField(_("归档文件"), max_length=500)
    sha256 = models.CharField("SHA-256", max_length=64)
    created_at = models.DateTimeField(_("归档时间"), default=timezone.now)
    created_by = models.CharField(_("执行人"), max_length=150, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("审计归档")

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("审计归档记录不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计归档记录不能删除")
