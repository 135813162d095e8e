"""100 % automatic checking (L1, L2, L3, L4, L5): transcripts through the API and the service, bad
input with a
clear 4xx, written replies of work orders through the tickets app's fact with its catch-up, the
worker's claims (nothing lost when a worker dies), company isolation and an agent seeing only their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from kefu.core.events import unsubscribe
from kefu.quality import services
from kefu.quality.models import CheckStatus, Finding, Source, Transcript
from kefu.quality.tests.conftest import BAD_CALL, GOOD_CALL

pytestmark = pytest.mark.django_db
BASE = "/api/v1/quality/"


def _post(client, path, data):
    return client.post(BASE + path, data, content_type="application/json")


def test_submit_checks_at_once_and_is_idempotent(client_for, inspector_x, agent_x):
    c = client_for(inspector_x)
    body = {
        "source": "call",
        "external_id": "PBX-1",
        "agent_id": agent_x.pk,
        "customer_surname": "王",
        "hangup_by": "customer",
        "turns": BAD_CALL,
    }
    r = _post(c, "transcripts", body)
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["status"] == "checked" and out["created"]
    rules = {f["rule"] for f in out["findings"]}
    assert {"forbidden-4.5.1", "forbidden-4.5.2", "opening", "address-title"} <= rules
    f = next(f for f in out["findings"] if f["rule"] == "forbidden-4.5.1")
    assert BAD_CALL[f["turn"]]["text"][f["start"] : f["end"]] == "不知道"  # position in the original
    assert 4200 <= f["at_ms"] <= 8000 and f["clause"] == "000 4.5.1"
    again = _post(c, "transcripts", body)
    assert again.status_code == 200 and again.json()["id"] == out["id"] and not again.json()["created"]
    assert Transcript.objects.count() == 1


def test_good_call_scores_100(client_for, supervisor_x, agent_x):
    r = _post(
        client_for(supervisor_x),
        "transcripts",
        {
            "external_id": "PBX-2",
            "agent_username": agent_x.username,
            "customer_surname": "王",
            "hangup_by": "customer",
            "turns": GOOD_CALL,
        },
    )
    assert r.status_code == 201 and r.json()["score"] == 100 and r.json()["findings"] == [], r.json()


@pytest.mark.parametrize(
    "turns,word",
    [
        ([{"speaker": "robot", "text": "hi"}], "说话人"),
        ([{"speaker": "agent", "text": "x", "start_ms": 5, "end_ms": 1}], "结束时间"),
        ([{"speaker": "agent", "text": "x", "start_ms": -1}], ""),
        ("not a list", ""),
    ],
)
def test_bad_transcripts_get_a_clear_error(client_for, inspector_x, turns, word):
    r = _post(client_for(inspector_x), "transcripts", {"external_id": "X", "turns": turns})
    assert r.status_code in (400, 422), r.content
    assert word in r.json()["detail"]
    assert not Transcript.objects.exists()


def test_bad_json_gets_a_clear_error(client_for, inspector_x):
    r = client_for(inspector_x).post(
        BASE + "transcripts", '{"external_id": "X", "turns": [', content_type="application/json"
    )
    assert 400 <= r.status_code < 500 and r.json()["detail"]


def test_unknown_agent_of_another_company(client_for, inspector_x, agent_y):
    r = _post(
        client_for(inspector_x),
        "transcripts",
        {"external_id": "X", "agent_id": agent_y.pk, "turns": GOOD_CALL},
    )
    assert r.status_code == 400 and r.json()["field"] == "agent_id"


def test_technician_cannot_submit(client_for, company_x):
    from kefu.accounts.tests.factories import UserFactory

    tech = UserFactory(company=company_x, role="auditor", username="aud")
    r = _post(client_for(tech), "transcripts", {"external_id": "X", "turns": GOOD_CALL})
    assert r.status_code == 403


def test_agent_sees_only_own_and_company_y_nothing(
    client_for, inspector_x, agent_x, agent2_x, agent_y, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the check is triggered after the commit
        tr1, _ = services.transcript_submit(
            company=agent_x.company, source="call", external_id="A", turns=BAD_CALL, agent=agent_x
        )
        tr2, _ = services.transcript_submit(
            company=agent_x.company, source="call", external_id="B", turns=BAD_CALL, agent=agent2_x
        )
    assert [t["id"] for t in client_for(agent_x).get(BASE + "transcripts").json()] == [tr1.pk]
    assert client_for(agent_x).get(f"{BASE}transcripts/{tr2.pk}").status_code == 404
    assert client_for(agent_x).get(f"{BASE}transcripts/{tr1.pk}").json()["findings"]
    assert client_for(agent_y).get(BASE + "transcripts").json() == []
    assert client_for(agent_y).get(f"{BASE}transcripts/{tr1.pk}").status_code == 404
    assert len(client_for(inspector_x).get(BASE + "transcripts").json()) == 2
    assert client_for(agent_x).get(BASE + "rules").status_code == 403


def test_worker_claim_expires_so_nothing_is_lost(company_x, agent_x):
    """A worker that died mid-check leaves a claim; after CLAIM_FOR the sweep takes it over."""
    tr, _ = services.transcript_submit(
        company=company_x, source="chat", external_id="C", turns=BAD_CALL, agent=agent_x, check_now=False
    )
    with time_machine.travel(timezone.now(), tick=False):
        assert services._claim([tr.pk], 10) == [tr.pk]  # ...and the worker dies here
        assert services.check_pending() == 0  # claimed: nobody else checks it meanwhile
    with time_machine.travel(timezone.now() + services.CLAIM_FOR + timedelta(seconds=1), tick=False):
        assert services.check_pending() == 1
    tr.refresh_from_db()
    assert tr.status == CheckStatus.CHECKED and tr.hit_count > 0
    assert services.check_pending() == 0  # checked once: no duplicate findings
    assert Finding.objects.filter(transcript=tr).count() == tr.hit_count


def test_written_reply_is_checked_through_the_tickets_fact(
    make_ticket, agent_x, django_capture_on_commit_callbacks
):
    from kefu.tickets.services import ticket_reply

    ticket = make_ticket()
    with django_capture_on_commit_callbacks(execute=True):
        ev = ticket_reply(ticket_id=ticket.pk, by=agent_x, text="这个我们不管，你自己看着办。")
    tr = Transcript.objects.get(source=Source.REPLY, external_id=str(ev.pk))
    assert tr.status == CheckStatus.CHECKED and tr.ticket_id == ticket.pk and tr.agent == agent_x
    assert {"forbidden-4.5.1", "forbidden-4.5.14"} <= set(tr.findings.values_list("rule__code", flat=True))


def test_lost_reply_listener_is_caught_up(make_ticket, agent_x, django_capture_on_commit_callbacks):
    from kefu.tickets.facts import TicketReplied
    from kefu.tickets.services import ticket_reply

    ticket = make_ticket()
    unsubscribe(TicketReplied, services.on_ticket_replied)  # the process died before the listener ran
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ev = ticket_reply(ticket_id=ticket.pk, by=agent_x, text="我解决不了。")
    finally:
        from kefu.core.events import subscribe

        subscribe(TicketReplied, services.on_ticket_replied, catch_up=services.replies_not_submitted)
    assert not Transcript.objects.filter(source=Source.REPLY).exists()
    from kefu.quality.tasks import sweep

    result = sweep(time_budget=10)
    assert result["replies_submitted"] == 1
    tr = Transcript.objects.get(source=Source.REPLY, external_id=str(ev.pk))
    assert tr.status == CheckStatus.CHECKED and "forbidden-4.5.10" in set(
        tr.findings.values_list("rule__code", flat=True)
    )
    assert sweep(time_budget=10)["replies_submitted"] == 0


def test_batch_writes_what_the_engine_finds_for_each_transcript(company_x, agent_x):
    """The worker's batch path (values read, claim by UPDATE … RETURNING, scores by one UPDATE …
    FROM VALUES, findings by COPY) stores for each transcript exactly the straightforward result:
    engine.evaluate on the stored model, its score, hit count and findings (L1, L2, L3, L4, L5)."""
    calls = [GOOD_CALL, BAD_CALL, GOOD_CALL[:2], BAD_CALL[1:], GOOD_CALL + BAD_CALL]
    made = [
        services.transcript_submit(
            company=company_x,
            source="call",
            external_id=f"B{n}",
            turns=t,
            agent=agent_x,
            customer_surname="王",
            hangup_by="agent" if n % 2 else "customer",
            check_now=False,
        )[0]
        for n, t in enumerate(calls)
    ]
    other, _ = services.transcript_submit(
        company=company_x, source="call", external_id="taken", turns=BAD_CALL, check_now=False
    )
    Transcript.objects.filter(pk=other.pk).update(claimed_until=timezone.now() + timedelta(minutes=1))
    assert services.check_pending(limit=100) == len(made)  # the row another worker holds is left
    for tr in made:
        tr.refresh_from_db()
        book, by_code = services._rulebook(company_x.pk, tr.source)
        want = services.engine.evaluate(book, services.to_engine(tr, company_x.short_name))
        got = list(
            Finding.objects.filter(transcript=tr)
            .order_by("pk")
            .values_list(
                "rule__code", "turn", "start", "end", "phrase", "missing", "severity", "agent_id_copy"
            )
        )
        assert got == [
            (h.rule, h.turn, h.start, h.end, h.phrase, h.missing, h.severity, agent_x.pk) for h in want.hits
        ]
        assert (tr.status, tr.score, tr.hit_count) == (CheckStatus.CHECKED, want.score, len(want.hits))
        assert tr.claimed_until is None and tr.checked_at is not None and tr.error == ""
    assert len({tr.score for tr in made}) > 1  # several scores written by the one UPDATE
    assert Transcript.objects.get(pk=other.pk).status == CheckStatus.PENDING
