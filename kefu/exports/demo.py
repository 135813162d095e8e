"""Demo data of the exports app for `kefu demo` (step 90): the team lead asks twice to export the
work-order list with full personal data (绝密, S3); the supervisor approved one, the other waits in
the approval queue — so "我的导出", "导出审批" and the download page show real records."""

from __future__ import annotations

from kefu.accounts.models import User
from kefu.core.demo import DemoRun
from kefu.exports import services
from kefu.exports.registry import _kinds


def build_demo_exports(company) -> int:
    """One approved and one pending 绝密 request of the work-order list (if tickets is installed)."""
    if "tickets.list" not in _kinds:
        return 0
    users = {
        u.username: u for u in User.objects.filter(company=company, username__in=["team_lead", "supervisor"])
    }
    lead, supervisor = users.get("team_lead"), users.get("supervisor")
    if lead is None or supervisor is None:
        return 0
    approved = services.export_request_create(
        by=lead,
        kind="tickets.list",
        params={"kind": ["emergency"]},
        reason="近期抢险工单，供安全例会逐单分析到场时间",
    )
    services.export_request_approve(by=supervisor, request_id=approved.pk, note="仅限例会使用，会后删除")
    services.export_request_create(
        by=lead,
        kind="tickets.list",
        params={"open_only": ["on"]},
        reason="全部未办结工单，月底与承办部门逐单核对",
    )
    return 2


def demo_step(run: DemoRun) -> None:
    """`kefu demo`, step 90 (kefu.core.demo)."""
    made = build_demo_exports(run.company)
    if made:
        run.summary.append(f"导出申请 {made} 个（1 个已批准、1 个待审批）")
