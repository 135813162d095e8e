"""Service-language quality (服务用语质检, L1, L2, L3, L4, L5): rules as data, transcripts and their automatic
findings, human evaluations with their appeals.

- `Rule` / `RuleVersion`: a company's language rule (kefu.quality.engine.RuleSpec as JSON) with its
  labelled examples; every edit is a new `RuleVersion` row (append-only), and a finding keeps the
  version that produced it.
- `Transcript`: one call, chat or written reply to check, as JSON turns; `status` is the worker's
  state (pending → checked), claimed by conditional UPDATE, so nothing is lost if a worker dies.
- `Finding`: one rule hit in one transcript, with its place in the original text and the recording.
- `ScoringItem`, `SamplingPlan`, `Evaluation`, `EvaluationEvent`: inspection by people — what is
  scored, how many calls per agent per week, the evaluation itself (queued → scored →
  acknowledged / appealed → decided), and its append-only record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Company


class Source(models.TextChoices):
    CALL = "call", _("通话")
    CHAT = "chat", _("在线会话")
    REPLY = "reply", _("书面答复")
    RETURN_VISIT = "return_visit", _("回访电话")


class Severity(models.TextChoices):
    INFO = "info", _("提示")
    MINOR = "minor", _("一般")
    MAJOR = "major", _("严重")
    CRITICAL = "critical", _("致命")


class Rule(models.Model):
    """A language rule of one company (L1, L2, L3, L4, L5). `spec` is a RuleSpec as JSON;
    `examples` the labelled
    texts that are its tests; `sources` which texts it applies to. `version` counts edits."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("编号"), max_length=40)
    name = models.CharField(_("名称"), max_length=100)
    clause = models.CharField(_("依据条款"), max_length=60, blank=True)
    severity = models.CharField(
        _("严重程度"), max_length=10, choices=Severity.choices, default=Severity.MINOR
    )
    weight = models.PositiveSmallIntegerField(_("扣分"), default=5)
    spec = models.JSONField(_("规则定义"), default=dict)
    examples = models.JSONField(_("样例"), default=list, blank=True)
    sources = models.JSONField(_("适用文本"), default=list)
    active = models.BooleanField(_("启用"), default=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("质检规则")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="quality_rule_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RuleVersion(models.Model):
    """One version of a rule as it was saved (append-only history of the rules)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    data = models.JSONField(default=dict)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rule", "-version"]
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="quality_ruleversion_unique")]


class CheckStatus(models.TextChoices):
    PENDING = "pending", _("待检")
    CHECKED = "checked", _("已检")
    FAILED = "failed", _("检查失败")


class Transcript(models.Model):
    """A text to check: a call or chat transcript (from the PBX / speech recognition through the
    API) or a written reply of a work order. `turns` = [{speaker, text, start_ms, end_ms, noise}]."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    external_id = models.CharField(_("外部编号"), max_length=100)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("坐席"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ticket_id = models.BigIntegerField(_("工单"), null=True, blank=True)
    turns = models.JSONField(_("对话"), default=list)
    customer_surname = models.CharField(_("客户姓氏"), max_length=10, blank=True)
    hangup_by = models.CharField(_("先挂机方"), max_length=10, blank=True)
    noisy = models.BooleanField(_("线路杂音"), default=False)
    occurred_at = models.DateTimeField(_("发生时间"), default=timezone.now)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    status = models.CharField(
        _("状态"), max_length=10, choices=CheckStatus.choices, default=CheckStatus.PENDING
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    checked_at = models.DateTimeField(_("检查时间"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("自动评分"), null=True, blank=True)
    hit_count = models.PositiveIntegerField(_("命中数"), default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("质检文本")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "source", "external_id"], name="quality_transcript_unique"
            )
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="quality_tr_status"),
            models.Index(fields=["company", "agent", "occurred_at"], name="quality_tr_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.external_id}"


class Finding(models.Model):
    """One hit of one rule (version) in a transcript; `turn` None = the whole conversation (a
    required phrase never said); `start`/`end` in that turn's original text; `at_ms` in the recording."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="findings")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="findings")
    rule_version = models.PositiveIntegerField()
    turn = models.PositiveIntegerField(null=True, blank=True)
    start = models.PositiveIntegerField(default=0)
    end = models.PositiveIntegerField(default=0)
    at_ms = models.BigIntegerField(null=True, blank=True)
    phrase = models.CharField(max_length=200, blank=True)
    missing = models.BooleanField(default=False)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    agent_id_copy = models.BigIntegerField(null=True, blank=True, db_index=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["transcript", "turn", "start"]
        indexes = [models.Index(fields=["company", "occurred_at"], name="quality_finding_company_at")]


class ScoringItem(models.Model):
    """An item of the inspectors' scoring form (configurable per company); a critical item that
    fails sets the whole evaluation to zero."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=40)
    label = models.CharField(_("评分项"), max_length=100)
    max_points = models.PositiveSmallIntegerField(_("分值"), default=10)
    critical = models.BooleanField(_("致命项"), default=False)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="quality_item_code_unique")]


class SamplingPlan(models.Model):
    """How many transcripts per agent per week go to the inspectors, and more for low scores."""

    company = models.OneToOneField(Company, on_delete=models.PROTECT, related_name="+")
    per_agent_week = models.PositiveSmallIntegerField(_("每人每周抽检数"), default=3)
    low_score = models.PositiveSmallIntegerField(_("低分线"), default=80)
    extra_low = models.PositiveSmallIntegerField(_("低分加抽数"), default=2)


class EvalStatus(models.TextChoices):
    QUEUED = "queued", _("待评分")
    SCORED = "scored", _("已评分")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    APPEALED = "appealed", _("申诉中")
    DECIDED = "decided", _("申诉已裁定")


class Evaluation(models.Model):
    """An inspector's evaluation of one transcript (sampled or chosen). `items` =
    [{code, label, max, critical, points}]; `score` is computed from them by
    kefu.quality.scoring.form_score and recomputed when an appeal is upheld."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    transcript = models.ForeignKey(Transcript, on_delete=models.PROTECT, related_name="evaluations")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    week = models.DateField(_("抽检周"), null=True, blank=True)
    reason = models.CharField(_("抽检原因"), max_length=20, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=EvalStatus.choices, default=EvalStatus.QUEUED)
    items = models.JSONField(default=list, blank=True)
    score = models.PositiveSmallIntegerField(_("得分"), null=True, blank=True)
    comment = models.TextField(_("评语"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    scored_at = models.DateTimeField(null=True, blank=True)
    appeal_reason = models.TextField(_("申诉理由"), blank=True)
    decision = models.CharField(_("裁定"), max_length=10, blank=True)
    decision_comment = models.TextField(_("裁定意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["transcript"], name="quality_one_evaluation_per_transcript")
        ]
        indexes = [models.Index(fields=["company", "status"], name="quality_eval_status")]


class EvaluationEvent(models.Model):
    """Append-only record of an evaluation: queued, scored, acknowledged, appealed, decided."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("质检记录只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("质检记录只能追加，不能删除")
