"""Real parallel requests on PostgreSQL (each thread has its own database connection): the second
writer gets a clear conflict and nothing is lost; ticket numbers never collide; an idempotency key
never makes two work orders."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from kefu.tickets.models import Ticket, TicketEvent

BASE = "/api/v1/tickets/"
THREADS = 8


def _run_parallel(fn, n: int = THREADS) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int):
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # surfaced by the assertions
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.fixture
def pg_only():
    if connection.vendor != "postgresql":
        pytest.skip("parallel writers need PostgreSQL (SQLite serialises writers)")


def _logged_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.django_db(transaction=True)
def test_parallel_transitions_one_wins_rest_conflict(pg_only, agent_x, dispatcher_x):
    owner = _logged_in(agent_x)
    t = owner.post(
        BASE,
        {"kind": "consultation", "content": "并发测试", "caller_phone": "13900001111"},
        content_type="application/json",
    ).json()
    clients = [_logged_in(agent_x if i % 2 else dispatcher_x) for i in range(THREADS)]
    targets = ["in_progress", "on_hold", "assigned", "resolved"]

    def act(i: int):
        r = clients[i].post(
            f"{BASE}{t['id']}/transition",
            {"to": targets[i % 4], "version": 1, "reason": f"第{i}个"},
            content_type="application/json",
        )
        return r.status_code, r.json()

    results = _run_parallel(act)
    statuses = sorted(r[0] for r in results)
    assert statuses.count(200) == 1, results
    assert statuses.count(409) == THREADS - 1, results
    for code, body in results:
        if code == 409:
            assert body["code"] == "stale_version" and "刷新" in body["detail"]
    ticket = Ticket.objects.get(pk=t["id"])
    winner = next(body for code, body in results if code == 200)
    assert ticket.version == 2 and ticket.state == winner["state"]
    assert TicketEvent.objects.filter(ticket=ticket, kind="state_changed").count() == 1
    # nothing is lost: comments in parallel all land
    results = _run_parallel(
        lambda i: (
            clients[i]
            .post(f"{BASE}{t['id']}/comment", {"text": f"备注{i}"}, content_type="application/json")
            .status_code
        )
    )
    assert results == [201] * THREADS
    assert TicketEvent.objects.filter(ticket=ticket, kind="comment").count() == THREADS


@pytest.mark.django_db(transaction=True)
def test_parallel_creates_never_share_a_number(pg_only, agent_x, agent2_x):
    clients = [_logged_in(agent_x if i % 2 else agent2_x) for i in range(THREADS)]
    per_thread = 5

    def create(i: int):
        out = []
        for j in range(per_thread):
            r = clients[i].post(
                BASE,
                {"kind": "consultation", "content": f"并发新建 {i}-{j}"},
                content_type="application/json",
            )
            out.append((r.status_code, r.json().get("number") or r.json()))
        return out

    results = _run_parallel(create)
    flat = [x for r in results for x in r]
    assert all(code == 201 for code, _ in flat), [x for x in flat if x[0] != 201]
    numbers = [n for _, n in flat]
    assert len(set(numbers)) == THREADS * per_thread
    seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert seqs == list(range(1, THREADS * per_thread + 1))  # no gaps either
    assert Ticket.objects.count() == THREADS * per_thread


@pytest.mark.django_db(transaction=True)
def test_parallel_retries_with_one_idempotency_key_make_one(pg_only, agent_x):
    clients = [_logged_in(agent_x) for _ in range(THREADS)]

    def create(i: int):
        r = clients[i].post(
            BASE,
            {"kind": "consultation", "content": "电话系统重试"},
            content_type="application/json",
            headers={"Idempotency-Key": "pbx-call-4711"},
        )
        return r.status_code, r.json().get("id", r.json())

    results = _run_parallel(create)
    assert sorted(code for code, _ in results) == [200] * (THREADS - 1) + [201], results
    assert len({tid for _, tid in results}) == 1
    assert Ticket.objects.filter(idempotency_key="pbx-call-4711").count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_accept_and_reassign(pg_only, agent_x, agent2_x, company_x):
    """A hand-over accepted while a lead reassigns: exactly one ownership change wins."""
    from kefu.accounts.tests.factories import UserFactory
    from kefu.tickets import services

    lead = UserFactory(company=company_x, role="team_lead", username="lead_conc")
    t = services.ticket_create(by=agent_x, kind="consultation", content="x").ticket
    ho = services.ticket_hand_over(ticket_id=t.pk, by=agent_x, to_user_id=agent2_x.pk, reason="交班")
    c_agent2, c_lead = _logged_in(agent2_x), _logged_in(lead)

    def act(i: int):
        if i == 0:
            return c_agent2.post(f"{BASE}hand-overs/{ho.pk}/accept").status_code
        return c_lead.post(
            f"{BASE}{t.pk}/reassign",
            {"to_user_id": lead.pk, "reason": "主管接手", "version": 1},
            content_type="application/json",
        ).status_code

    results = _run_parallel(act, n=2)
    assert sorted(results) == [200, 409], results
    t.refresh_from_db()
    assert t.owner_id in (agent2_x.pk, lead.pk) and t.version == 2
