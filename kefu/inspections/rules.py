"""Pure rules of the inspection programme (no database, no clock): periods of a year by frequency
(C5), which periods a customer owes, the time band of a visit, the no-access ladder's position,
hazard deadlines, and the projected finish date of the programme at the current pace."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kefu.inspections.states import Severity, StepKind, TimeBand

#: the default no-access ladder (P14). Each step: code, kind, label, and for a
#: visit whether it must be in another time band than the first visit (evening or weekend).
DEFAULT_LADDER: tuple[dict, ...] = (
    {"code": "visit1", "kind": StepKind.VISIT, "label": "第一次上门"},
    {"code": "notice", "kind": StepKind.NOTICE, "label": "留门贴并发短信预约链接"},
    {"code": "visit2", "kind": StepKind.VISIT, "label": "第二次上门（晚间或周末）", "other_band": True},
    {"code": "visit3", "kind": StepKind.VISIT, "label": "第三次上门"},
    {"code": "door_gap", "kind": StepKind.MEASURE, "label": "门缝检漏"},
    {"code": "letter", "kind": StepKind.LETTER, "label": "致物业/街道办函"},
    {"code": "restrict", "kind": StepKind.PROPOSAL, "label": "限气申请（需审批）"},
    {"code": "approved", "kind": StepKind.APPROVAL, "label": "限气已批准"},
)

#: rectification deadline in days by severity (configurable per company)
DEFAULT_DEADLINE_DAYS = {Severity.GENERAL.value: 30, Severity.SERIOUS.value: 7, Severity.MAJOR.value: 1}
#: the default checklist (configurable per company): code, label
DEFAULT_CHECKLIST: tuple[dict, ...] = (
    {"code": "leak_joints", "label": "接口检漏"},
    {"code": "hose", "label": "胶管老化及类型"},
    {"code": "flue", "label": "热水器烟道"},
    {"code": "ventilation", "label": "通风"},
    {"code": "appliance", "label": "燃气具种类及年限"},
    {"code": "valve", "label": "阀门"},
    {"code": "alarm", "label": "报警器"},
)
#: the default hazard catalogue: code, name, severity
DEFAULT_HAZARDS: tuple[tuple[str, str, str], ...] = (
    ("hose_aged", "胶管老化、超期使用", Severity.GENERAL),
    ("hose_wall", "胶管穿墙、暗设", Severity.SERIOUS),
    ("no_flue", "热水器无烟道或烟道脱落", Severity.SERIOUS),
    ("bedroom", "燃气设施设在卧室", Severity.SERIOUS),
    ("leak", "燃气泄漏", Severity.MAJOR),
    ("private_change", "私改燃气设施", Severity.MAJOR),
    ("no_alarm", "未安装报警器（商业用户）", Severity.GENERAL),
)


@dataclass(frozen=True)
class Period:
    index: int  # 1..n
    count: int  # n: periods in the year
    start: date
    end: date  # inclusive


def periods(year: int, per_year: int) -> list[Period]:
    """The year split into `per_year` equal runs of months (C5: 1 → the year, 2 → half-years,
    3 → thirds of four months, 4 → quarters; 12 → months; other values fall back to whole months
    split as evenly as possible)."""
    n = max(1, min(int(per_year), 12))
    out = []
    for i in range(n):
        m0 = 1 + (12 * i) // n
        m1 = (12 * (i + 1)) // n
        end = date(year, m1, calendar.monthrange(year, m1)[1])
        out.append(Period(i + 1, n, date(year, m0, 1), end))
    return out


def owed_periods(year: int, per_year: int, *, opened_on: date | None, today: date) -> list[Period]:
    """The periods a customer active today owes (C5). A customer who joined mid-year owes the period
    they joined in and the later ones, not the periods that ended before they joined; a period
    that has ended before `today` is owed only if the customer was already open then (a category
    change mid-year makes no debt for the past)."""
    return [p for p in periods(year, per_year) if opened_on is None or p.end >= opened_on]


def time_band(local: datetime) -> str:
    """The time band of a visit in local time: weekend (Sat/Sun), evening (18:00 or later), day."""
    if local.weekday() >= 5:
        return TimeBand.WEEKEND
    if local.hour >= 18:
        return TimeBand.EVENING
    return TimeBand.DAYTIME


@dataclass(frozen=True)
class LadderState:
    done: tuple[str, ...]  # codes of the steps done, in order
    next_code: str  # the next step's code ("" when the ladder is finished)
    next_kind: str
    next_label: str


def ladder_position(ladder, events: list[tuple[str, str]]) -> LadderState:
    """Where a household stands on the no-access ladder (P14).

    `events` are (kind, band) in time order: kind a StepKind (a nobody-home visit is `visit` with its
    time band; the others have band ""). The steps are walked in order; an event fulfils the next
    step when its kind matches — a visit marked `other_band` needs a band different from the first
    visit's — and an event that fits no next step is ignored (a second daytime visit does not move
    past "visit 2 in the evening or at the weekend")."""
    steps = list(ladder)
    i = 0
    first_band = ""
    done: list[str] = []
    for kind, band in events:
        if i >= len(steps):
            break
        step = steps[i]
        if kind != step["kind"]:
            continue
        if kind == StepKind.VISIT:
            if not first_band:
                first_band = band
            elif step.get("other_band") and band == first_band:
                continue
        done.append(step["code"])
        i += 1
    if i >= len(steps):
        return LadderState(tuple(done), "", "", "")
    nxt = steps[i]
    return LadderState(tuple(done), nxt["code"], str(nxt["kind"]), nxt.get("label", nxt["code"]))


def hazard_deadline(found_on: date, severity: str, days: dict | None = None) -> date:
    """The rectification deadline of a hazard by severity (一般 / 较大 / 重大)."""
    table = {**DEFAULT_DEADLINE_DAYS, **(days or {})}
    return found_on + timedelta(days=int(table.get(severity, 30)))


def projected_finish(*, year_start: date, today: date, done: int, target: int) -> date | None:
    """The date the programme finishes at the pace so far (done per elapsed day); None when
    nothing is done yet; `today` when the target is met."""
    if target <= 0 or done >= target:
        return today
    elapsed = (today - year_start).days + 1
    if done <= 0 or elapsed <= 0:
        return None
    # ceil((target - done) / (done / elapsed)) in integers: no float rounding at the boundary
    return today + timedelta(days=-(-((target - done) * elapsed) // done))


def frequency(category_code: str, c5: dict[str, int], default: int) -> int:
    """Inspections a year for a category: the commitment set's C5 value for the category (or for
    every category, key ""), else the category's own `inspections_per_year` (C5)."""
    if category_code in c5:
        return max(1, int(c5[category_code]))
    if "" in c5:
        return max(1, int(c5[""]))
    return max(1, int(default or 1))
