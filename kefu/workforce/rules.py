"""The rules of seed 001 篇1 (请假制度, 换班制度, 交接班) and the labour-law limits, one validator each.

Pure functions: no database, no clock. Each takes the facts it needs and raises `RuleBroken` with a
message quoting the clause (W2, W3, W4, W1). Services and views ask these; nobody restates them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils.translation import gettext as _

from kefu.core.errors import DomainError

# --- the numbers of the rules -------------------------------------------------------------------
MAX_DAILY_HOURS = 8  # 劳动法第三十六条: 每日工作时间不超过八小时
MAX_OVERTIME_HOURS_MONTH = 36  # 劳动法第四十一条: 每月延长工作时间不得超过三十六小时
REST_DAYS_PER_WEEK = 1  # 劳动法第三十八条: 每周至少休息一日
TEAM_HEAD_MAX_LEAVE_DAYS = 1  # 请假制度三: 一天由客服部主任批准；一天以上由客服中心主任批准
PERSONAL_LEAVE_NOTICE = timedelta(days=1)  # 请假制度二: 一般事假需在一天提出
SPECIAL_LEAVE_NOTICE = timedelta(hours=1)  # 请假制度二: 特殊事假需在班前一小时提出
NIGHT_LEAVE_DEADLINE = time(12, 0)  # 请假制度六: 夜班……必须在当日十二点之前提出
HOLIDAY_LEAVE_NOTICE_DAYS = 2  # 请假制度七: 节假日……需提前二天提出
SWAPS_PER_MONTH = 2  # 换班制度三: 每人每月换班不得超过2次
MIN_REST_BETWEEN_SHIFTS = timedelta(hours=8)  # 换班制度三: 换班者、还班者不允许连班
LATE_MINUTES = 20  # 请假制度八: 迟到二十分钟及以上……脱岗二十分钟及以上者按违纪处理
SWAP_ANSWER_WITHIN = timedelta(hours=48)  # an unanswered swap expires (and always at the shift start)


class RuleBroken(DomainError):
    """A request that a rule of the standard refuses (HTTP 400); `code` names the rule."""


@dataclass(frozen=True)
class ShiftFact:
    """A shift as the rules see it."""

    day: date
    start_at: datetime
    end_at: datetime
    hours: int
    is_night: bool = False
    is_holiday_duty: bool = False
    from_swap: bool = False
    exemption: str = ""


# --- W2 leave -----------------------------------------------------------------------------------
def check_leave_dates(first_day: date, last_day: date) -> None:
    if last_day < first_day:
        raise RuleBroken(_("结束日期不能早于开始日期。"), field="last_day", code="leave_dates")
    if (last_day - first_day).days > 60:
        raise RuleBroken(_("一次请假不能超过 60 天。"), field="last_day", code="leave_dates")


def check_leave_in_advance(*, kind: str, requested_at: datetime, first_shift_start: datetime | None) -> None:
    """请假制度二：遇病事假不能上班，必须提前请假。一般事假需在一天提出；特殊事假需在班前一小时提出。"""
    if first_shift_start is None:
        return
    notice = {"personal": PERSONAL_LEAVE_NOTICE, "special": SPECIAL_LEAVE_NOTICE}.get(kind, timedelta(0))
    if requested_at > first_shift_start - notice:
        if kind == "personal":
            msg = _(
                "请假制度第二条：“一般事假需在一天提出”——"
                "本次申请距第一个班次开始不足 24 小时，请改为特殊事假或由管理人员批准。"
            )
        elif kind == "special":
            msg = _("请假制度第二条：“特殊事假需在班前一小时提出”——距第一个班次开始已不足一小时。")
        else:
            msg = _("请假制度第二条：“遇病事假不能上班，必须提前请假”——班次已经开始。")
        raise RuleBroken(msg, field="first_day", code="leave_in_advance")


def check_night_shift_leave(*, requested_local: datetime, night_days: Iterable[date]) -> None:
    """请假制度六：原则上夜班不允许请假，如遇特殊情况必须在当日十二点之前提出。"""
    for day in sorted(night_days):
        if requested_local.replace(tzinfo=None) >= datetime.combine(day, NIGHT_LEAVE_DEADLINE):
            raise RuleBroken(
                _("请假制度第六条：“夜班如遇特殊情况必须在当日十二点之前提出”——%(d)s 的夜班已过当日 12:00。")
                % {"d": day.isoformat()},
                field="first_day",
                code="leave_night",
            )


def check_holiday_leave(*, requested_day: date, holidays: Iterable[date]) -> None:
    """请假制度七：节假日不允许请假，除极特殊情况需提前二天提出。"""
    for day in sorted(holidays):
        if (day - requested_day).days < HOLIDAY_LEAVE_NOTICE_DAYS:
            raise RuleBroken(
                _(
                    "请假制度第七条：“节假日不允许请假，除极特殊情况需提前二天提出”——"
                    "%(d)s 是节假日，须最迟在 %(by)s 提出。"
                )
                % {"d": day.isoformat(), "by": (day - timedelta(days=HOLIDAY_LEAVE_NOTICE_DAYS)).isoformat()},
                field="first_day",
                code="leave_holiday",
            )


def check_sick_certificate(*, kind: str, days: int, has_certificate: bool) -> None:
    """请假制度五：病假满一天，必须持医疗单位证明方可生效（急诊除外）。"""
    if kind == "sick" and days >= 1 and not has_certificate:
        raise RuleBroken(
            _("请假制度第五条：“病假满一天，必须持医疗单位证明方可生效”——请先上传医疗证明。"),
            field="certificate",
            code="leave_certificate",
        )


def check_no_leave_on_swapped_shift(shifts: Iterable[ShiftFact]) -> None:
    """换班制度六：换班和还班均不得请假，否则按旷工处理。"""
    for s in shifts:
        if s.from_swap:
            raise RuleBroken(
                _("换班制度第六条：“换班和还班均不得请假”——%(d)s 的班次是换班得来的。")
                % {"d": s.day.isoformat()},
                field="first_day",
                code="leave_on_swap",
            )


def leave_needs_centre_head(days: int) -> bool:
    """请假制度三：假期审批权限：一天由客服部主任批准；一天以上由客服中心主任批准。"""
    return days > TEAM_HEAD_MAX_LEAVE_DAYS


def check_leave_authority(*, days: int, is_team_head: bool, is_centre_head: bool) -> None:
    """请假制度三 (also: 不允许越级请假——the approver is the one the rule names)."""
    if leave_needs_centre_head(days):
        if not is_centre_head:
            raise RuleBroken(
                _("请假制度第三条：“一天以上由客服中心主任批准”——本申请 %(n)s 天，班长无权批准。")
                % {"n": days},
                code="leave_authority",
            )
    elif not (is_team_head or is_centre_head):
        raise RuleBroken(_("请假制度第三条：“一天由客服部主任批准”——您无权审批。"), code="leave_authority")


# --- W3 swaps -----------------------------------------------------------------------------------
def check_swap_quota(*, swaps_this_month: int, who: str) -> None:
    """换班制度三：每人每月换班不得超过2次。"""
    if swaps_this_month >= SWAPS_PER_MONTH:
        raise RuleBroken(
            _("换班制度第三条：“每人每月换班不得超过2次”——%(who)s 本月已有 %(n)s 次换班。")
            % {"who": who, "n": swaps_this_month},
            code="swap_quota",
        )


def check_no_consecutive_swaps(*, day: date, other_swap_days: Iterable[date], who: str) -> None:
    """换班制度三：不允许连续换班。"""
    for other in other_swap_days:
        if abs((other - day).days) <= 1:
            raise RuleBroken(
                _("换班制度第三条：“不允许连续换班”——%(who)s 在 %(d)s 已有换班。")
                % {"who": who, "d": other.isoformat()},
                code="swap_consecutive",
            )


def check_no_back_to_back(*, shifts: Sequence[ShiftFact], who: str) -> None:
    """换班制度三：换班者、还班者不允许连班 (less than 8 hours between two shifts, or two shifts a day)."""
    ordered = sorted(shifts, key=lambda s: s.start_at)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start_at - a.end_at < MIN_REST_BETWEEN_SHIFTS or a.day == b.day:
            raise RuleBroken(
                _(
                    "换班制度第三条：“换班者、还班者不允许连班”——"
                    "换班后 %(who)s 的 %(a)s 与 %(b)s 两个班次相连。"
                )
                % {
                    "who": who,
                    "a": a.start_at.strftime("%m-%d %H:%M"),
                    "b": b.start_at.strftime("%m-%d %H:%M"),
                },
                code="swap_back_to_back",
            )


def check_same_job_and_level(*, job_a: str, level_a: int, job_b: str, level_b: int) -> None:
    """换班制度四：换班必须坚持同工种和技术业务水平相当的原则。"""
    if job_a != job_b or level_a != level_b:
        raise RuleBroken(
            _("换班制度第四条：“换班必须坚持同工种和技术业务水平相当的原则”——双方工种或业务等级不同。"),
            field="colleague",
            code="swap_job_level",
        )


def check_not_holiday_duty(*shifts: ShiftFact) -> None:
    """换班制度九：节假日当班人员不允许换班或请假。"""
    for s in shifts:
        if s.is_holiday_duty:
            raise RuleBroken(
                _("换班制度第九条：“节假日当班人员不允许换班或请假”——%(d)s 是节假日值班。")
                % {"d": s.day.isoformat()},
                code="swap_holiday",
            )


def check_swap_not_expired(*, now: datetime, expires_at: datetime) -> None:
    """An unanswered request expires (换班制度七：班长必须掌握人员情况——a stale request is not approved)."""
    if now >= expires_at:
        raise RuleBroken(_("换班申请已过期（无人在期限内答复，或班次已开始）。"), code="swap_expired")


def swap_expiry(*, requested_at: datetime, first_shift_start: datetime) -> datetime:
    return min(requested_at + SWAP_ANSWER_WITHIN, first_shift_start)


def check_swap_approvers(*, teams_needed: set[int], approvals: dict) -> bool:
    """换班制度二：换班必须经双方班长同意 — True when every team involved has approved."""
    return teams_needed <= {int(k) for k in approvals}


# --- W1 labour-law limits and staffing ----------------------------------------------------------
def shift_hours_problem(*, hours: int, exemption: str) -> str | None:
    """劳动法第三十六条 (≤ 8 h a day); the emergency-repair exemption only with a recorded reason."""
    if hours > MAX_DAILY_HOURS and not exemption.strip():
        return _("劳动法：每日工作时间不超过八小时——%(h)s 小时的班次须记录豁免理由（如抢险值班）。") % {
            "h": hours
        }
    return None


def person_month_problems(
    *, shifts: Sequence[ShiftFact], days: Sequence[date], standard_hours: int
) -> list[str]:
    """The labour-law limits over one person's month: hours a day, a rest day in every 7 days,
    overtime ≤ 36 h. Returns the broken rules (empty: the month keeps the law)."""
    problems: list[str] = []
    worked = {s.day for s in shifts}
    for s in shifts:
        p = shift_hours_problem(hours=s.hours, exemption=s.exemption)
        if p:
            problems.append(p)
            break
    ordered = sorted(days)
    for i in range(0, max(0, len(ordered) - 6)):
        window = ordered[i : i + 7]
        if all(d in worked for d in window):
            problems.append(
                _("劳动法：每周至少休息一日——%(a)s 至 %(b)s 连续七天上班。")
                % {"a": window[0].isoformat(), "b": window[-1].isoformat()}
            )
            break
    total = sum(s.hours for s in shifts if not s.exemption)
    if total > standard_hours + MAX_OVERTIME_HOURS_MONTH:
        problems.append(
            _("劳动法：每月延长工作时间不得超过三十六小时——本月 %(t)s 小时，标准 %(s)s 小时。")
            % {"t": total, "s": standard_hours}
        )
    return problems


def staffing_shortfalls(
    *, counts: dict[tuple[date, int, str], int], needs: dict[tuple[int, str], int], days: Sequence[date]
) -> list[tuple[date, int, str, int, int]]:
    """W1 minimum staffing: (day, pattern id, skill, have, need) for every shift short of people."""
    short = []
    for day in days:
        for (pattern_id, skill), need in needs.items():
            have = counts.get((day, pattern_id, skill), 0)
            if have < need:
                short.append((day, pattern_id, skill, have, need))
    return short


# --- W4 attendance ------------------------------------------------------------------------------
def late_minutes(*, shift_start: datetime, punched_at: datetime) -> int | None:
    """请假制度八：班前未请假，迟到二十分钟及以上者……按违纪处理. Minutes late when it is a violation."""
    minutes = int((punched_at - shift_start).total_seconds() // 60)
    return minutes if minutes >= LATE_MINUTES else None


def away_minutes(*, left_at: datetime, back_at: datetime) -> int | None:
    """请假制度八：擅离值守脱岗二十分钟及以上者按违纪处理."""
    minutes = int((back_at - left_at).total_seconds() // 60)
    return minutes if minutes >= LATE_MINUTES else None


LATE_RULE = "请假制度八：班前未请假，迟到二十分钟及以上者按违纪处理"
AWAY_RULE = "请假制度八：擅离值守脱岗二十分钟及以上者按违纪处理"
ABSENT_RULE = "请假制度二：不能提前请假……否则，按旷工处理"


# --- W5 penalties -------------------------------------------------------------------------------
def penalty_amount(*, amount, repeat_factor, occurrence: int, dismissal_at: int | None):
    """Seed 篇4: 一次罚款30元，第二次翻倍，第三次将予以开除.

    Returns (amount of this occurrence, dismissal review?)."""
    value = amount * (repeat_factor ** (occurrence - 1))
    return value, bool(dismissal_at and occurrence >= dismissal_at)
