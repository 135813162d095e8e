"""Counts of the work-order list (issue 3 §7): exact for ordinary filters, capped ("1000+") for a text
search that matches more than COUNT_CAP work orders — flagged in the selector, the API
(`count_capped`) and the list page. Here the cap is made small instead of storing 1,001 rows."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.tickets import selectors
from kefu.tickets.models import Ticket
from kefu.tickets.selectors import TicketFilter, ticket_list_with_counts
from kefu.tickets.states import OPEN_STATES

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_leaks(make_ticket, agent_x):
    made = [make_ticket(content=f"第{i}户 厨房有燃气味") for i in range(5)]
    make_ticket(content="咨询阶梯气价")
    Ticket.objects.filter(pk=made[0].pk).update(state="closed")
    return made


def test_ordinary_filters_are_exact_above_the_cap(agent_x, five_leaks):
    res = ticket_list_with_counts(user=agent_x, f=TicketFilter(), cap=2)
    assert (res.total, res.capped) == (6, False)
    assert res.by_state["new"] == 5 and res.by_state["closed"] == 1
    res = ticket_list_with_counts(user=agent_x, f=TicketFilter(owner_id=agent_x.pk, open_only=True), cap=2)
    assert (res.total, res.capped, res.rows.count()) == (5, False, 5)


def test_text_search_within_the_cap_is_exact(agent_x, five_leaks):
    res = ticket_list_with_counts(user=agent_x, f=TicketFilter(content="燃气味"), cap=5)
    assert (res.total, res.capped) == (5, False)
    assert res.by_state["new"] == 4 and res.by_state["closed"] == 1
    res = ticket_list_with_counts(user=agent_x, f=TicketFilter(content="燃气味"), states=("closed",), cap=5)
    assert (res.total, res.capped, list(res.rows)) == (1, False, [five_leaks[0]])


@pytest.mark.parametrize(
    "f",
    [
        TicketFilter(content="燃气味"),
        TicketFilter(q="燃气味"),
        TicketFilter(address="泰山"),
        TicketFilter(content="户"),
    ],
)
def test_text_search_over_the_cap_is_flagged(agent_x, five_leaks, f):
    if f.address:
        Ticket.objects.update(address="泰山区幸福小区")
    res = ticket_list_with_counts(user=agent_x, f=f, cap=3)
    assert (res.total, res.capped, res.by_state) == (3, True, None)
    assert res.rows.count() >= 4  # the rows themselves are all there, newest first
    newest = Ticket.objects.filter(pk__in=res.rows.values("pk")).order_by("-received_at", "-id")
    assert list(res.rows[:2]) == list(newest[:2])


def test_state_filter_under_a_capped_search(agent_x, five_leaks):
    res = ticket_list_with_counts(user=agent_x, f=TicketFilter(content="燃气味"), states=("closed",), cap=3)
    assert (res.total, res.capped, res.by_state) == (1, False, None)  # the list itself is small: exact
    res = ticket_list_with_counts(user=agent_x, f=TicketFilter(content="燃气味"), states=("new",), cap=3)
    assert (res.total, res.capped) == (3, True)


def test_number_and_phone_in_the_box_are_not_text(agent_x, five_leaks):
    res = ticket_list_with_counts(user=agent_x, f=TicketFilter(q="13900001111"), cap=2)
    assert (res.total, res.capped) == (6, False)
    res = ticket_list_with_counts(user=agent_x, f=TicketFilter(q=five_leaks[1].number), cap=0)
    assert (res.total, res.capped) == (1, False)


def test_api_and_page_show_the_cap(agent_x, five_leaks, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    c = Client()
    c.force_login(agent_x)
    body = c.get("/api/v1/tickets/", {"content": "燃气味", "page_size": 2}).json()
    assert (body["count"], body["count_capped"], body["pages"], body["counts_by_state"]) == (3, True, 2, {})
    assert len(body["items"]) == 2
    body = c.get("/api/v1/tickets/", {"content": "阶梯"}).json()
    assert (body["count"], body["count_capped"], body["counts_by_state"]["new"]) == (1, False, 1)
    html = c.get("/tickets/", {"q": "燃气味"}).content.decode()
    assert "3+" in html and 'id="count-capped"' in html
    html = c.get("/tickets/", {"q": "阶梯"}).content.decode()
    assert 'id="count-capped"' not in html


def test_owner_open_index_matches_open_states():
    """Migration 0005's partial index must cover exactly OPEN_STATES (else the planner cannot use it)."""
    index = next(i for i in Ticket._meta.indexes if i.name == "ticket_co_owner_open")
    ((lookup, values),) = index.condition.children
    assert lookup == "state__in" and values == sorted(OPEN_STATES)


def test_short_terms_search_the_newest_window(agent_x, make_ticket, monkeypatch):
    """1–2 characters cannot use a trigram index: only the newest SHORT_TERM_WINDOW work orders."""
    from datetime import timedelta

    from django.utils import timezone

    made = [make_ticket(content=f"燃气表 ab 第{i}张") for i in range(5)]
    now = timezone.now()
    for i, t in enumerate(made):
        Ticket.objects.filter(pk=t.pk).update(received_at=now - timedelta(hours=10 - i))
    monkeypatch.setattr(selectors, "SHORT_TERM_WINDOW", 3)
    res = ticket_list_with_counts(user=agent_x, f=TicketFilter(content="ab"))
    assert (res.total, res.window) == (3, 3)
    assert list(res.rows) == made[:1:-1]  # the three newest, newest first
    res = ticket_list_with_counts(user=agent_x, f=TicketFilter(content="燃气表"))  # three characters: all
    assert (res.total, res.window) == (5, None)
    res = ticket_list_with_counts(user=agent_x, f=TicketFilter(q="燃气表", address="楼"))  # any short term
    assert res.window == 3
    c = Client()
    c.force_login(agent_x)
    assert c.get("/api/v1/tickets/", {"q": "ab"}).json()["text_window"] == 3
    assert c.get("/api/v1/tickets/", {"q": "燃气表"}).json()["text_window"] is None
    assert 'id="search-window"' in c.get("/tickets/", {"q": "ab"}).content.decode()


def test_short_terms_window_follows_the_chosen_period(agent_x, make_ticket, monkeypatch):
    """Narrowing the dates reaches older work orders with a 1–2 character term (the window is the
    newest SHORT_TERM_WINDOW of the chosen period, not of all time)."""
    from datetime import timedelta

    from django.utils import timezone

    made = [make_ticket(content=f"漏气 第{i}张") for i in range(5)]
    today = timezone.localdate()
    for i, t in enumerate(made):  # made[0] is the oldest: ten days ago
        Ticket.objects.filter(pk=t.pk).update(received_at=timezone.now() - timedelta(days=10 - i))
    monkeypatch.setattr(selectors, "SHORT_TERM_WINDOW", 3)
    assert made[0] not in ticket_list_with_counts(user=agent_x, f=TicketFilter(content="漏气")).rows
    oldest_day = today - timedelta(days=10)
    res = ticket_list_with_counts(
        user=agent_x,
        f=TicketFilter(content="漏气", date_from=oldest_day - timedelta(days=1), date_to=oldest_day),
    )
    assert list(res.rows) == [made[0]] and res.window == 3
