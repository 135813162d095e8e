"""Demo data of the quality app for `kefu demo` (step 60): the standard's rules, two weeks of call
and chat transcripts of the demo agents checked by the real check, this week's sample drawn, two
evaluations scored by the inspector and one of them appealed by the agent — so every quality screen
shows real records. The work-order replies of the tickets demo are checked too."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from kefu.accounts.models import User
from kefu.core.demo import DemoRun
from kefu.quality import services
from kefu.quality.models import CheckStatus, Source, Transcript

SURNAMES = "王李张刘陈杨赵黄周吴"


def _call(company_short: str, surname: str, kind: str, rng: random.Random) -> tuple[list[dict], str, bool]:
    """One call's turns (with timings), who hung up first, and whether the line was noisy."""
    title = rng.choice(["先生", "女士"])
    good_open = f"您好，{company_short}公司，请问有什么可以帮您？"
    lines: list[tuple[str, str]] = []
    hangup, noisy = "customer", False
    if kind == "good":
        lines = [
            ("agent", good_open),
            ("customer", f"我家燃气表没气了，我姓{surname}"),
            ("agent", f"{surname}{title}，请您稍等，我帮您查一下。"),
            ("customer", "好的"),
            ("agent", f"{surname}{title}，您的表卡余额不足，请到营业厅或者手机上充值。"),
            ("agent", "您还有其他问题吗？"),
            ("customer", "没有了，谢谢"),
            ("agent", "感谢您的来电，如果有问题，请您与我们联系，再见！"),
        ]
    elif kind == "forbidden":
        lines = [
            ("agent", good_open),
            ("customer", "我上周报修的到现在还没人来！"),
            ("agent", "這個我不知道，嗯，你找我沒用，要解決就去找領導。"),
            ("customer", "你什么态度？"),
            ("agent", "我就这态度，你尽管投诉好了。"),
            ("agent", "再见"),
        ]
        hangup = "agent"
    elif kind == "bare":
        lines = [
            ("agent", "喂，说吧。"),
            ("customer", f"我姓{surname}，要开户"),
            ("agent", f"{surname}，你带身份证和房产证去营业厅办。"),
            ("customer", "好"),
            ("agent", "行，就这样。"),
        ]
    elif kind == "silent":
        lines = [("agent", good_open), ("customer", ""), ("agent", "喂？喂？"), ("agent", "没声音我挂了。")]
        hangup = "agent"
    elif kind == "noisy":
        noisy = True
        lines = [
            ("agent", good_open),
            ("customer", "（杂音）……表……没气……"),
            ("agent", f"对不起，{title}，您的电话听不清楚，请您大点声，好吗？"),
            ("customer", "我家没气了"),
            ("agent", "您还有其他问题吗？"),
            ("agent", "感谢您的来电，再见！"),
        ]
    turns, t = [], 0
    for speaker, text in lines:
        dur = max(1500, len(text) * 220)
        turns.append({"speaker": speaker, "text": text, "start_ms": t, "end_ms": t + dur})
        t += dur + rng.randint(300, 1200)
    return turns, hangup, noisy


def build_demo_quality(company, *, seed: int = 7) -> int:
    """Seed rules, submit and check two weeks of transcripts, draw a sample, score and appeal."""
    rng = random.Random(seed)
    services.quality_seed(company=company)
    agents = list(
        User.objects.filter(company=company, role__in=["agent", "clerk", "team_lead"], is_active=True)
    )
    inspector = User.objects.filter(company=company, role="quality", is_active=True).first()
    if not agents:
        return 0
    now = timezone.now()
    kinds = ["good"] * 6 + ["forbidden", "bare", "silent", "noisy"]
    made = 0
    for n in range(60):
        agent = agents[n % len(agents)]
        kind = rng.choice(kinds)
        surname = rng.choice(SURNAMES)
        turns, hangup, noisy = _call(company.short_name, surname, kind, rng)
        source = Source.CALL if n % 6 else Source.CHAT
        if source == Source.CHAT:
            turns = [{"speaker": t["speaker"], "text": t["text"]} for t in turns if t["text"]]
            hangup = ""
        _tr, created = services.transcript_submit(
            company=company,
            source=source,
            external_id=f"DEMO-{n:04d}",
            turns=turns,
            agent=agent,
            customer_surname=surname,
            hangup_by=hangup,
            noisy=noisy,
            occurred_at=now - timedelta(hours=rng.randint(1, 24 * 13)),
            check_now=False,
        )
        made += int(created)
    # replies of the tickets demo were checked before the rules existed only if the company had none
    Transcript.objects.filter(company=company, source=Source.REPLY).update(status=CheckStatus.PENDING)
    while services.check_pending(limit=500):
        pass
    if inspector is not None:
        evs = services.sampling_draw(by=inspector, week=timezone.localdate())
        points = {
            "opening": 10,
            "address": 10,
            "listening": 20,
            "answer": 25,
            "attitude": 15,
            "closing": 10,
            "forbidden": 1,
        }
        for ev in evs[:2]:
            services.evaluation_score(
                by=inspector, evaluation_id=ev.pk, points=points, comment="整体规范，答复可更完整。"
            )
        if evs:
            first = evs[0]
            services.evaluation_appeal(
                by=first.agent,
                evaluation_id=first.pk,
                reason="已按流程完整答复客户，申请复核“答复准确、完整”一项。",
            )
    return made


def demo_step(run: DemoRun) -> None:
    """`kefu demo`, step 60 (kefu.core.demo)."""
    made = build_demo_quality(run.company, seed=run.options.get("seed") or 7)
    run.summary.append(f"质检通话/会话 {made} 条")
