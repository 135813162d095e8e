"""The indicator registry: K1 to K17 with their names and definitions as seed 004 第十条 states them,
the formula that computes each (kefu/kpi/formulas.py), its version and its inclusion rules.

A formula whose meaning changes gets a new version here; a closed month's report keeps the version it
was computed with. docs/indicators.md explains each rule with a worked example.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kefu.kpi import formulas as f


@dataclass(frozen=True)
class Indicator:
    """One of the seventeen indicators of 004 第十条.

    `definition` quotes the seed's formula and its explanation (Chinese, as published); `rules` says
    in kefu's words what counts and what does not; `unit` is "%" or "分" (K15, K16: a 1–10 mean);
    `source` names the app whose selector provides the inputs.
    """

    code: str
    name: Promise
    definition: str
    formula: Callable[..., f.Figure]
    rules: Promise
    source: str
    version: int = 1
    unit: str = "%"
    period: str = "month"

    @property
    def number(self) -> int:
        return int(self.code[1:])


_WITHIN = _(
    "在规定时限内完成的记录数 / 已到期记录数（按时 + 超时）；时限尚未届满且未完成的记录列为“进行中”不计；"
    "有记录原因排除的（如不具备安装条件）列出不计。"
)


def _within(rule: Promise) -> Promise:
    """An indicator's own rule followed by the common rule of "within the limit" indicators."""
    return format_lazy("{} {}", rule, _WITHIN)


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "K1",
        _("保证连续供气"),
        "(1-(A1T1+A2T2+┄+AnTn)/N*B*24)*100%；An：第n次停气时受影响的客户数目；Tn：第n次停气的小时数；"
        "N：当月总有效客户数；B：当月自然天数",
        f.continuous_supply,
        _("计划停气和抢险停气都计入；跨月的停气按落在各月的小时数分别计入；无有效客户时为“无数据”。"),
        "outages",
    ),
    Indicator(
        "K2",
        _("燃气暂停供应"),
        "B/A*100%；B：成功于规定时间之前通知的次数；A：停气总次数",
        f.within_limit,
        _("计划停气按开始停气的月份计入，通知时限为开始前48小时（承诺C1）；抢险停气不计（C1不适用于抢险）。"),
        "outages",
    ),
    Indicator(
        "K3",
        _("恢复燃气供应"),
        "B/A*100%；B：成功于规定时间之前恢复供气的次数；A：停气总次数",
        f.within_limit,
        _("计划停气按开始停气的月份计入，恢复时限为24小时（承诺C2，抢险除外）；未恢复且时限已过的计为超时。"),
        "outages",
    ),
    Indicator(
        "K4",
        _("入户安全检查"),
        "B/A*100%；B：当年度内提供入户安检服务的户数（含上门无人情况）；A：年度内总有效户数",
        f.household_inspection,
        _("按年度累计，每户只计一次；上门无人（到访未入户）也计入分子。"),
        "inspections",
        period="year",
    ),
    Indicator(
        "K5",
        _("紧急抢险电话"),
        "(1-B/A)*100%；B：当月停止服务的总分钟数；A：当月总分钟数",
        f.hotline_availability,
        _("抢险电话停止服务的时段重叠时只计一次；当月未接入话务事件的为“无数据”，不当作100%。"),
        "telephony",
    ),
    Indicator(
        "K6",
        _("紧急抢险服务"),
        "B/A*100%；B：成功于规定时间之内到达抢险现场的次数；A：总抢险次数",
        f.within_limit,
        _within(_("以有证据的到达记录为准（40分钟，承诺C8）；主管驳回的到达例外不算按时。")),
        "field",
    ),
    Indicator(
        "K7",
        _("预约安装服务"),
        "B/A*100%；B：成功于规定天数内提供服务的次数；A：预约服务的总次数",
        f.within_limit,
        _within(_("承诺C9，2个工作日；不具备安装条件的不计时。")),
        "field",
    ),
    Indicator(
        "K8",
        _("预约维修服务"),
        "B/A*100%；B：成功于规定天数内提供服务的次数；A：预约服务的总次数",
        f.within_limit,
        _within(_("承诺C10，1个工作日。")),
        "field",
    ),
    Indicator(
        "K9",
        _("预约安检服务"),
        "B/A*100%；B：成功于规定天数内提供服务的次数；A：预约服务的总次数",
        f.within_limit,
        _within(_("承诺C11，1个工作日。")),
        "field",
    ),
    Indicator(
        "K10",
        _("百尊安装服务"),
        "B/A*100%；B：成功于规定天数内提供服务的次数；A：预约服务的总次数",
        f.within_limit,
        _within(_("燃气具安装，承诺C12，24小时。")),
        "field",
    ),
    Indicator(
        "K11",
        _("百尊维修服务"),
        "B/A*100%；B：成功于规定天数内提供服务的次数；A：预约服务的总次数",
        f.within_limit,
        _within(_("燃气具维修，承诺C12，24小时。")),
        "field",
    ),
    Indicator(
        "K12",
        _("百尊安检服务"),
        "B/A*100%；B：成功于规定天数内提供服务的次数；A：预约服务的总次数",
        f.within_limit,
        _within(
            _(
                "燃气具安检（每年一次，承诺C12）：入户安检计划中燃气具台账当月到期的记录，到期日内完成安检为按时。"
            )
        ),
        "inspections",
        version=2,  # v1 counted the C12 clocks of appliance-inspection work orders
    ),
    Indicator(
        "K13",
        _("百尊安装维修回访"),
        "（种子文件未给出公式）",
        f.return_visits,
        _("种子文件公式留空，kefu按承诺C12理解：已回访的燃气具安装和维修 / 当月完成的燃气具安装和维修。"),
        "followups",
    ),
    Indicator(
        "K14",
        _("客户服务电话"),
        "B/A*100%；B：成功于规定响铃次数内接听电话的次数（如无法统计，则为回访使用客户服务电话服务的客户，"
        "成功于规定响铃次数内接听电话的次数）；A：接听电话的总次数（如无法统计，则为回访使用客户服务电话服务的客户总次数）",
        f.service_phone,
        _("3声以内接听；有接听电话缺少响铃次数时，改用回访结果计算，并标明“回访口径”。"),
        "telephony",
    ),
    Indicator(
        "K15",
        _("服务态度"),
        "(C1+C2+…+Cn)/n；Cn：第n次电话回访客户对服务态度的评分（最高分为10分，最低为1分）；n：电话回访总次数",
        f.mean_score,
        _("当月电话回访的评分平均值（1–10分）；无回访评分时为“无数据”。"),
        "followups",
        unit="分",
    ),
    Indicator(
        "K16",
        _("专业能力"),
        "(C1+C2+…+Cn)/n；Cn：第n次电话回访客户对专业能力的评分（最高分为10分，最低为1分）；n：电话回访总次数",
        f.mean_score,
        _("当月电话回访的评分平均值（1–10分）；无回访评分时为“无数据”。"),
        "followups",
        unit="分",
    ),
    Indicator(
        "K17",
        _("处理客户意见"),
        "Cs/Ct*100%；Cs：成功于2个工作日内答复客户意见处理情况的次数；Ct：客户提出意见的总次数",
        f.within_limit,
        _within(_("2个工作日按国家法定工作日历（含调休）计算，起算当日不计。")),
        "followups",
    ),
)

BY_CODE: dict[str, Indicator] = {i.code: i for i in INDICATORS}


def indicator(code: str) -> Indicator:
    """The indicator with this code ("K6"); KeyError names the unknown code."""
    try:
        return BY_CODE[code.upper()]
    except KeyError:
        raise KeyError(f"no indicator {code!r}: K1–K17") from None


@dataclass(frozen=True)
class Target:
    """A published target of one indicator for a year (kefu.kpi.models.IndicatorTarget)."""

    value: Decimal
    strict: bool = False
    commitment: str = ""


# Seed 004 附 "2024年服务承诺目标": the two targets it states as a figure. The others are published by
# each company for its year (the seed states them as time limits, which the clocks measure).
SEED_TARGETS: dict[str, Target] = {
    "K1": Target(Decimal("99.90"), strict=True, commitment="超过99.9 %"),
    "K13": Target(Decimal("100.00"), commitment="100%电话回访"),
}
