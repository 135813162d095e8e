"""The workforce step of `kefu demo` (kefu.core.demo): a hotline team with 早/中/夜 shifts, an
emergency crew with 24 h duty, this month's rosters proposed by the solver and published, a
hand-over, a leave request and the seed's penalty rules."""

from __future__ import annotations

from datetime import time

from django.utils import timezone

from kefu.accounts.models import Team, User
from kefu.accounts.roles import Role
from kefu.core.demo import DemoRun
from kefu.workforce import services
from kefu.workforce.models import Roster, ShiftPattern, Skill


def build_team_shifts(team, *, emergency: bool = False) -> None:
    if ShiftPattern.objects.filter(team=team).exists():
        return
    if emergency:
        services.pattern_create(
            team=team,
            code="D",
            name="抢险值班",
            start=time(8, 0),
            hours=24,
            exemption_reason="抢险抢修特殊工时（综合计算工时制审批）",
            needs={Skill.EMERGENCY: 1},
        )
        return
    services.pattern_create(
        team=team, code="Z", name="早班", start=time(8, 0), needs={Skill.HOTLINE: 2}, order=1
    )
    services.pattern_create(
        team=team, code="M", name="中班", start=time(16, 0), needs={Skill.HOTLINE: 2}, order=2
    )
    services.pattern_create(
        team=team, code="Y", name="夜班", start=time(0, 0), is_night=True, needs={Skill.HOTLINE: 1}, order=3
    )


def demo_step(run: DemoRun) -> None:
    """`kefu demo`, step 25: rosters of this month for the demo company's teams."""
    company = run.company
    head = User.objects.filter(
        company=company, role__in=[Role.MANAGER, Role.SUPERVISOR], is_active=True
    ).first()
    if head is None:
        return
    services.penalty_rules_install(company)
    team = Team.objects.filter(company=company, is_active=True).order_by("pk").first()
    if team is None:
        return
    build_team_shifts(team)
    staff = list(
        User.objects.filter(company=company, is_active=True).exclude(role__in=[Role.ADMIN, Role.AUDITOR])
    )
    hotline = [u for u in staff if u.role in (Role.AGENT, Role.TEAM_LEAD, Role.CLERK, Role.DISPATCHER)]
    n = 0
    for u in hotline:
        services.profile_set(user=u, team=team, job=Skill.HOTLINE, level=1)
        n += 1
    for i in range(max(0, 12 - n)):  # a hotline around the clock needs a dozen people
        u = User.objects.create_user(
            username=f"demo_hotline_{company.pk}_{i}",
            password=None,
            company=company,
            role=Role.AGENT,
            full_name=f"话务员{i + 1:02d}",
            team=team,
        )
        services.profile_set(user=u, team=team, job=Skill.HOTLINE, level=1)
    month = timezone.localdate().replace(day=1)
    if not Roster.objects.filter(team=team, month=month).exists():
        roster = services.roster_propose(team=team, month=month, by=head, time_limit=20)
        services.roster_publish(roster=roster, by=head)
    _requests_and_records(company, hotline, head)
    run.summary.append("本月排班表（早/中/夜三班）、交接班、请假和考核扣罚")


def _requests_and_records(company, hotline, head) -> None:
    """A hand-over waiting for its successor, a pending leave request, a proposed penalty."""
    from kefu.core.errors import DomainError

    agent = next((u for u in hotline if u.role == Role.AGENT), None)
    lead = next((u for u in hotline if u.role == Role.TEAM_LEAD), None)
    if agent is None or lead is None:
        return
    services.handover_record(
        leaver=agent,
        successor=lead,
        equipment_state="3 号机台耳机有杂音，已报信息中心",
        difficult_cases="幸福小区王女士第三次来电询问燃气表更换，请跟进",
        staff_changes="李娜与赵敏换班（见换班登记）",
    )
    try:
        services.leave_request(
            user=agent,
            kind="personal",
            first_day=timezone.localdate() + timezone.timedelta(days=3),
            last_day=timezone.localdate() + timezone.timedelta(days=3),
            reason="家中有事",
        )
    except DomainError:
        pass  # e.g. the day is a public holiday: the demo shows the rest
    services.penalty_from_complaint(company_id=company.pk, user_id=agent.pk, complaint_ref="演示投诉-001")
