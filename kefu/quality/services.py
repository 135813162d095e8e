"""Writes of the quality app (L1, L2, L3, L4, L5): rules, transcripts and their automatic check, sampling,
evaluations and appeals. Every service validates, writes, and records what it did.

Checking is 100 %: `transcript_submit` stores a transcript as `pending` and triggers a check after
the commit; the worker's sweep (`check_pending`, every minute in kefu.quality.tasks) claims every
pending transcript with a conditional UPDATE and a lease time, so a transcript whose check died with
its worker is claimed again once the lease has passed. Written replies of work orders come from the
tickets app's `TicketReplied` fact (`on_ticket_replied`), with the catch-up `replies_not_submitted`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Exists, Max, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Company, User
from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.scoping import assert_perm
from kefu.core.bulk import bulk_insert
from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.quality import engine, scoring
from kefu.quality.models import (
    CheckStatus,
    EvalStatus,
    Evaluation,
    EvaluationEvent,
    Finding,
    Rule,
    RuleVersion,
    SamplingPlan,
    ScoringItem,
    Source,
    Transcript,
)
from kefu.quality.seeds import seed_rules

log = logging.getLogger("kefu.quality")

MAX_TURNS = 2000
MAX_TURN_CHARS = 5000
CLAIM_FOR = timedelta(minutes=5)  # a check that has not finished by then is taken over

DEFAULT_ITEMS = [
    ("opening", "开头语规范（您好 + 公司名称）", 10, False),
    ("address", "称呼客户姓氏 + 先生/女士", 10, False),
    ("listening", "认真聆听，不打断、不争执", 20, False),
    ("answer", "答复准确、完整，不越权答复", 30, False),
    ("attitude", "语气亲切、耐心", 20, False),
    ("closing", "结束语与挂机顺序", 10, False),
    ("forbidden", "未使用禁忌用语（使用即零分）", 0, True),
]


# ---- rules -------------------------------------------------------------------------------------
def _rule_data(rule: Rule) -> dict:
    return {
        "code": rule.code,
        "name": rule.name,
        "clause": rule.clause,
        "severity": rule.severity,
        "weight": rule.weight,
        "spec": rule.spec,
        "examples": rule.examples,
        "sources": rule.sources,
        "active": rule.active,
    }


def quality_seed(*, company: Company) -> int:
    """Give a company the standard's rules (kefu.quality.seeds), the default scoring form and a
    sampling plan; idempotent (existing rules are left as the company edited them). Returns how
    many rules were added."""
    added = 0
    with transaction.atomic():
        have = set(Rule.objects.filter(company=company).values_list("code", flat=True))
        for data in seed_rules():
            if data["code"] in have:
                continue
            rule = Rule.objects.create(company=company, **data)
            RuleVersion.objects.create(rule=rule, version=1, data=_rule_data(rule))
            added += 1
        items = set(ScoringItem.objects.filter(company=company).values_list("code", flat=True))
        for n, (code, label, points, critical) in enumerate(DEFAULT_ITEMS):
            if code not in items:
                ScoringItem.objects.create(
                    company=company,
                    code=code,
                    label=label,
                    max_points=points or 1,
                    critical=critical,
                    order=n,
                )
        SamplingPlan.objects.get_or_create(company=company)
    return added


def rule_spec(rule: Rule) -> engine.RuleSpec:
    return engine.RuleSpec.from_dict(rule.code, rule.spec, severity=rule.severity, weight=rule.weight)


def _validate_examples(examples: Any) -> list[dict]:
    if not isinstance(examples, list) or len(examples) > 200:
        raise DomainError(_("样例应为列表（最多 200 条）。"), field="examples")
    for n, ex in enumerate(examples, 1):
        if not isinstance(ex, dict) or not isinstance(ex.get("hit"), bool):
            raise DomainError(_("第 %(n)s 条样例应含 hit（true/false）。") % {"n": n}, field="examples")
        for key in ("text", "company", "surname", "hangup_by"):
            if key in ex and not isinstance(ex[key], str):
                raise DomainError(
                    _("第 %(n)s 条样例的 %(k)s 应为文本。") % {"n": n, "k": key}, field="examples"
                )
        if "noisy" in ex and not isinstance(ex["noisy"], bool):
            raise DomainError(
                _("第 %(n)s 条样例的 %(k)s 应为文本。") % {"n": n, "k": "noisy"}, field="examples"
            )
        if "turns" in ex:
            validate_turns(ex["turns"], field="examples")
        elif not isinstance(ex.get("text"), str):
            raise DomainError(_("第 %(n)s 条样例应含 text 或 turns。") % {"n": n}, field="examples")
    return examples


def rule_save(
    *,
    by: User,
    code: str,
    name: str,
    spec: dict,
    clause: str = "",
    severity: str = "minor",
    weight: int = 5,
    examples: list | None = None,
    sources: list | None = None,
    active: bool = True,
) -> tuple[Rule, dict]:
    """Create or edit a language rule of the user's company (quality.manage). Each save is a new
    version; the rule's examples run as its tests and their precision and recall are returned."""
    assert_perm(by, Perm.QUALITY_MANAGE)
    code = (code or "").strip()
    if not code or len(code) > 40 or not all(c.isalnum() or c in "-_." for c in code):
        raise DomainError(_("编号只能由字母、数字和 - _ . 组成，最长 40 个字符。"), field="code")
    if not (name or "").strip() or len(name) > 100:
        raise DomainError(_("请填写名称（最长 100 个字符）。"), field="name")
    if severity not in engine.SEVERITIES:
        raise DomainError(_("未知的严重程度。"), field="severity")
    if not isinstance(weight, int) or not 0 <= weight <= 100:
        raise DomainError(_("扣分应在 0 到 100 之间。"), field="weight")
    sources = sources if sources is not None else [Source.CALL, Source.CHAT, Source.REPLY]
    if not isinstance(sources, list) or not sources or any(s not in Source.values for s in sources):
        raise DomainError(_("适用文本应为 call、chat、reply、return_visit 中的一个或多个。"), field="sources")
    examples = _validate_examples(examples if examples is not None else [])
    try:
        spec_obj = engine.RuleSpec.from_dict(code, spec, severity=severity, weight=weight)
    except engine.SpecError as exc:
        raise DomainError(str(exc), field="spec") from None
    metrics = engine.example_metrics(examples, spec_obj)
    with transaction.atomic():
        rule = Rule.objects.select_for_update().filter(company=by.company, code=code).first()
        values = dict(
            name=name.strip(),
            clause=(clause or "")[:60],
            severity=severity,
            weight=weight,
            spec=spec,
            examples=examples,
            sources=sources,
            active=active,
            updated_at=timezone.now(),
        )
        if rule is None:
            rule = Rule.objects.create(company=by.company, code=code, version=1, **values)
        else:
            for k, v in values.items():
                setattr(rule, k, v)
            rule.version += 1
            rule.save()
        RuleVersion.objects.create(rule=rule, version=rule.version, data=_rule_data(rule), by=by)
    return rule, metrics


def rule_metrics(rule: Rule) -> dict:
    """Precision and recall of a rule on its own labelled examples."""
    return engine.example_metrics(rule.examples, rule_spec(rule))


# ---- transcripts -------------------------------------------------------------------------------
def validate_turns(turns: Any, *, field: str = "turns") -> list[dict]:
    """Check a transcript's turns: a list of {speaker: agent|customer, text, start_ms?, end_ms?,
    noise?}; every error names the turn and what is wrong."""
    if not isinstance(turns, list):
        raise DomainError(_("对话应为 JSON 数组（每轮一个对象）。"), field=field)
    if len(turns) > MAX_TURNS:
        raise DomainError(_("对话最多 %(n)s 轮。") % {"n": MAX_TURNS}, field=field)
    out = []
    for n, t in enumerate(turns, 1):
        if not isinstance(t, dict):
            raise DomainError(_("第 %(n)s 轮应为对象。") % {"n": n}, field=field)
        unknown = set(t) - {"speaker", "text", "start_ms", "end_ms", "noise"}
        if unknown:
            raise DomainError(
                _("第 %(n)s 轮有未知字段：%(f)s。") % {"n": n, "f": "、".join(sorted(map(str, unknown)))},
                field=field,
            )
        speaker = t.get("speaker")
        if speaker not in engine.SPEAKERS:
            raise DomainError(
                _("第 %(n)s 轮的说话人 %(s)s 未知（应为 agent 或 customer）。")
                % {"n": n, "s": repr(speaker)},
                field=field,
            )
        text = t.get("text", "")
        if not isinstance(text, str) or len(text) > MAX_TURN_CHARS:
            raise DomainError(_("第 %(n)s 轮的 text 应为不超过 5000 字的文本。") % {"n": n}, field=field)
        if "\x00" in text:
            raise DomainError(_("第 %(n)s 轮的文本含有无效字符。") % {"n": n}, field=field)
        times = []
        for key in ("start_ms", "end_ms"):
            v = t.get(key)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 86_400_000):
                raise DomainError(
                    _("第 %(n)s 轮的 %(k)s 应为 0 到 86400000 之间的整数毫秒。") % {"n": n, "k": key},
                    field=field,
                )
            times.append(v)
        if None not in times and times[1] < times[0]:
            raise DomainError(_("第 %(n)s 轮的结束时间早于开始时间。") % {"n": n}, field=field)
        noise = t.get("noise", False)
        if not isinstance(noise, bool):
            raise DomainError(_("第 %(n)s 轮的 noise 应为 true 或 false。") % {"n": n}, field=field)
        row = {"speaker": speaker, "text": text}
        if times[0] is not None:
            row["start_ms"] = times[0]
        if times[1] is not None:
            row["end_ms"] = times[1]
        if noise:
            row["noise"] = True
        out.append(row)
    return out


def transcript_submit(
    *,
    company: Company,
    source: str,
    external_id: str,
    turns: Any,
    agent: User | None = None,
    customer_surname: str = "",
    hangup_by: str = "",
    noisy: bool = False,
    occurred_at: datetime | None = None,
    ticket_id: int | None = None,
    check_now: bool = True,
) -> tuple[Transcript, bool]:
    """Store a text to check (call / chat transcript from telephony or a speech-recognition adapter,
    or a written reply) and trigger its check after the commit. Idempotent per (source,
    external_id): a second submission returns the first (created=False)."""
    if source not in Source.values:
        raise DomainError(_("未知的来源（应为 call、chat、reply、return_visit）。"), field="source")
    external_id = (external_id or "").strip()
    if not external_id or len(external_id) > 100:
        raise DomainError(_("请提供外部编号（最长 100 个字符）。"), field="external_id")
    rows = validate_turns(turns)
    if hangup_by not in ("", "agent", "customer"):
        raise DomainError(_("先挂机方应为 agent、customer 或空。"), field="hangup_by")
    if len(customer_surname or "") > 10:
        raise DomainError(_("客户姓氏过长。"), field="customer_surname")
    if occurred_at is not None and timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)  # a local time of the company's zone
    if agent is not None and agent.company_id != company.pk:
        raise DomainError(_("坐席不属于本公司。"), field="agent")
    existing = Transcript.objects.filter(company=company, source=source, external_id=external_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            tr = Transcript.objects.create(
                company=company,
                source=source,
                external_id=external_id,
                agent=agent,
                turns=rows,
                customer_surname=(customer_surname or "").strip(),
                hangup_by=hangup_by,
                noisy=bool(noisy),
                occurred_at=occurred_at or timezone.now(),
                ticket_id=ticket_id,
            )
            if check_now:
                transaction.on_commit(lambda: _trigger(tr.pk))
    except IntegrityError:  # the same transcript submitted twice at once: the other one won
        return Transcript.objects.get(company=company, source=source, external_id=external_id), False
    return tr, True


def _trigger(transcript_id: int) -> None:
    """Ask the worker to check one transcript now (the sweep catches it anyway if this is lost)."""
    try:
        from kefu.quality.tasks import check_transcript_task

        check_transcript_task(transcript_id)
    except Exception:  # the queue being down must not fail the request; the sweep checks it
        log.exception("could not queue the check of transcript %s", transcript_id)


# ---- the check ---------------------------------------------------------------------------------
_books: dict[tuple, tuple[engine.RuleBook, dict]] = {}


def _rulebook(company_id: int, source: str) -> tuple[engine.RuleBook, dict[str, Rule]]:
    """The compiled rules of a company for one source, rebuilt when a rule was edited."""
    stamp = Rule.objects.filter(company_id=company_id).aggregate(v=Sum("version"), at=Max("updated_at"))
    if stamp["v"] is None:  # a company without any rule checks against the standard's (seed data)
        quality_seed(company=Company.objects.get(pk=company_id))
        stamp = Rule.objects.filter(company_id=company_id).aggregate(v=Sum("version"), at=Max("updated_at"))
    key = (company_id, source, stamp["v"], stamp["at"])
    if key not in _books:
        rules = [
            r for r in Rule.objects.filter(company_id=company_id, active=True) if source in (r.sources or [])
        ]
        specs, by_code = [], {}
        for r in rules:
            try:
                specs.append(rule_spec(r))
                by_code[r.code] = r
            except engine.SpecError:
                log.warning("rule %s of company %s is invalid and skipped", r.code, company_id)
        if len(_books) > 200:
            _books.clear()
        _books[key] = (engine.RuleBook(specs), by_code)
    return _books[key]


class _Claimed(NamedTuple):
    """What the check reads of one claimed transcript: plain values of one query (with the company's
    short name), no model instances — a batch is 500 transcripts."""

    pk: int
    company_id: int
    source: str
    turns: list
    customer_surname: str
    hangup_by: str
    noisy: bool
    agent_id: int | None
    occurred_at: datetime
    company_short: str


_CLAIMED_FIELDS = (
    "pk",
    "company_id",
    "source",
    "turns",
    "customer_surname",
    "hangup_by",
    "noisy",
    "agent_id",
    "occurred_at",
    "company__short_name",
)


def to_engine(tr: Transcript | _Claimed, company_short: str) -> engine.Transcript:
    """A stored transcript (a model or a claimed row) as the engine's pure Transcript."""
    Turn = engine.Turn
    turns = tuple(
        [
            Turn(t["speaker"], t.get("text", ""), t.get("start_ms"), t.get("end_ms"), bool(t.get("noise")))
            for t in tr.turns
        ]
    )
    return engine.Transcript(
        turns, company=company_short, surname=tr.customer_surname, hangup_by=tr.hangup_by, noisy=tr.noisy
    )


def _claim(ids: list[int] | None, limit: int) -> list[int]:
    """Claim pending transcripts (or ones whose claim expired): one conditional UPDATE … RETURNING
    (PostgreSQL, SQLite ≥ 3.35) over the oldest candidates gives exactly the rows this claim took
    (another worker may have taken some between the two statements)."""
    now = timezone.now()
    free = Q(status=CheckStatus.PENDING) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    qs = Transcript.objects.filter(free)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    candidates = list(qs.order_by("received_at", "id").values_list("pk", flat=True)[:limit])
    if not candidates:
        return []
    table = connection.ops.quote_name(Transcript._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    marks = ", ".join(["%s"] * len(candidates))
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET claimed_until = %s WHERE id IN ({marks}) AND status = %s"
            " AND (claimed_until IS NULL OR claimed_until < %s) RETURNING id",
            [adapt(now + CLAIM_FOR), *candidates, CheckStatus.PENDING, adapt(now)],
        )
        return [r[0] for r in cur.fetchall()]


def _finding_row(tr: _Claimed, rule: Rule, h: engine.Hit) -> dict:
    return {
        "company_id": tr.company_id,
        "transcript_id": tr.pk,
        "rule_id": rule.pk,
        "rule_version": rule.version,
        "turn": h.turn,
        "start": h.start,
        "end": h.end,
        "at_ms": h.at_ms,
        "phrase": h.phrase[:200],
        "missing": h.missing,
        "severity": h.severity,
        "agent_id_copy": tr.agent_id,
        "occurred_at": tr.occurred_at,
    }


def _scores_write(results: dict[int, engine.Result], now: datetime) -> None:
    """Mark a batch checked with its scores: one UPDATE … FROM (VALUES …) per 500 transcripts
    (PostgreSQL, SQLite ≥ 3.33) instead of one UPDATE per distinct score."""
    table = connection.ops.quote_name(Transcript._meta.db_table)
    items = list(results.items())
    with connection.cursor() as cur:
        for i in range(0, len(items), 500):
            chunk = items[i : i + 500]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            params: list[Any] = [CheckStatus.CHECKED, connection.ops.adapt_datetimefield_value(now)]
            for pk, res in chunk:
                params += [pk, res.score, len(res.hits)]
            cur.execute(
                f"UPDATE {table} SET status = %s, score = v.column2, hit_count = v.column3,"
                f" checked_at = %s, claimed_until = NULL, error = ''"
                # the id list lets PostgreSQL find the rows by primary key; joined on the VALUES
                # alone it may scan the whole table for every batch
                f" FROM (VALUES {values}) AS v WHERE {table}.id IN ({', '.join(['%s'] * len(chunk))})"
                f" AND {table}.id = v.column1",
                [*params, *(pk for pk, _res in chunk)],
            )


def check_pending(*, ids: list[int] | None = None, limit: int = 500) -> int:
    """Check up to `limit` pending transcripts (all of `ids` when given): the worker's job (L1, L2,
    L3, L4, L5). Per batch: the claim, one read, the rule book once per company and source, the
    findings by COPY and the scores by one UPDATE. Returns how many were checked."""
    claimed = _claim(ids, limit)
    if not claimed:
        return 0
    rows = [_Claimed(*r) for r in Transcript.objects.filter(pk__in=claimed).values_list(*_CLAIMED_FIELDS)]
    findings: list[dict] = []
    results: dict[int, engine.Result] = {}
    books: dict[tuple[int, str], tuple[engine.RuleBook, dict[str, Rule]]] = {}
    for tr in rows:
        key = (tr.company_id, tr.source)
        if key not in books:  # the rule-set version looked up once per company and source a batch
            books[key] = _rulebook(tr.company_id, tr.source)
        book, by_code = books[key]
        try:
            res = engine.evaluate(book, to_engine(tr, tr.company_short))
        except Exception as exc:  # one bad transcript must not stop the others
            log.exception("check of transcript %s failed", tr.pk)
            Transcript.objects.filter(pk=tr.pk).update(status=CheckStatus.FAILED, error=str(exc)[:300])
            continue
        results[tr.pk] = res
        findings.extend(_finding_row(tr, by_code[h.rule], h) for h in res.hits)
    now = timezone.now()
    with transaction.atomic():
        Finding.objects.filter(transcript_id__in=list(results)).delete()  # a re-check replaces its own
        bulk_insert(Finding, findings)  # COPY on PostgreSQL
        _scores_write(results, now)
    return len(results)


def transcript_recheck(*, by: User, transcript_id: int) -> Transcript:
    """Check a transcript again with today's rules (e.g. after a rule was corrected)."""
    assert_perm(by, Perm.QUALITY_REVIEW)
    tr = Transcript.objects.filter(company=by.company, pk=transcript_id).first()
    if tr is None:
        raise NotFound(_("未找到该质检文本。"))
    Transcript.objects.filter(pk=tr.pk).update(status=CheckStatus.PENDING, claimed_until=None)
    check_pending(ids=[tr.pk])
    tr.refresh_from_db()
    return tr


# ---- written replies (the tickets app's facts) -------------------------------------------------
def submit_reply(event_id: int) -> Transcript | None:
    """Make the transcript of one written reply (a work order's `reply` timeline entry); idempotent."""
    from kefu.tickets.models import TicketEvent

    ev = (
        TicketEvent.objects.filter(pk=event_id, kind=TicketEvent.Kind.REPLY)
        .select_related("ticket", "company")
        .first()
    )
    if ev is None:
        return None
    text = str((ev.payload or {}).get("text", ""))[:MAX_TURN_CHARS].replace("\x00", " ")
    tr, _created = transcript_submit(
        company=ev.company,
        source=Source.REPLY,
        external_id=str(ev.pk),
        turns=[{"speaker": "agent", "text": text}],
        agent=ev.actor if ev.actor and ev.actor.company_id == ev.company_id else None,
        customer_surname=ev.ticket.caller_surname or "",
        occurred_at=ev.at,
        ticket_id=ev.ticket_id,
    )
    return tr


def on_ticket_replied(event) -> None:
    """Listener of kefu.tickets.facts.TicketReplied: check the reply's language (L2)."""
    submit_reply(event.event_id)


def replies_not_submitted(*, limit: int = 1000, days: int = 30) -> int:
    """Catch-up of on_ticket_replied: replies of the last `days` days without a transcript (the
    process died between the reply's commit and the listener). Returns how many were submitted."""
    from kefu.tickets.models import TicketEvent

    since = timezone.now() - timedelta(days=days)
    have = Transcript.objects.filter(
        company_id=OuterRef("company_id"), source=Source.REPLY, external_id=Cast(OuterRef("pk"), CharField())
    )
    missing = (
        TicketEvent.objects.filter(kind=TicketEvent.Kind.REPLY, at__gte=since)
        .exclude(Exists(have))
        .order_by("at")
        .values_list("pk", flat=True)[:limit]
    )
    n = 0
    for pk in list(missing):
        if submit_reply(pk) is not None:
            n += 1
    return n


# ---- telephony transcripts (TranscriptAvailable) ------------------------------------------------
_SPEAKERS = {
    "agent": "agent",
    "坐席": "agent",
    "客服": "agent",
    "customer": "customer",
    "caller": "customer",
    "客户": "customer",
    "visitor": "customer",
}
TELEPHONY_PREFIX = "telephony:"


def _turns_of(segments, text: str) -> list[dict]:
    """Telephony's segments ({speaker, start_ms, end_ms, text}) as checked turns; speaker names of
    the PBX / ASR adapters mapped to agent / customer. Without segments, lines "坐席：…" / "客户：…"
    (a chat's text) are split; any other text is one agent turn (what the agent wrote or said)."""
    turns = []
    for seg in segments or []:
        if not isinstance(seg, dict):
            continue
        speaker = _SPEAKERS.get(str(seg.get("speaker", "")).strip().lower())
        if speaker is None:
            continue
        turn = {"speaker": speaker, "text": str(seg.get("text", ""))[:MAX_TURN_CHARS]}
        for key in ("start_ms", "end_ms"):
            v = seg.get(key)
            if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 86_400_000:
                turn[key] = v
        if "start_ms" in turn and "end_ms" in turn and turn["end_ms"] < turn["start_ms"]:
            del turn["end_ms"]
        turns.append(turn)
    if turns:
        return turns[:MAX_TURNS]
    for line in (text or "").splitlines():
        head, sep, rest = line.replace(":", "：", 1).partition("：")
        speaker = _SPEAKERS.get(head.strip().lower()) if sep else None
        if speaker:
            turns.append({"speaker": speaker, "text": rest.strip()[:MAX_TURN_CHARS]})
        elif line.strip():
            turns.append({"speaker": "agent", "text": line.strip()[:MAX_TURN_CHARS]})
    return turns[:MAX_TURNS]


def transcript_from_telephony(transcript_id: int) -> Transcript | None:
    """Submit one telephony transcript (a call's, from the PBX or the ASR adapter; a chat's text) for
    the service-language checks (L1, L2, L3, L4, L5): the answering agent, who hung up first (L5), the call's
    start. Idempotent per telephony transcript (external id `telephony:<id>`)."""
    from kefu.telephony.models import Transcript as TelTranscript

    t = TelTranscript.objects.filter(pk=transcript_id).select_related("call", "chat").first()
    if t is None:
        return None
    company = Company.objects.get(pk=t.company_id)
    agent_id, hangup_by, occurred_at, source = None, "", t.created_at, Source.CALL
    if t.call is not None:
        agent_id = t.call.answered_by_id
        hangup_by = t.call.hangup_by if t.call.hangup_by in ("agent", "customer") else ""
        occurred_at = t.call.started_at
    elif t.chat is not None:
        source, agent_id, occurred_at = Source.CHAT, t.chat.agent_id, t.chat.arrived_at
    agent = User.objects.filter(pk=agent_id, company_id=company.pk).first() if agent_id else None
    turns = _turns_of(t.segments, t.text) or [{"speaker": "agent", "text": ""}]
    tr, _created = transcript_submit(
        company=company,
        source=source,
        external_id=f"{TELEPHONY_PREFIX}{t.pk}",
        turns=turns,
        agent=agent,
        hangup_by=hangup_by,
        occurred_at=occurred_at,
    )
    return tr


def on_transcript_available(event) -> None:
    """Listener of kefu.telephony.facts.TranscriptAvailable: check the call's or chat's language
    (L1, L2, L3, L4, L5). Catch-up: telephony_transcripts_not_submitted."""
    transcript_from_telephony(event.transcript_id)


def telephony_transcripts_not_submitted(*, limit: int = 1000, days: int = 30) -> int:
    """Catch-up of on_transcript_available: telephony transcripts of the last `days` days without a
    quality transcript (the process died between the commit and the listener). Returns how many
    were submitted."""
    from kefu.telephony.models import Transcript as TelTranscript

    since = timezone.now() - timedelta(days=days)
    have = Transcript.objects.filter(
        company_id=OuterRef("company_id"),
        source__in=(Source.CALL, Source.CHAT),
        external_id=Concat(Value(TELEPHONY_PREFIX), Cast(OuterRef("pk"), CharField())),
    )
    missing = (
        TelTranscript.objects.filter(created_at__gte=since)
        .exclude(Exists(have))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    n = 0
    for pk in list(missing):
        try:
            if transcript_from_telephony(pk) is not None:
                n += 1
        except DomainError as e:  # a transcript the checks cannot read: logged, the others go on
            log.warning("telephony transcript %s not checkable: %s", pk, e)
    return n


# ---- sampling and evaluations ------------------------------------------------------------------
def week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _event(ev: Evaluation, kind: str, actor: User | None, **payload) -> None:
    EvaluationEvent.objects.create(evaluation=ev, kind=kind, actor=actor, payload=payload)


def sampling_draw(*, by: User, week: date) -> list[Evaluation]:
    """Draw this week's sample for the inspectors (quality.review): per agent the plan's number of
    checked calls and chats at random, plus extra ones with low automatic scores. Reproducible and
    idempotent: a transcript is evaluated at most once."""
    assert_perm(by, Perm.QUALITY_REVIEW)
    plan, _c = SamplingPlan.objects.get_or_create(company=by.company)
    monday = week_start(week)
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(monday, datetime.min.time()), tz)
    end = start + timedelta(days=7)
    rows = Transcript.objects.filter(
        company=by.company,
        status=CheckStatus.CHECKED,
        agent__isnull=False,
        occurred_at__gte=start,
        occurred_at__lt=end,
        source__in=[Source.CALL, Source.CHAT, Source.RETURN_VISIT],
    ).values_list("pk", "agent_id", "score")
    cands = [scoring.Candidate(pk, a, s) for pk, a, s in rows]
    # the choice over all of the week's calls is reproducible, so drawing again only adds what is new
    picked = scoring.choose_sample(
        cands,
        per_agent=plan.per_agent_week,
        low_score=plan.low_score,
        extra_low=plan.extra_low,
        seed=f"{by.company_id}:{monday.isoformat()}",
    )
    agent_of = {c.id: c.agent_id for c in cands}
    taken = set(
        Evaluation.objects.filter(transcript_id__in=[pk for pk, _ in picked]).values_list(
            "transcript_id", flat=True
        )
    )
    out = []
    with transaction.atomic():
        for pk, why in picked:
            if pk in taken:
                continue
            ev = Evaluation.objects.create(
                company=by.company, transcript_id=pk, agent_id=agent_of[pk], week=monday, reason=why
            )
            _event(ev, "queued", by, reason=why)
            out.append(ev)
    return out


def evaluation_open(*, by: User, transcript_id: int) -> Evaluation:
    """An inspector chooses a transcript to evaluate outside the sample."""
    assert_perm(by, Perm.QUALITY_REVIEW)
    tr = Transcript.objects.filter(company=by.company, pk=transcript_id).first()
    if tr is None:
        raise NotFound(_("未找到该质检文本。"))
    ev = Evaluation.objects.filter(transcript=tr).first()
    if ev is not None:
        return ev
    with transaction.atomic():
        ev = Evaluation.objects.create(
            company=by.company, transcript=tr, agent_id=tr.agent_id, reason="chosen"
        )
        _event(ev, "queued", by, reason="chosen")
    return ev


def _locked(by: User, evaluation_id: int) -> Evaluation:
    ev = Evaluation.objects.select_for_update().filter(company=by.company, pk=evaluation_id).first()
    if ev is None:
        raise NotFound(_("未找到该评分记录。"))
    return ev


def _form(company_id: int, points: Any) -> list[dict]:
    if not isinstance(points, dict):
        raise DomainError(_("得分应为 {评分项编号: 分数}。"), field="points")
    items = []
    for it in ScoringItem.objects.filter(company_id=company_id, active=True):
        p = points.get(it.code)
        if not isinstance(p, int) or isinstance(p, bool):
            raise DomainError(_("请为评分项“%(l)s”打分。") % {"l": it.label}, field="points")
        items.append(
            {"code": it.code, "label": it.label, "max": it.max_points, "critical": it.critical, "points": p}
        )
    if not items:
        raise DomainError(_("本公司尚未配置评分项。"), field="points")
    try:
        scoring.form_score(items)
    except scoring.FormError as exc:
        raise DomainError(str(exc), field="points") from None
    return items


def evaluation_score(*, by: User, evaluation_id: int, points: dict, comment: str = "") -> Evaluation:
    """The inspector fills in the scoring form (quality.review); a failed critical item gives 0."""
    assert_perm(by, Perm.QUALITY_REVIEW)
    with transaction.atomic():
        ev = _locked(by, evaluation_id)
        if ev.status not in (EvalStatus.QUEUED, EvalStatus.SCORED):
            raise Conflict(_("该评分已被坐席确认或申诉，不能再修改。"), code="illegal_transition")
        if ev.agent_id == by.pk:
            raise Forbidden(_("不能给自己评分。"), code="own_evaluation")
        items = _form(ev.company_id, points)
        ev.items, ev.score = items, scoring.form_score(items)
        ev.comment = (comment or "")[:2000]
        ev.inspector, ev.status, ev.scored_at = by, EvalStatus.SCORED, timezone.now()
        ev.save()
        _event(ev, "scored", by, score=ev.score, items=items, comment=ev.comment)
    return ev


def _own(by: User, ev: Evaluation, message: str) -> None:
    """Only the evaluated agent; someone who may not even see the evaluation gets "not found"."""
    if ev.agent_id != by.pk:
        if not role_allows(by, Perm.QUALITY_REVIEW):
            raise NotFound(_("未找到该评分记录。"))
        raise Forbidden(message, code="not_own")


def evaluation_acknowledge(*, by: User, evaluation_id: int) -> Evaluation:
    """The agent accepts their evaluation."""
    with transaction.atomic():
        ev = _locked(by, evaluation_id)
        _own(by, ev, _("只有被评的坐席本人可以确认。"))
        if ev.status != EvalStatus.SCORED:
            raise Conflict(_("只有已评分的记录可以确认。"), code="illegal_transition")
        ev.status = EvalStatus.ACKNOWLEDGED
        ev.save(update_fields=["status"])
        _event(ev, "acknowledged", by)
    return ev


def evaluation_appeal(*, by: User, evaluation_id: int, reason: str) -> Evaluation:
    """The agent contests their evaluation (申诉) with a reason."""
    reason = (reason or "").strip()
    if len(reason) < 4 or len(reason) > 2000:
        raise DomainError(_("请写明申诉理由（4 到 2000 字）。"), field="reason")
    with transaction.atomic():
        ev = _locked(by, evaluation_id)
        _own(by, ev, _("只有被评的坐席本人可以申诉。"))
        if ev.status != EvalStatus.SCORED:
            raise Conflict(_("只有已评分、尚未确认的记录可以申诉。"), code="illegal_transition")
        ev.status, ev.appeal_reason = EvalStatus.APPEALED, reason
        ev.save(update_fields=["status", "appeal_reason"])
        _event(ev, "appealed", by, reason=reason)
    return ev


def appeal_decide(
    *, by: User, evaluation_id: int, decision: str, comment: str, points: dict | None = None
) -> Evaluation:
    """The quality lead (quality.manage) decides an appeal with a mandatory comment: `upheld` with
    corrected points (the score is recomputed) or `rejected` (the score stands)."""
    assert_perm(by, Perm.QUALITY_MANAGE)
    comment = (comment or "").strip()
    if not comment or len(comment) > 2000:
        raise DomainError(_("裁定必须填写意见。"), field="comment")
    if decision not in ("upheld", "rejected"):
        raise DomainError(_("裁定应为 upheld（申诉成立）或 rejected（驳回）。"), field="decision")
    with transaction.atomic():
        ev = _locked(by, evaluation_id)
        if ev.status != EvalStatus.APPEALED:
            raise Conflict(_("该记录不在申诉中。"), code="illegal_transition")
        if ev.inspector_id == by.pk:
            raise Forbidden(_("评分人不能裁定对自己评分的申诉。"), code="own_evaluation")
        before = ev.score
        if decision == "upheld":
            if points is None:
                raise DomainError(_("申诉成立时请给出更正后的得分。"), field="points")
            ev.items = _form(ev.company_id, points)
            ev.score = scoring.form_score(ev.items)
        ev.status, ev.decision, ev.decision_comment, ev.decided_by = EvalStatus.DECIDED, decision, comment, by
        ev.save()
        _event(
            ev, "decided", by, decision=decision, comment=comment, score_before=before, score_after=ev.score
        )
    return ev


def sampling_plan_save(*, by: User, per_agent_week: int, low_score: int, extra_low: int) -> SamplingPlan:
    """Set the company's sampling plan (quality.manage)."""
    assert_perm(by, Perm.QUALITY_MANAGE)
    for name, v, hi in (
        ("per_agent_week", per_agent_week, 100),
        ("low_score", low_score, 100),
        ("extra_low", extra_low, 100),
    ):
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= hi:
            raise DomainError(_("取值应在 0 到 100 之间。"), field=name)
    plan, _c = SamplingPlan.objects.get_or_create(company=by.company)
    plan.per_agent_week, plan.low_score, plan.extra_low = per_agent_week, low_score, extra_low
    plan.save()
    return plan


def can_manage(user) -> bool:
    return role_allows(user, Perm.QUALITY_MANAGE)
