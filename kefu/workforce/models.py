"""Workforce (班组管理, W1, W2, W3, W4, W5): shift patterns, monthly rosters, hand-overs, leave, swaps,
attendance and penalties.

Times are stored in UTC; a roster assignment carries both its local `day` and its UTC `start_at` /
`end_at`, so "who is on duty at 03:00" (`selectors.on_duty`) is one indexed range query, across
midnight included.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.workforce.states import HandoverStatus, PenaltyStatus, RequestStatus, RosterStatus


class Skill(models.TextChoices):
    """The job (工种) a person does and a shift must be staffed with (W1 minimum staffing)."""

    HOTLINE = "hotline", _("热线坐席")
    CASHIER = "cashier", _("营业厅收费员")
    EMERGENCY = "emergency", _("抢险队员")


class WorkerProfile(models.Model):
    """A person who is rostered: their team, job (工种) and level (技术业务水平, W3 same job and level)."""

    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    user = models.OneToOneField(
        "accounts.User", verbose_name=_("员工"), on_delete=models.CASCADE, related_name="workforce_profile"
    )
    team = models.ForeignKey("accounts.Team", verbose_name=_("班组"), on_delete=models.PROTECT)
    job = models.CharField(_("工种"), max_length=20, choices=Skill.choices, default=Skill.HOTLINE)
    level = models.PositiveSmallIntegerField(_("业务等级"), default=1)
    is_active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("排班人员")
        indexes = [models.Index(fields=["company", "team", "job"], name="wf_profile_team_job")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_job_display()})"


class ShiftPattern(models.Model):
    """A shift of a team: 早 / 中 / 夜 (8 h) or the emergency crews' 24 h duty (needs a recorded
    exemption reason, W1 labour-law limits)."""

    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("班组"), on_delete=models.PROTECT, related_name="shift_patterns"
    )
    code = models.CharField(_("代码"), max_length=8)
    name = models.CharField(_("名称"), max_length=30)
    start = models.TimeField(_("开始时间"))
    hours = models.PositiveSmallIntegerField(_("时长（小时）"), default=8)
    is_night = models.BooleanField(_("夜班"), default=False)
    exemption_reason = models.CharField(
        _("超时豁免理由"),
        max_length=200,
        blank=True,
        help_text=_("超过 8 小时的班次（如抢险 24 小时值班）须填写豁免理由（特殊工时审批）"),
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("班次")
        ordering = ["team", "order", "start"]
        constraints = [models.UniqueConstraint(fields=["team", "code"], name="wf_pattern_code")]

    def __str__(self) -> str:
        return f"{self.name} {self.start:%H:%M}+{self.hours}h"


class StaffingNeed(models.Model):
    """Minimum staffing of one shift with one job (W1): e.g. 夜班 needs 2 hotline agents."""

    pattern = models.ForeignKey(
        ShiftPattern, verbose_name=_("班次"), on_delete=models.CASCADE, related_name="needs"
    )
    skill = models.CharField(_("工种"), max_length=20, choices=Skill.choices)
    minimum = models.PositiveSmallIntegerField(_("最少人数"), default=1)

    class Meta:
        verbose_name = verbose_name_plural = _("最少在岗人数")
        constraints = [models.UniqueConstraint(fields=["pattern", "skill"], name="wf_need_once")]


class Roster(models.Model):
    """The monthly roster of one team (W1), prepared as a draft and published by the team head."""

    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    team = models.ForeignKey("accounts.Team", verbose_name=_("班组"), on_delete=models.PROTECT)
    month = models.DateField(_("月份"), help_text=_("该月 1 日"))
    status = models.CharField(
        _("状态"), max_length=12, choices=RosterStatus.choices, default=RosterStatus.DRAFT
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        "accounts.User", verbose_name=_("发布人"), null=True, blank=True, on_delete=models.PROTECT
    )
    solver_note = models.CharField(_("排班求解说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("月度排班表")
        ordering = ["-month", "team"]
        constraints = [models.UniqueConstraint(fields=["team", "month"], name="wf_roster_once")]

    def __str__(self) -> str:
        return f"{self.team} {self.month:%Y-%m}"


class Assignment(models.Model):
    """One person on one shift of one day. `start_at`/`end_at` (UTC) make "who is on duty" one
    range query; `published` mirrors the roster's status so that query needs no join."""

    class Source(models.TextChoices):
        SOLVER = "solver", _("自动排班")
        HAND = "hand", _("手工调整")
        SWAP = "swap", _("换班")

    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    roster = models.ForeignKey(
        Roster, verbose_name=_("排班表"), on_delete=models.CASCADE, related_name="assignments"
    )
    user = models.ForeignKey("accounts.User", verbose_name=_("员工"), on_delete=models.PROTECT)
    day = models.DateField(_("日期"))
    pattern = models.ForeignKey(ShiftPattern, verbose_name=_("班次"), on_delete=models.PROTECT)
    skill = models.CharField(_("工种"), max_length=20, choices=Skill.choices)
    start_at = models.DateTimeField(_("上班时间"))
    end_at = models.DateTimeField(_("下班时间"))
    is_holiday_duty = models.BooleanField(_("节假日值班"), default=False)
    published = models.BooleanField(_("已发布"), default=False)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.SOLVER)

    class Meta:
        verbose_name = verbose_name_plural = _("排班")
        ordering = ["day", "start_at"]
        constraints = [models.UniqueConstraint(fields=["roster", "user", "day"], name="wf_one_shift_a_day")]
        indexes = [
            models.Index(fields=["company", "published", "start_at"], name="wf_assignment_on_duty"),
            models.Index(fields=["user", "start_at"], name="wf_assignment_mine"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.pattern.code} {self.user}"


class RosterChange(models.Model):
    """Every change of a roster after its proposal, append-only (W1 "every change kept")."""

    roster = models.ForeignKey(
        Roster, verbose_name=_("排班表"), on_delete=models.CASCADE, related_name="changes"
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    by = models.ForeignKey(
        "accounts.User", verbose_name=_("操作人"), null=True, blank=True, on_delete=models.PROTECT
    )
    kind = models.CharField(_("类型"), max_length=20)
    detail = models.CharField(_("内容"), max_length=400)

    class Meta:
        verbose_name = verbose_name_plural = _("排班变更记录")
        ordering = ["-at", "-id"]


class Handover(models.Model):
    """The hand-over log of one shift change (W1, seed 001 篇1 交接班): equipment state, difficult
    cases (work-order numbers), staff changes; the successor confirms before the leaver signs off."""

    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    team = models.ForeignKey("accounts.Team", verbose_name=_("班组"), on_delete=models.PROTECT)
    leaver = models.ForeignKey(
        "accounts.User", verbose_name=_("交班人"), on_delete=models.PROTECT, related_name="+"
    )
    successor = models.ForeignKey(
        "accounts.User", verbose_name=_("接班人"), on_delete=models.PROTECT, related_name="+"
    )
    equipment_state = models.TextField(_("设备情况"))
    difficult_cases = models.TextField(_("疑难问题"), blank=True)
    work_orders = models.CharField(_("关联工单号"), max_length=300, blank=True, help_text=_("逗号分隔"))
    staff_changes = models.TextField(_("人员调班情况"), blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=HandoverStatus.choices, default=HandoverStatus.RECORDED
    )
    recorded_at = models.DateTimeField(_("填写时间"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("接班确认时间"), null=True, blank=True)
    signed_off_at = models.DateTimeField(_("交班完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("交接班日志")
        ordering = ["-recorded_at", "-id"]


class LeaveKind(models.TextChoices):
    PERSONAL = "personal", _("一般事假")
    SPECIAL = "special", _("特殊事假")
    SICK = "sick", _("病假")
    BUSINESS = "business", _("公事或外出学习")


class LeaveRequest(models.Model):
    """A request for leave (W2); approved by the team head (≤ 1 day) or the centre head (more)."""

    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    user = models.ForeignKey(
        "accounts.User", verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("假别"), max_length=10, choices=LeaveKind.choices)
    first_day = models.DateField(_("开始日期"))
    last_day = models.DateField(_("结束日期"))
    reason = models.CharField(_("事由"), max_length=300)
    certificate = models.FileField(_("医疗证明"), upload_to="workforce/certificates/%Y/%m", blank=True)
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    status = models.CharField(
        _("状态"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("请假申请")
        ordering = ["-requested_at", "-id"]

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


class SwapRequest(models.Model):
    """A shift swap (W3): the requester gives `give`, takes the colleague's `take` (还班); the
    colleague accepts, then the team head(s) of both approve."""

    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    requester = models.ForeignKey(
        "accounts.User", verbose_name=_("换班人"), on_delete=models.PROTECT, related_name="+"
    )
    colleague = models.ForeignKey(
        "accounts.User", verbose_name=_("还班人"), on_delete=models.PROTECT, related_name="+"
    )
    give = models.ForeignKey(
        Assignment, verbose_name=_("换出班次"), on_delete=models.CASCADE, related_name="+"
    )
    take = models.ForeignKey(
        Assignment, verbose_name=_("换入班次"), on_delete=models.CASCADE, related_name="+"
    )
    give_day = models.DateField(_("换出日期"))
    take_day = models.DateField(_("换入日期"))
    reason = models.CharField(_("事由"), max_length=300)
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"), db_index=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING_COLLEAGUE
    )
    accepted_at = models.DateTimeField(_("同事同意时间"), null=True, blank=True)
    approvals = models.JSONField(_("班长审批"), default=dict, help_text=_("班组编号 → 审批人编号"))
    decided_at = models.DateTimeField(_("审批完成时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("换班申请")
        ordering = ["-requested_at", "-id"]


class Punch(models.Model):
    """A clock event (W4) with the address it came from."""

    class Kind(models.TextChoices):
        IN = "in", _("上班打卡")
        OUT = "out", _("下班打卡")
        AWAY = "away", _("离岗")
        BACK = "back", _("返岗")

    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    user = models.ForeignKey(
        "accounts.User", verbose_name=_("员工"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=5, choices=Kind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    source_ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    assignment = models.ForeignKey(
        Assignment, verbose_name=_("班次"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = verbose_name_plural = _("考勤打卡")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "at"], name="wf_punch_user")]


class Violation(models.Model):
    """A recorded breach of discipline (W4): late or away from post 20 minutes or more, no-show."""

    class Kind(models.TextChoices):
        LATE = "late", _("迟到")
        AWAY = "away", _("脱岗")
        ABSENT = "absent", _("旷工")

    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    user = models.ForeignKey(
        "accounts.User", verbose_name=_("员工"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    minutes = models.PositiveIntegerField(_("分钟"), default=0)
    at = models.DateTimeField(_("时间"))
    assignment = models.ForeignKey(
        Assignment, verbose_name=_("班次"), null=True, blank=True, on_delete=models.SET_NULL
    )
    rule = models.CharField(_("依据"), max_length=200)

    class Meta:
        verbose_name = verbose_name_plural = _("违纪记录")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "kind"],
                condition=models.Q(kind="absent"),
                name="wf_absent_once",
            )
        ]


class PenaltyRule(models.Model):
    """A configurable penalty rule (W5). E.g. seed 篇4: 30 元, doubled on the second, dismissal review
    on the third; seed 篇6: 200 元 a time with the department head liable for double."""

    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    code = models.SlugField(_("代码"), max_length=32)
    name = models.CharField(_("名称"), max_length=100)
    amount = models.DecimalField(_("首次金额（元）"), max_digits=8, decimal_places=2)
    repeat_factor = models.DecimalField(_("再犯倍数"), max_digits=4, decimal_places=2, default=1)
    dismissal_at = models.PositiveSmallIntegerField(
        _("第几次提请辞退"), null=True, blank=True, help_text=_("留空则不提请辞退")
    )
    manager_factor = models.DecimalField(
        _("主管连带倍数"), max_digits=4, decimal_places=2, default=0, help_text=_("0 表示不追责主管")
    )
    window_days = models.PositiveSmallIntegerField(_("累计期间（天）"), default=365)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("考核扣罚规则")
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="wf_penalty_rule_code")]

    def __str__(self) -> str:
        return self.name


class Penalty(models.Model):
    """A penalty on a person's record (W5), proposed from a complaint's outcome, approved by the manager.
    Unique per rule, source and person: the complaint event applied twice gives one row."""

    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    user = models.ForeignKey(
        "accounts.User", verbose_name=_("被考核人"), on_delete=models.PROTECT, related_name="+"
    )
    rule = models.ForeignKey(PenaltyRule, verbose_name=_("规则"), on_delete=models.PROTECT)
    source_ref = models.CharField(_("来源"), max_length=60, help_text=_("如投诉工单号"))
    occurrence = models.PositiveSmallIntegerField(_("第几次"))
    amount = models.DecimalField(_("金额（元）"), max_digits=8, decimal_places=2)
    dismissal_review = models.BooleanField(_("提请辞退审议"), default=False)
    liable_manager = models.ForeignKey(
        "accounts.User",
        verbose_name=_("连带主管"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    manager_amount = models.DecimalField(_("主管连带金额（元）"), max_digits=8, decimal_places=2, default=0)
    status = models.CharField(
        _("状态"), max_length=10, choices=PenaltyStatus.choices, default=PenaltyStatus.PROPOSED
    )
    proposed_at = models.DateTimeField(_("提出时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("考核扣罚")
        ordering = ["-proposed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "source_ref", "user"], name="wf_penalty_once")]


class DutyStamp(models.Model):
    """Changes whenever a company's published shifts change (publish, hand edit, approved leave, swap):
    the `on_duty` cache of every process compares it to the stamp its day was loaded under
    (selectors._duty_day), so a roster change made in one process is seen by the others."""

    company = models.OneToOneField("accounts.Company", on_delete=models.CASCADE, primary_key=True)
    stamp = models.CharField(max_length=32)
    changed_at = models.DateTimeField(default=timezone.now)
