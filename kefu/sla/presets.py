"""Commitment presets: the seeds' published values as plain data (C17).

Where the seeds disagree the platform does not choose (SPEC §C): each company starts from one
preset and edits its own copy. Every value cites the seed clause it comes from (`source`).
Values of seeds 001 and 002 are documented as alternatives in docs/sla.md.

`taian-antai`        — seed 000 (泰安安泰燃气 service standard) §2.2 服务承诺 and §15 电话服务.
`laizhou-crgas-2024` — seed 004 (莱州华润燃气 服务承诺管理) 附：2024年服务承诺目标, 第三条.

Applies-to codes (ticket_kind, ticket_sub_kind, severity, channel) are the stable codes of the
tickets taxonomy, written as plain strings because sla imports no domain app;
kefu/tickets/tests/test_clocks.py checks that every one exists there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_noop  # commitment names are stored in Chinese, shown translated

from kefu.sla.codes import Event
from kefu.sla.models import ClockKind, LimitUnit, PauseReason

ALL_REASONS = (
    PauseReason.CUSTOMER_REQUESTED_TIME,
    PauseReason.CUSTOMER_UNREACHABLE,
    PauseReason.AGREED_OTHERWISE,
)
APPOINTMENT_REASONS = (PauseReason.CUSTOMER_REQUESTED_TIME, PauseReason.CUSTOMER_UNREACHABLE)


@dataclass(frozen=True)
class CommitmentSpec:
    code: str
    spec_id: str
    name: str
    clock_kind: str
    start_event: str
    stop_event: str
    limit_value: int
    limit_unit: str
    source: str
    ticket_kind: str = ""
    ticket_sub_kind: str = ""
    severity: str = ""
    channel: str = ""
    customer_category: str = ""
    ends_at_close_of_business: bool = False
    pause_reasons: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Preset:
    code: str
    name: str
    source: str
    commitments: tuple[CommitmentSpec, ...] = field(default_factory=tuple)


TAIAN_ANTAI = Preset(
    code="taian-antai",
    name="安泰燃气服务承诺",
    source="种子文件 000 §2.2 服务承诺、§15 电话服务工作要求",
    commitments=(
        CommitmentSpec(
            "pipeline_fault_general",
            "C3",
            gettext_noop("输气管网一般故障排除"),
            ClockKind.RESOLVED,
            Event.TICKET_RECEIVED,
            Event.TICKET_RESOLVED,
            4,
            LimitUnit.HOURS,
            "000 2.2.3 一般故障排除不超过4小时",
            ticket_kind="emergency",
            ticket_sub_kind="pipe_damage",
            severity="general",
        ),
        CommitmentSpec(
            "pipeline_fault_major",
            "C3",
            gettext_noop("输气管网大故障修复"),
            ClockKind.RESOLVED,
            Event.TICKET_RECEIVED,
            Event.TICKET_RESOLVED,
            24,
            LimitUnit.HOURS,
            "000 2.2.3 大故障不超过24小时修复",
            ticket_kind="emergency",
            ticket_sub_kind="pipe_damage",
            severity="major",
        ),
        CommitmentSpec(
            "equipment_fault_handled",
            "C4",
            gettext_noop("用户燃气设备故障处理"),
            ClockKind.HANDLED,
            Event.TICKET_RECEIVED,
            Event.TICKET_HANDLED,
            6,
            LimitUnit.HOURS,
            "000 2.2.4 一般故障原则上在6小时内处理（除和客户另有约定外）",
            ticket_kind="repair",
            pause_reasons=ALL_REASONS,
        ),
        CommitmentSpec(
            "equipment_fault_repaired",
            "C4",
            gettext_noop("用户燃气设备故障修复"),
            ClockKind.RESOLVED,
            Event.TICKET_RECEIVED,
            Event.TICKET_RESOLVED,
            24,
            LimitUnit.HOURS,
            "000 2.2.4 24小时内修复（除和客户另有约定外）",
            ticket_kind="repair",
            pause_reasons=ALL_REASONS,
            note="无能力维修（不在维修范围或无配套零配件）时及时告知客户或帮助转其它渠道，并记录。",
        ),
        CommitmentSpec(
            "complaint_reply",
            "C6",
            gettext_noop("投诉答复客户"),
            ClockKind.REPLY,
            Event.COMPLAINT_RECEIVED,
            Event.COMPLAINT_ANSWERED,
            72,
            LimitUnit.HOURS,
            "000 2.2.6 接到投诉电话时，立即调查并进行处理，72小时内给予客户答复",
            ticket_kind="complaint",
            pause_reasons=(PauseReason.CUSTOMER_UNREACHABLE,),
            note="答复指判定（投诉是否成立）之后的答复；受理时的致歉不算。计时在投诉处理（kefu/followups/clocks.py）。",
        ),
        CommitmentSpec(
            "phone_answer",
            "C13",
            gettext_noop("服务电话接听"),
            ClockKind.FIRST_RESPONSE,
            Event.CALL_OFFERED,
            Event.CALL_ANSWERED,
            3,
            LimitUnit.RINGS,
            "000 15.2.3 电话振铃3声内接听电话",
            channel="hotline",
        ),
        CommitmentSpec(
            "call_resolved",
            "C15",
            gettext_noop("来电尽量3分钟内解决"),
            ClockKind.HANDLED,
            Event.CALL_ANSWERED,
            Event.CALL_ENDED,
            3,
            LimitUnit.MINUTES,
            "000 15.2.8 尽量在3分钟内为客户解决问题",
            channel="hotline",
            note="目标值（“尽量”），用于统计，不升级。",
        ),
        CommitmentSpec(
            "consultation_answer",
            "C14",
            gettext_noop("咨询不能当即答复的答复"),
            ClockKind.REPLY,
            Event.TICKET_RECEIVED,
            Event.TICKET_REPLIED,
            2,
            LimitUnit.WORKING_DAYS,
            "000 15.3.4 不能当即答复的问题……应在二个工作日内答复",
            ticket_kind="consultation",
            pause_reasons=(PauseReason.CUSTOMER_UNREACHABLE,),
            note="来电中已答复的咨询在受理时即停止计时。",
        ),
        CommitmentSpec(
            "consultation_return_visit",
            "C14",
            gettext_noop("咨询随机电话回访"),
            ClockKind.RETURN_VISIT,
            Event.RETURN_VISIT_CREATED,
            Event.RETURN_VISIT_DONE,
            2,
            LimitUnit.WORKING_DAYS,
            "000 15.3.6 二个工作日内随机电话回访",
            ticket_kind="consultation",
            pause_reasons=(PauseReason.CUSTOMER_UNREACHABLE,),
            note="只有按抽样比例抽中的咨询生成回访任务并启动此计时（kefu/followups）；回访完成即停止。",
        ),
    ),
)

LAIZHOU_CRGAS_2024 = Preset(
    code="laizhou-crgas-2024",
    name="莱州华润燃气2024年服务承诺",
    source="种子文件 004 附：2024年服务承诺目标；第三条",
    commitments=(
        CommitmentSpec(
            "outage_notice",
            "C1",
            gettext_noop("燃气暂停供应提前通知"),
            ClockKind.NOTICE_LEAD,
            Event.OUTAGE_PLANNED_START,
            Event.OUTAGE_NOTIFIED,
            48,
            LimitUnit.HOURS,
            "004 附表 燃气暂停供应：提前48小时通知客户（紧急事故除外）",
            note="倒计时：通知须在计划停气开始前48小时送达（截止时间 = 开始时间 − 48小时）；紧急事故除外。",
        ),
        CommitmentSpec(
            "supply_restored",
            "C2",
            gettext_noop("恢复燃气供应"),
            ClockKind.RESOLVED,
            Event.OUTAGE_STARTED,
            Event.OUTAGE_RESTORED,
            24,
            LimitUnit.HOURS,
            "004 附表 恢复燃气供应：24小时内（紧急事故除外）",
        ),
        CommitmentSpec(
            "emergency_on_site",
            "C8",
            gettext_noop("紧急抢险到达现场"),
            ClockKind.ON_SITE,
            Event.TICKET_RECEIVED,
            Event.TICKET_ARRIVED,
            40,
            LimitUnit.MINUTES,
            "004 附表 紧急抢险服务：40分钟内到达现场",
            ticket_kind="emergency",
        ),
        CommitmentSpec(
            "installation_on_site",
            "C9",
            gettext_noop("预约安装上门"),
            ClockKind.ON_SITE,
            Event.TICKET_RECEIVED,
            Event.TICKET_ARRIVED,
            2,
            LimitUnit.WORKING_DAYS,
            "004 附表 预约安装服务：2个工作日内提供上门安装服务（具备安装条件）",
            ticket_kind="installation",
            pause_reasons=APPOINTMENT_REASONS,
            note="不具备安装条件的不计时。",
        ),
        CommitmentSpec(
            "repair_on_site",
            "C10",
            gettext_noop("预约维修上门"),
            ClockKind.ON_SITE,
            Event.TICKET_RECEIVED,
            Event.TICKET_ARRIVED,
            1,
            LimitUnit.WORKING_DAYS,
            "004 附表 预约维修服务：1个工作日内提供上门维修服务",
            ticket_kind="repair",
            pause_reasons=APPOINTMENT_REASONS,
        ),
        CommitmentSpec(
            "inspection_on_site",
            "C11",
            gettext_noop("预约安检上门"),
            ClockKind.ON_SITE,
            Event.TICKET_RECEIVED,
            Event.TICKET_ARRIVED,
            1,
            LimitUnit.WORKING_DAYS,
            "004 附表 预约安检服务：1个工作日内提供上门安检服务",
            ticket_kind="inspection_appointment",
            pause_reasons=APPOINTMENT_REASONS,
        ),
        CommitmentSpec(
            "appliance_install",
            "C12",
            gettext_noop("燃气具安装上门"),
            ClockKind.ON_SITE,
            Event.TICKET_RECEIVED,
            Event.TICKET_ARRIVED,
            24,
            LimitUnit.HOURS,
            "004 附表 百尊安装服务：24小时内提供上门安装服务（具备安装条件）",
            ticket_kind="appliance",
            ticket_sub_kind="install",
            pause_reasons=APPOINTMENT_REASONS,
        ),
        CommitmentSpec(
            "appliance_repair",
            "C12",
            gettext_noop("燃气具维修上门"),
            ClockKind.ON_SITE,
            Event.TICKET_RECEIVED,
            Event.TICKET_ARRIVED,
            24,
            LimitUnit.HOURS,
            "004 附表 百尊维修服务：24小时内提供上门维修服务",
            ticket_kind="appliance",
            ticket_sub_kind="repair",
            pause_reasons=APPOINTMENT_REASONS,
        ),
        CommitmentSpec(
            "phone_answer",
            "C13",
            gettext_noop("客户服务电话接听"),
            ClockKind.FIRST_RESPONSE,
            Event.CALL_OFFERED,
            Event.CALL_ANSWERED,
            3,
            LimitUnit.RINGS,
            "004 附表 客户服务电话：响铃3声内接听",
            channel="hotline",
        ),
        CommitmentSpec(
            "complaint_reply",
            "C6",
            gettext_noop("处理客户意见（投诉）答复"),
            ClockKind.REPLY,
            Event.COMPLAINT_RECEIVED,
            Event.COMPLAINT_ANSWERED,
            2,
            LimitUnit.WORKING_DAYS,
            "004 附表 处理客户意见：2个工作日答复客户意见处理情况；第三条8 两个工作日内再次回复",
            ticket_kind="complaint",
            pause_reasons=(PauseReason.CUSTOMER_UNREACHABLE,),
        ),
        CommitmentSpec(
            "opinion_reply",
            "C6",
            gettext_noop("处理客户意见（建议）答复"),
            ClockKind.REPLY,
            Event.TICKET_RECEIVED,
            Event.TICKET_REPLIED,
            2,
            LimitUnit.WORKING_DAYS,
            "004 附表 处理客户意见：2个工作日答复客户意见处理情况；第十条17",
            ticket_kind="suggestion",
            pause_reasons=(PauseReason.CUSTOMER_UNREACHABLE,),
        ),
        CommitmentSpec(
            "counter_business",
            "C15",
            gettext_noop("营业厅业务3分钟内完成"),
            ClockKind.HANDLED,
            # A target measured on reports from the counter transaction's own start and end, never a
            # clock on the work order: work-order events would start it on every counter work order
            # of any kind and escalate to a manager although the preset says 不升级 (C15).
            Event.COUNTER_STARTED,
            Event.COUNTER_ENDED,
            3,
            LimitUnit.MINUTES,
            "004 第三条4 尽量在3分钟内完成客户业务",
            channel="counter",
            note="目标值（“尽量”），用于统计，不升级。",
        ),
    ),
)

ETIQUETTE_002 = Preset(
    code="service-etiquette-002",
    name="客户服务礼仪规范服务时限",
    source="种子文件 002 客户服务礼仪规范 第四章第二节8、第五节4–5",
    commitments=(
        CommitmentSpec(
            "complaint_promise",
            "C6",
            gettext_noop("投诉承诺回复"),
            ClockKind.FIRST_RESPONSE,
            Event.COMPLAINT_RECEIVED,
            Event.COMPLAINT_PROMISED,
            1,
            LimitUnit.WORKING_DAYS,
            "002 第四章第五节5 做好记录，并承诺1个工作日内回复",
            ticket_kind="complaint",
            pause_reasons=(PauseReason.CUSTOMER_UNREACHABLE,),
        ),
        CommitmentSpec(
            "complaint_handled",
            "C6",
            gettext_noop("投诉处理完毕并反馈"),
            ClockKind.HANDLED,
            Event.COMPLAINT_RECEIVED,
            Event.COMPLAINT_EXECUTED,
            5,
            LimitUnit.WORKING_DAYS,
            "002 第四章第五节5 3-5个工作日内处理完毕并反馈",
            ticket_kind="complaint",
            pause_reasons=(PauseReason.CUSTOMER_UNREACHABLE,),
            note="种子给出3–5个工作日，取上限5个工作日；公司可改为3。",
        ),
        CommitmentSpec(
            "complaint_return_visit",
            "C6",
            gettext_noop("投诉回访"),
            ClockKind.RETURN_VISIT,
            Event.COMPLAINT_EXECUTED,
            Event.RETURN_VISIT_DONE,
            24,
            LimitUnit.HOURS,
            "002 第四章第二节8 对于客户投诉的回访，应当在24小时内进行",
            ticket_kind="complaint",
            pause_reasons=(PauseReason.CUSTOMER_UNREACHABLE,),
        ),
        CommitmentSpec(
            "complaint_result",
            "C6",
            gettext_noop("投诉处理结果送达"),
            ClockKind.RESOLVED,
            Event.COMPLAINT_RECEIVED,
            Event.COMPLAINT_CLOSED,
            5,
            LimitUnit.WORKING_DAYS,
            "002 第四章第二节8 于5个工作日内亲自上门把投诉处理结果反馈给客户",
            ticket_kind="complaint",
            pause_reasons=(PauseReason.CUSTOMER_UNREACHABLE,),
        ),
        CommitmentSpec(
            "consultation_answer",
            "C14",
            gettext_noop("咨询不能当即答复的答复"),
            ClockKind.REPLY,
            Event.TICKET_RECEIVED,
            Event.TICKET_REPLIED,
            2,
            LimitUnit.WORKING_DAYS,
            "002 第四章第五节4 若本人不能立即答复，要给对方承诺，并在2个工作日内给予答复",
            ticket_kind="consultation",
            pause_reasons=(PauseReason.CUSTOMER_UNREACHABLE,),
        ),
    ),
)

PRESETS: dict[str, Preset] = {p.code: p for p in (TAIAN_ANTAI, LAIZHOU_CRGAS_2024, ETIQUETTE_002)}
