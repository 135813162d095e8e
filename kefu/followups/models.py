"""Complaints, return visits, the knowledge base and satisfaction surveys (P3, P4, P6, P16; C6, C12,
C14, C16, C19, C20; the records behind K13, K15, K16, K17).

Every row carries its company (S2). The only writers are the services of this app; step and attempt
records are append-only (a correction is a new row).
"""

from __future__ import annotations

from datetime import time

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Company, Department, User
from kefu.customers.models import Customer
from kefu.followups.states import ComplaintStep
from kefu.tickets.models import Ticket


class FollowupPolicy(models.Model):
    """A company's follow-up rules, optionally per commitment set (the sampling rate is "per
    commitment set", C14): consultation sample rate, calling hours (C19: never in rest time),
    the retry plan, and the visit windows."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    commitment_set = models.ForeignKey(
        "sla.CommitmentSet",
        verbose_name=_("服务承诺方案"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("空 = 公司默认"),
    )
    consultation_sample_percent = models.PositiveSmallIntegerField(_("咨询回访抽样比例(%)"), default=10)
    sample_seed = models.CharField(_("抽样种子"), max_length=40, default="kefu")
    calling_opens = models.TimeField(_("外呼开始"), default=time(8, 30))
    calling_closes = models.TimeField(_("外呼结束"), default=time(20, 0))
    rest_starts = models.TimeField(_("午休开始"), null=True, blank=True, default=time(12, 0))
    rest_ends = models.TimeField(_("午休结束"), null=True, blank=True, default=time(14, 0))
    max_attempts = models.PositiveSmallIntegerField(_("最多拨打次数"), default=3)
    retry_minutes = models.PositiveIntegerField(_("重拨间隔(分钟)"), default=120)
    visit_window_hours = models.PositiveIntegerField(_("回访时限(小时，C19)"), default=72)
    complaint_visit_hours = models.PositiveIntegerField(_("投诉回访时限(小时)"), default=24)
    consultation_visit_working_days = models.PositiveSmallIntegerField(_("咨询回访时限(工作日)"), default=2)

    class Meta:
        verbose_name = verbose_name_plural = _("回访规则")
        constraints = [
            models.UniqueConstraint(fields=["company", "commitment_set"], name="followup_policy_set"),
            models.UniqueConstraint(
                fields=["company"], condition=Q(commitment_set__isnull=True), name="followup_policy_default"
            ),
            models.CheckConstraint(
                condition=Q(consultation_sample_percent__lte=100), name="followup_policy_percent"
            ),
            models.CheckConstraint(
                condition=Q(calling_opens__lt=models.F("calling_closes")), name="followup_calling"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.commitment_set_id or '-'}"


class PenaltyRule(models.Model):
    """W5: a complaint-based penalty, e.g. "first 30 元, doubled on repeat, dismissal on the third"
    or "100 / 200 元, the manager liable for double". The n-th upheld complaint against the same
    person within `window_days` gets the amount of its row (the highest row applies beyond)."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=60)
    nth = models.PositiveSmallIntegerField(_("第几次"), default=1)
    amount = models.DecimalField(_("金额(元)"), max_digits=8, decimal_places=2, default=0)
    manager_multiplier = models.DecimalField(_("管理人员连带倍数"), max_digits=4, decimal_places=2, default=0)
    dismissal = models.BooleanField(_("解除劳动合同"), default=False)
    window_days = models.PositiveIntegerField(_("统计期(天)"), default=365)
    source = models.CharField(_("依据"), max_length=100, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("投诉考核规则")
        ordering = ["company", "nth"]
        constraints = [models.UniqueConstraint(fields=["company", "nth"], name="penalty_rule_nth")]

    def __str__(self) -> str:
        return f"{self.name} #{self.nth}"


class Complaint(models.Model):
    """The handling of one complaint work order (P4, seed 004 第五条): eight steps, each recorded
    with who and when in ComplaintStepRecord. `step` is the last step completed."""

    class Category(models.TextChoices):
        ATTITUDE = "attitude", _("服务态度")
        QUALITY = "quality", _("服务质量")
        TIMELINESS = "timeliness", _("服务时效")
        BILLING = "billing", _("收费计量")
        SAFETY = "safety", _("安全")
        SUPPLY = "supply", _("供气")
        OTHER = "other", _("其他")

    class Source(models.TextChoices):
        CUSTOMER = "customer", _("客户直接投诉")
        HOTLINE_12345 = "gov_12345", _("政府热线12345")
        REGULATOR = "regulator", _("主管部门转办")
        MEDIA = "media", _("媒体")

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    ticket = models.OneToOneField(
        Ticket, verbose_name=_("工单"), on_delete=models.PROTECT, related_name="complaint"
    )
    step = models.CharField(
        _("处理环节"), max_length=20, choices=ComplaintStep.choices, default=ComplaintStep.RECEIVED
    )
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices, default=Category.OTHER)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices, default=Source.CUSTOMER)
    source_ref = models.CharField(_("转办编号"), max_length=60, blank=True)
    source_due_at = models.DateTimeField(_("转办时限"), null=True, blank=True)
    complainant = models.CharField(_("投诉人"), max_length=40, blank=True)
    complainant_phone = models.CharField(_("投诉人电话"), max_length=20, blank=True)
    demand = models.TextField(_("投诉诉求"), blank=True)
    received_at = models.DateTimeField(_("受理时间"))
    target_department = models.ForeignKey(
        Department,
        verbose_name=_("被投诉部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_user = models.ForeignKey(
        User, verbose_name=_("被投诉人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stands = models.BooleanField(_("投诉成立"), null=True, blank=True)
    judgement_reason = models.TextField(_("判定理由"), blank=True)
    judged_at = models.DateTimeField(_("判定时间"), null=True, blank=True)
    responsible_department = models.ForeignKey(
        Department,
        verbose_name=_("责任部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    responsible_user = models.ForeignKey(
        User, verbose_name=_("责任人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cause = models.TextField(_("原因分析"), blank=True)
    plan = models.TextField(_("处理方案"), blank=True)
    approved_by = models.ForeignKey(
        User, verbose_name=_("审批人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    penalty_amount = models.DecimalField(
        _("考核金额(元)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    penalty_note = models.CharField(_("考核说明"), max_length=200, blank=True)
    promised_at = models.DateTimeField(_("首次答复时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True, help_text=_("判定后的答复"))
    informed_at = models.DateTimeField(_("告知客户时间"), null=True, blank=True)
    feedback = models.TextField(_("客户反馈"), blank=True)
    summary = models.TextField(_("总结"), blank=True)
    evaluation = models.TextField(_("评价"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("重复投诉于"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repeats",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    # The clock events already sent to sla (kefu/followups/clocks.py), and whether a fact was
    # recorded that they do not reflect yet (set with the fact, cleared by the sync; the sweep
    # finds the rows a lost on-commit sync left behind).
    clock_events = models.JSONField(default=list, blank=True)
    clocks_behind = models.BooleanField(default=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = _("投诉处理")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["company", "step", "received_at"], name="complaint_co_step"),
            models.Index(fields=["company", "target_user"], name="complaint_co_target"),
        ]

    def __str__(self) -> str:
        return self.ticket.number if self.ticket_id else str(self.pk)


class ComplaintStepRecord(models.Model):
    """One step of a complaint's handling, with who, when and what (append-only)."""

    class Action(models.TextChoices):
        DONE = "done", _("完成")
        APPROVED = "approved", _("批准")
        SENT_BACK = "sent_back", _("退回")
        UPDATED = "updated", _("补充")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(_("环节"), max_length=20, choices=ComplaintStep.choices)
    action = models.CharField(_("动作"), max_length=12, choices=Action.choices, default=Action.DONE)
    by = models.ForeignKey(
        User, verbose_name=_("操作人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    note = models.TextField(_("内容"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("投诉处理记录")
        ordering = ["at", "id"]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("投诉处理记录只能追加，不能修改")
        super().save(*args, **kwargs)


class Reason(models.TextChoices):
    """Why a return visit is made (P6, C12, C14, C19, C20)."""

    INSTALLATION = "installation", _("安装")
    REPAIR = "repair", _("维修")
    APPLIANCE = "appliance", _("燃气具安装维修")
    COMPLAINT = "complaint", _("投诉")
    CONSULTATION = "consultation", _("咨询")
    PROJECT = "project", _("工程交付")


class Project(models.Model):
    """A handed-over project (工程) whose customer is visited monthly in the first year, quarterly
    after (C20, seed 001 篇3 五)."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("工程名称"), max_length=100)
    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact_name = models.CharField(_("联系人"), max_length=40, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    handed_over_on = models.DateField(_("交付日期"))
    is_active = models.BooleanField(_("回访中"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("工程交付")

    def __str__(self) -> str:
        return self.name


class VisitDecision(models.Model):
    """That a finished work order was considered for a return visit, and whether it was drawn (C14
    sampling): written once per work order, so the catch-up sweep never reconsiders it."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    sampled = models.BooleanField(default=True)
    decided_at = models.DateTimeField(default=timezone.now)


class ReturnVisit(models.Model):
    """One return-visit task (回访): due within its window, made only in calling hours (C19)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待回访")
        DONE = "done", _("已回访")
        UNREACHABLE = "unreachable", _("无法联系")
        CANCELLED = "cancelled", _("已取消")

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        REOPENED = "reopened", _("不满意，工单重新打开")
        COMPLAINT = "complaint", _("不满意，转投诉")
        DISSATISFIED = "dissatisfied", _("不满意，客户不要求处理")
        DECLINED = "declined", _("客户不愿回访")

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("工单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="return_visits",
    )
    project = models.ForeignKey(
        Project,
        verbose_name=_("工程"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    reason = models.CharField(_("回访原因"), max_length=20, choices=Reason.choices)
    finished_at = models.DateTimeField(_("完工时间"))
    due_at = models.DateTimeField(_("应回访时间"), db_index=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PENDING)
    assigned_to = models.ForeignKey(
        User, verbose_name=_("回访员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(_("已拨打次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次拨打"), null=True, blank=True)
    consent = models.BooleanField(_("同意回访"), null=True, blank=True)
    answers = models.JSONField(_("问卷答案"), default=dict, blank=True)
    attitude_score = models.PositiveSmallIntegerField(_("服务态度评分"), null=True, blank=True)
    ability_score = models.PositiveSmallIntegerField(_("专业能力评分"), null=True, blank=True)
    satisfied = models.BooleanField(_("满意"), null=True, blank=True)
    remarks = models.TextField(_("备注"), blank=True)
    outcome = models.CharField(_("结果"), max_length=15, choices=Outcome.choices, blank=True)
    linked_ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("转投诉工单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    done_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    done_by = models.ForeignKey(
        User, verbose_name=_("回访人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    clock_events = models.JSONField(default=list, blank=True)  # as Complaint.clock_events
    clocks_behind = models.BooleanField(default=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = _("回访")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["company", "status", "due_at"], name="visit_co_status_due"),
            models.Index(fields=["company", "done_at"], name="visit_co_done"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "reason"], condition=Q(ticket__isnull=False), name="visit_ticket_reason"
            ),
            models.UniqueConstraint(
                fields=["project", "due_at"], condition=Q(project__isnull=False), name="visit_project_due"
            ),
            models.CheckConstraint(
                condition=Q(attitude_score__isnull=True) | Q(attitude_score__gte=1, attitude_score__lte=10),
                name="visit_attitude_1_10",
            ),
            models.CheckConstraint(
                condition=Q(ability_score__isnull=True) | Q(ability_score__gte=1, ability_score__lte=10),
                name="visit_ability_1_10",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.ticket.number if self.ticket_id else self.project}"


class VisitAttempt(models.Model):
    """One call of a return visit (append-only)."""

    class Result(models.TextChoices):
        REACHED = "reached", _("已接通")
        NO_ANSWER = "no_answer", _("无人接听")
        BUSY = "busy", _("占线")
        WRONG_NUMBER = "wrong_number", _("号码错误")
        INCONVENIENT = "inconvenient", _("客户不方便，另约时间")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(ReturnVisit, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    by = models.ForeignKey(User, verbose_name=_("回访员"), on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("结果"), max_length=15, choices=Result.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    next_at = models.DateTimeField(_("下次拨打"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("回访拨打记录")
        ordering = ["at", "id"]


class VisitCall(models.Model):
    """A click-to-call placed from a return visit (P6) through telephony's CTI adapter: the PBX call
    id kefu chose, so the call record (`telephony.Call`, made from the PBX's events) links back to
    the visit; `call` is filled when those events have arrived (append-only otherwise)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(ReturnVisit, on_delete=models.CASCADE, related_name="calls")
    call_ref = models.CharField(_("通话标识"), max_length=80, unique=True)
    call = models.ForeignKey(
        "telephony.Call",
        verbose_name=_("通话"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="return_visits",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    by = models.ForeignKey(User, verbose_name=_("回访员"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = _("回访外呼")
        ordering = ["at", "id"]


class Questionnaire(models.Model):
    """Questions for a return visit of one kind of work, or for a survey campaign (P6, P16).

    `questions`: [{"key": "q1", "text": "…", "type": "score"|"likert"|"choice"|"text",
    "choices": [...]}]; scores are 1–10, Likert 1–5."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=100)
    reason = models.CharField(_("用于回访"), max_length=20, choices=Reason.choices, blank=True)
    questions = models.JSONField(_("问题"), default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("问卷")

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    """A satisfaction survey (P16): customers sampled by category and district."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=100)
    questionnaire = models.ForeignKey(
        Questionnaire, verbose_name=_("问卷"), on_delete=models.PROTECT, related_name="+"
    )
    categories = models.JSONField(_("客户类别"), default=list, blank=True)
    districts = models.JSONField(_("区县"), default=list, blank=True)
    sample_size = models.PositiveIntegerField(_("样本量"))
    seed = models.CharField(_("抽样种子"), max_length=40, default="kefu")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("满意度调查")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class SurveyResponse(models.Model):
    """One sampled customer of a campaign; answered by phone or through the link (token)."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("电话")
        LINK = "link", _("链接")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="responses")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    district = models.CharField(_("区县"), max_length=30, blank=True)
    category = models.CharField(_("客户类别"), max_length=40, blank=True)
    token = models.CharField(max_length=40, unique=True)
    channel = models.CharField(_("方式"), max_length=8, choices=Channel.choices, blank=True)
    answers = models.JSONField(_("答案"), default=dict, blank=True)
    answered_at = models.DateTimeField(_("答卷时间"), null=True, blank=True)
    answered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = _("调查答卷")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="survey_one_per_customer")
        ]


class Article(models.Model):
    """A knowledge-base article (知识库, P3); its text is its current approved version, copied into
    `search_text` for the desk's search as the agent types."""

    class Category(models.TextChoices):
        INSTALLATION = "installation", _("报装流程与资料")
        TARIFF = "tariff", _("气价与收费")
        IC_CARD = "ic_card", _("IC卡使用")
        SAFETY = "safety", _("安全用气知识")
        INTERRUPTION = "interruption", _("停气信息")
        OTHER = "other", _("其他")

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("分类"), max_length=20, choices=Category.choices)
    title = models.CharField(_("标题"), max_length=120, blank=True)
    body = models.TextField(_("答案"), blank=True)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    search_text = models.TextField(blank=True)
    version = models.PositiveIntegerField(_("版本"), default=0)
    is_published = models.BooleanField(_("已发布"), default=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("知识库条目")
        indexes = [
            models.Index(fields=["company", "is_published", "category"], name="article_co_pub"),
            models.Index(fields=["company", "updated_at"], name="article_co_updated"),
        ]

    def __str__(self) -> str:
        return self.title


class ArticleVersion(models.Model):
    """A proposed text of an article; it becomes the article's text when a supervisor approves it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已退回")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("答案"))
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    proposed_by = models.ForeignKey(
        User, verbose_name=_("提交人"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        User, verbose_name=_("审核人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("知识库版本")
        ordering = ["article", "number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="article_version_number")]
