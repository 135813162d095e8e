"""Reads of the quality app (S2: company isolation; an agent sees only their own).

Inspectors and leads (quality.review) see every transcript and evaluation of their company; anyone
else sees the transcripts and evaluations where they are the agent — so an agent can see and
contest every finding about them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Avg, Count, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import NotFound
from kefu.quality.models import CheckStatus, EvalStatus, Evaluation, Finding, Rule, Transcript


def is_reviewer(user) -> bool:
    return role_allows(user, Perm.QUALITY_REVIEW)


def transcripts_visible_to(user) -> QuerySet[Transcript]:
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.company_id is None:
        return Transcript.objects.none()
    qs = Transcript.objects.filter(company_id=user.company_id)
    return qs if is_reviewer(user) else qs.filter(agent=user)


def transcript_get(user, pk: int) -> Transcript:
    tr = transcripts_visible_to(user).filter(pk=pk).select_related("agent").first()
    if tr is None:
        raise NotFound("未找到该质检文本。")
    return tr


def evaluations_visible_to(user) -> QuerySet[Evaluation]:
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.company_id is None:
        return Evaluation.objects.none()
    qs = Evaluation.objects.filter(company_id=user.company_id).select_related(
        "agent", "transcript", "inspector"
    )
    return qs if is_reviewer(user) else qs.filter(agent=user)


def evaluation_get(user, pk: int) -> Evaluation:
    ev = evaluations_visible_to(user).filter(pk=pk).first()
    if ev is None:
        raise NotFound("未找到该评分记录。")
    return ev


def rules_of(user) -> QuerySet[Rule]:
    if not is_reviewer(user):
        return Rule.objects.none()
    return Rule.objects.filter(company_id=user.company_id)


@dataclass
class Segment:
    text: str
    hit: bool = False
    rules: list[str] = field(default_factory=list)


def highlighted_turns(tr: Transcript) -> tuple[list[dict], list[Finding]]:
    """The transcript's turns cut into plain and highlighted segments (hits at their positions in
    the original text), and the whole-conversation findings (a required phrase never said)."""
    findings = list(tr.findings.select_related("rule").order_by("turn", "start"))
    by_turn: dict[int, list[Finding]] = {}
    general = []
    for f in findings:
        if f.turn is None or f.end <= f.start:
            general.append(f)
            if f.turn is not None:
                by_turn.setdefault(f.turn, [])
        else:
            by_turn.setdefault(f.turn, []).append(f)
    out = []
    for i, t in enumerate(tr.turns):
        text = t.get("text", "")
        hits = sorted(by_turn.get(i, []), key=lambda f: (f.start, -f.end))
        segs, pos = [], 0
        for f in hits:
            if f.start < pos:
                if segs and segs[-1].hit:
                    segs[-1].rules.append(f.rule.code)
                continue
            if f.start > pos:
                segs.append(Segment(text[pos : f.start]))
            segs.append(Segment(text[f.start : f.end], True, [f.rule.code]))
            pos = f.end
        if pos < len(text):
            segs.append(Segment(text[pos:]))
        flags = [f for f in general if f.turn == i]
        out.append({"index": i, "turn": t, "segments": segs, "flags": flags})
    return out, [f for f in general if f.turn is None]


def month_range(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(first, datetime.min.time()), tz),
        timezone.make_aware(datetime.combine(nxt, datetime.min.time()), tz),
    )


def report(user, *, month: date, by: str = "agent") -> dict:
    """Per agent (or team) for a month: transcripts checked, mean automatic score, evaluations and
    their mean score, the rules hit most; and the company's monthly trend (L1, L2, L3, L4, L5 reports)."""
    start, end = month_range(month)
    trs = transcripts_visible_to(user).filter(
        status=CheckStatus.CHECKED, occurred_at__gte=start, occurred_at__lt=end
    )
    key = "agent__team__name" if by == "team" else "agent_id"
    rows = {}
    cols = [key] if by == "team" else [key, "agent__full_name", "agent__username"]
    for r in trs.values(*cols).annotate(n=Count("id"), auto=Avg("score")):
        k = r[key]
        label = (r.get("agent__full_name") or r.get("agent__username") or "—") if by != "team" else (k or "—")
        row = rows.setdefault(
            k, {"key": k, "label": label, "checked": 0, "auto": None, "evaluated": 0, "eval": None, "top": []}
        )
        row["checked"] += r["n"]
        row["auto"] = round(r["auto"], 1) if r["auto"] is not None else None
    evs = evaluations_visible_to(user).filter(
        transcript__occurred_at__gte=start, transcript__occurred_at__lt=end, score__isnull=False
    )
    ekey = "agent__team__name" if by == "team" else "agent_id"
    for r in evs.values(ekey).annotate(n=Count("id"), s=Avg("score")):
        row = rows.get(r[ekey])
        if row is not None:
            row["evaluated"], row["eval"] = r["n"], round(r["s"], 1)
    fkey = "transcript__agent__team__name" if by == "team" else "agent_id_copy"
    finds = (
        Finding.objects.filter(transcript__in=trs)
        .values(fkey, "rule__code", "rule__name")
        .annotate(n=Count("id"))
    )
    tops: dict = {}
    overall: Counter = Counter()
    names = {}
    for r in finds:
        tops.setdefault(r[fkey], []).append((r["n"], r["rule__code"]))
        overall[r["rule__code"]] += r["n"]
        names[r["rule__code"]] = r["rule__name"]
    for k, row in rows.items():
        row["top"] = [c for _, c in sorted(tops.get(k, []), reverse=True)[:3]]
    trend = list(
        transcripts_visible_to(user)
        .filter(status=CheckStatus.CHECKED, occurred_at__gte=start - timedelta(days=190), occurred_at__lt=end)
        .annotate(m=TruncMonth("occurred_at"))
        .values("m")
        .annotate(n=Count("id"), auto=Avg("score"))
        .order_by("m")
    )
    return {
        "rows": sorted(rows.values(), key=lambda r: (r["auto"] is None, r["auto"] or 0)),
        "top_rules": [(c, names[c], n) for c, n in overall.most_common(10)],
        "trend": [
            {
                "month": t["m"].strftime("%Y-%m") if t["m"] else "",
                "checked": t["n"],
                "auto": round(t["auto"] or 0, 1),
            }
            for t in trend
        ],
    }


def queue_for(user) -> QuerySet[Evaluation]:
    """The sampling queue: evaluations waiting for a score."""
    return evaluations_visible_to(user).filter(status=EvalStatus.QUEUED).order_by("week", "id")


def appeals_for(user) -> QuerySet[Evaluation]:
    return evaluations_visible_to(user).filter(status=EvalStatus.APPEALED).order_by("id")
