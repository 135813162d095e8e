"""Demo follow-ups for `kefu demo` (step 40, after the work orders): the company's follow-up rules
(20 % of consultations visited, calling hours 08:30–20:00 with a midday rest), W5 penalty rules, an
approved knowledge base, one complaint taken through its steps up to the manager's approval, return
visits already made with their scores (historical records, written as backfill since the demo may run
outside calling hours), a handed-over project (C20) and a satisfaction survey with answers."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from kefu.accounts.models import Department, User
from kefu.accounts.roles import Role
from kefu.core.demo import DemoRun
from kefu.core.errors import DomainError
from kefu.followups import services
from kefu.followups.models import Article, Complaint, FollowupPolicy, PenaltyRule, Project, ReturnVisit

ARTICLES = (
    (
        "installation",
        "居民用户开户（报装）需要什么材料",
        "开户 报装 材料 身份证 房产证",
        "携带户主身份证原件、房产证明（房产证或购房合同）原件及复印件，到营业厅填写《居民用气申请表》。"
        "租户须另带房东授权书。受理后2个工作日内安排上门勘察。",
    ),
    (
        "installation",
        "报装流程",
        "报装 流程 勘察 设计 施工 通气",
        "申请受理 → 上门勘察 → 方案设计与报价 → 缴费 → 施工安装 → 验收 → 置换通气。"
        "全程可拨打服务热线查询进度。",
    ),
    (
        "tariff",
        "居民阶梯气价如何计算",
        "阶梯 气价 收费 价格",
        "按年度累计用气量分三档计价：第一档0–300立方米，第二档300–600立方米，第三档600立方米以上。以当地物价部门批复为准。",
    ),
    (
        "ic_card",
        "IC卡表充值后不进气怎么办",
        "IC卡 充值 不进气 插卡",
        "请将IC卡正确插入表具并停留5秒，听到提示音后拔出。仍不进气时检查电池电量，更换5号碱性电池后重试；仍不行请报修。",
    ),
    (
        "ic_card",
        "IC卡丢失如何补卡",
        "IC卡 丢失 补卡",
        "户主携带身份证到营业厅办理补卡，补卡后原卡作废。卡内未写入表具的气量可随新卡写入。",
    ),
    (
        "safety",
        "闻到燃气味怎么办",
        "燃气味 泄漏 漏气 安全",
        "立即关闭燃气总阀，打开门窗通风，不要开关电器、不要使用明火和手机，到室外安全处拨打抢险电话。",
    ),
    (
        "safety",
        "燃气软管多久更换一次",
        "软管 更换 老化 安全",
        "橡胶软管建议18个月更换，金属波纹管一般8年；发现老化、龟裂、鼓包应立即更换。",
    ),
    (
        "interruption",
        "近期计划停气信息",
        "停气 计划 施工 停气通知",
        "计划停气会提前48小时通过短信、小区公告和网站通知。具体区域和时间以最新通知为准。",
    ),
)


def _people(company) -> dict[str, User]:
    return {u.role: u for u in User.objects.filter(company=company, is_active=True).order_by("pk")}


def _knowledge(company, agent: User, supervisor: User) -> int:
    if Article.objects.filter(company=company).exists():
        return 0
    for category, title, keywords, body in ARTICLES:
        v = services.kb_propose(by=agent, category=category, title=title, body=body, keywords=keywords)
        services.kb_decide(by=supervisor, version_id=v.pk, approve=True)
    return len(ARTICLES)


def _complaint(company, people: dict[str, User]) -> None:
    c = Complaint.objects.filter(company=company, step="received").order_by("received_at").first()
    supervisor, manager = people.get(Role.SUPERVISOR), people.get(Role.MANAGER)
    if c is None or supervisor is None or manager is None:
        return
    dept = Department.objects.filter(company=company).order_by("pk").first()
    try:
        services.complaint_intake(
            by=supervisor, complaint_id=c.pk, category="timeliness", demand="要求说明迟到原因并道歉"
        )
        services.complaint_judge(
            by=supervisor, complaint_id=c.pk, stands=True, reason="派工记录显示迟到70分钟"
        )
        if dept is not None:
            services.complaint_assign_responsibility(by=supervisor, complaint_id=c.pk, department_id=dept.pk)
            services.complaint_analyse(
                by=supervisor, complaint_id=c.pk, cause="派工时未考虑路程，未提前告知客户"
            )
            services.complaint_plan(
                by=supervisor, complaint_id=c.pk, plan="向客户致歉；调整派工规则；当事班组通报"
            )
    except DomainError:
        return


def _visits(company, rnd: random.Random, agent: User) -> int:
    """Historical visits (older than a day) made, with scores; the rest stay on the queue."""
    done = 0
    now = timezone.now()
    for v in ReturnVisit.objects.filter(
        company=company, status="pending", finished_at__lt=now - timedelta(hours=20)
    ):
        attitude, ability = rnd.randint(6, 10), rnd.randint(5, 10)
        satisfied = attitude >= 7
        ReturnVisit.objects.filter(pk=v.pk).update(
            status="done",
            consent=True,
            attitude_score=attitude,
            ability_score=ability,
            satisfied=satisfied,
            outcome="satisfied" if satisfied else "dissatisfied",
            done_at=min(v.due_at, now - timedelta(hours=1)),
            done_by=agent,
            assigned_to=agent,
            attempts=1,
            clocks_behind=True,
            updated_at=now,
            remarks="" if satisfied else "希望上门前电话提前告知",
        )
        from kefu.followups.clocks import visit_clocks_sync

        visit_clocks_sync(v.pk)
        done += 1
    return done


def _survey(company, supervisor: User, rnd: random.Random) -> None:
    from kefu.followups.models import Campaign, SurveyResponse

    if Campaign.objects.filter(company=company).exists():
        return
    q = services.questionnaire_create(
        by=supervisor,
        name="年度客户满意度调查",
        questions=[
            {"key": "overall", "text": "您对我公司服务的总体满意度（1–10分）", "type": "score"},
            {"key": "hotline", "text": "热线电话是否容易打通（1–5）", "type": "likert"},
            {
                "key": "pay",
                "text": "您最常用的缴费方式",
                "type": "choice",
                "choices": ["微信", "支付宝", "营业厅", "银行代扣"],
            },
            {"key": "advice", "text": "您的意见和建议", "type": "text"},
        ],
    )
    try:
        camp = services.campaign_create(
            by=supervisor,
            name=f"{date.today().year}年客户满意度调查",
            questionnaire_id=q.pk,
            sample_size=60,
            seed="demo",
        )
    except DomainError:
        return
    for r in SurveyResponse.objects.filter(campaign=camp).order_by("pk")[:40]:
        answers = {
            "overall": rnd.randint(6, 10),
            "hotline": rnd.randint(3, 5),
            "pay": rnd.choice(["微信", "支付宝", "营业厅", "银行代扣"]),
        }
        services.survey_answer_link(token=r.token, answers=answers)


def demo_step(run: DemoRun) -> None:
    """`kefu demo`, step 40 (kefu.core.demo)."""
    company = run.company
    if company is None:
        return
    people = _people(company)
    agent, supervisor = people.get(Role.AGENT), people.get(Role.SUPERVISOR)
    if agent is None or supervisor is None:
        return
    rnd = random.Random(run.options.get("seed", 1))
    with transaction.atomic():
        FollowupPolicy.objects.get_or_create(
            company=company, commitment_set=None, defaults={"consultation_sample_percent": 20}
        )
        if not PenaltyRule.objects.filter(company=company).exists():
            for nth, amount, dismissal in ((1, 30, False), (2, 60, False), (3, 0, True)):
                PenaltyRule.objects.create(
                    company=company,
                    name=f"第{nth}次有效投诉",
                    nth=nth,
                    amount=amount,
                    dismissal=dismissal,
                    source="001 篇4 投诉考核",
                )
        Project.objects.get_or_create(
            company=company,
            name="幸福小区二期燃气工程",
            defaults={
                "handed_over_on": date.today() - timedelta(days=75),
                "contact_name": "物业刘经理",
                "contact_phone": "13900007777",
            },
        )
    articles = _knowledge(company, agent, supervisor)
    services.project_visits_schedule(company=company, today=date.today())
    _complaint(company, people)
    visits = _visits(company, rnd, agent)
    _survey(company, supervisor, rnd)
    run.summary.append(f"知识库 {articles} 条、回访 {visits} 次")
