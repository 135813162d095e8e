"""Content and address search gives the same rows on both databases (issue 3 §7 search; migration
0003): a case-sensitive substring, as PostgreSQL's LIKE finds it. On SQLite terms of ≥ 3 characters go
through the FTS5 trigram index, shorter ones through instr(); both are checked here against Python's
`in` on the stored text, for Chinese and Latin text, case, 1–2 character terms, LIKE wildcards and
FTS5 query syntax. The same test runs on PostgreSQL (LIKE on the trigram GIN indexes)."""

from __future__ import annotations

import pytest
from django.db import connection

from kefu.customers.normalize import fold
from kefu.tickets import selectors
from kefu.tickets.models import Ticket
from kefu.tickets.selectors import TEXT_INDEX_MIN_CHARS, TicketFilter, text_contains, ticket_search

pytestmark = pytest.mark.django_db

TEXTS = [
    ("燃气表不走字，屏幕无显示（编号004211）", "幸福小区3号楼2单元501室"),
    ("厨房有燃气味，担心漏气", "泰山花园12号楼1单元302室"),
    ("Meter ABC broken; 表号 abc-123", "Room 5B, Tower C"),
    ("meter abc ok, 100% sure_value", "room 5b"),
    ('He said "call back" at 10:30 (AND OR NOT) NEAR(a b) col:x a*b ^start', "Block {content}: A+B"),
    ('percent % and under_score, back\\slash, quote \' and ""double""', "地址 50%_off"),
    ("AND", "OR"),
    ("纯中文内容：表扬安检员服务热情！", "岱宗苑7号楼"),
    ("Ünïcödé ÄÖÜ straße ǅ", "İstanbul ıi"),
]

TERMS = [
    # Chinese, ≥ 3 and shorter
    "燃气表",
    "不走字",
    "走字",
    "表",
    "燃气",
    "燃气味，担心",
    "号楼",
    "3号楼2单元",
    "编号004211",
    "（编号",
    "！",
    "３号楼",
    "ＡＢＣ",
    "，",
    "，担",
    # Latin and case (PostgreSQL LIKE is case-sensitive)
    "ABC",
    "abc",
    "Abc",
    "meter",
    "Meter",
    "METER",
    "ab",
    "AB",
    "a",
    "B",
    "5B",
    "5b",
    "Room",
    "room",
    # LIKE wildcards and escapes
    "%",
    "_",
    "%_",
    "100%",
    "sure_value",
    "0%_o",
    "\\",
    "back\\slash",
    "'",
    "quote '",
    # FTS5 query syntax as plain text
    '"',
    '""',
    '"call back"',
    "call back",
    "AND",
    "OR",
    "NOT",
    "(AND OR NOT)",
    "NEAR(a b)",
    "NEAR",
    "col:x",
    "a*b",
    "a*",
    "*",
    "^start",
    "^",
    ":",
    "(",
    ")",
    "{content}",
    "{content}:",
    "A+B",
    "+",
    "-",
    # Unicode case and folding
    "ÄÖÜ",
    "äöü",
    "straße",
    "STRASSE",
    "İstanbul",
    "istanbul",
    "ǅ",
    # not present
    "燃气灶",
    "xyz",
    "zz",
]


@pytest.fixture
def stored(make_ticket):
    for content, address in TEXTS:
        make_ticket(content=content, address=address)
    return {t.pk: (t.content, t.address) for t in Ticket.objects.all()}


def _ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


@pytest.mark.parametrize("common_from", [2_000, 1], ids=["rare-via-index", "common-via-walk"])
def test_content_address_and_box_equal_substring(agent_x, stored, common_from, monkeypatch):
    """common_from=1: every term counts as common, so SQLite pages and counts test rows with instr()."""
    monkeypatch.setattr(selectors, "_FTS_COMMON", common_from)
    monkeypatch.setattr(selectors, "_FTS_COMMON_COUNT", common_from)
    assert len(stored) == len(TEXTS)
    for term in TERMS:
        forms = {term, fold(term)}  # as typed or folded (full-width → half-width)
        by_content = {pk for pk, (c, _a) in stored.items() if any(t in c for t in forms)}
        by_address = {pk for pk, (_c, a) in stored.items() if any(t in a for t in forms)}
        assert _ids(ticket_search(user=agent_x, f=TicketFilter(content=term))) == by_content, term
        assert _ids(ticket_search(user=agent_x, f=TicketFilter(address=term))) == by_address, term
        if not term.startswith("GD") and not any(ch.isdigit() for ch in term):  # digits may read as a phone
            assert _ids(ticket_search(user=agent_x, f=TicketFilter(q=term))) == by_content | by_address, term


def test_both_filters_together(agent_x, stored):
    expect = {pk for pk, (c, a) in stored.items() if "abc" in c and "room" in a}
    assert _ids(ticket_search(user=agent_x, f=TicketFilter(content="abc", address="room"))) == expect
    assert len(expect) == 1


def test_text_contains_uses_the_index_for_three_characters(stored, monkeypatch):
    sql = str(Ticket.objects.filter(text_contains("燃气表", "content")).query)
    short = str(Ticket.objects.filter(text_contains("燃气", "content")).query)
    monkeypatch.setattr(selectors, "_FTS_COMMON", 1)
    walk = str(Ticket.objects.filter(text_contains("燃气表", "content")).query)
    counting = str(Ticket.objects.filter(text_contains("燃气表", "content", for_counting=True)).query)
    monkeypatch.setattr(selectors, "_FTS_COMMON_COUNT", 1)
    counting_walk = str(Ticket.objects.filter(text_contains("燃气表", "content", for_counting=True)).query)
    if connection.vendor == "sqlite":
        assert "tickets_ticket_fts" in sql and "MATCH" in sql
        assert "tickets_ticket_fts" not in short and "INSTR" in short.upper()
        assert "tickets_ticket_fts" not in walk and "INSTR" in walk.upper()
        assert "tickets_ticket_fts" in counting and "tickets_ticket_fts" not in counting_walk
    else:
        assert "LIKE" in sql.upper() and "LIKE" in short.upper()
    assert TEXT_INDEX_MIN_CHARS == 3


def test_edits_and_deletes_keep_the_index_in_step(agent_x, stored):
    pk = next(pk for pk, (c, _a) in stored.items() if c.startswith("厨房"))
    assert _ids(ticket_search(user=agent_x, f=TicketFilter(content="担心漏气"))) == {pk}
    Ticket.objects.filter(pk=pk).update(content="厨房灶具打不着火", address="新地址9号楼")
    assert _ids(ticket_search(user=agent_x, f=TicketFilter(content="担心漏气"))) == set()
    assert _ids(ticket_search(user=agent_x, f=TicketFilter(content="打不着火"))) == {pk}
    assert _ids(ticket_search(user=agent_x, f=TicketFilter(address="新地址9"))) == {pk}
    Ticket.objects.filter(pk=pk).update(state="in_progress")  # not a text column: the index is not touched
    assert _ids(ticket_search(user=agent_x, f=TicketFilter(content="打不着火"))) == {pk}


def test_company_isolation(agent_x, agent_y, stored):
    assert _ids(ticket_search(user=agent_y, f=TicketFilter(content="燃气表"))) == set()


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_sqlite_triggers_and_index_exist():
    """A later migration that rebuilds tickets_ticket on SQLite drops these triggers: it must call
    kefu.tickets.migrations.0003_content_search.install_sqlite again."""
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'tickets_ticket'")
        triggers = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT sql FROM sqlite_master WHERE name = 'tickets_ticket_fts'")
        (sql,) = cur.fetchone()
    assert {"tickets_ticket_fts_ai", "tickets_ticket_fts_ad", "tickets_ticket_fts_au"} <= triggers
    assert "case_sensitive 1" in sql and "content='tickets_ticket'" in sql


def test_bulk_inserts_are_indexed(agent_x):
    """bench/tickets_data.py and imports insert without the service: the triggers still index them."""
    from bench.tickets_data import ensure_company, fill
    from kefu.tickets.selectors import text_contains

    company, agents, _ = ensure_company()
    fill(company, agents, 300, batch=100)
    some = Ticket.objects.filter(company=company).order_by("pk")[150]
    code = some.content.rsplit("编号", 1)[-1].rstrip("）")
    found = Ticket.objects.filter(company=company).filter(text_contains(code, "content"))
    assert some.pk in _ids(found)
    assert _ids(found) == {t.pk for t in Ticket.objects.filter(company=company) if code in t.content}
    Ticket.objects.filter(pk=some.pk).delete()  # no timeline rows: a delete is allowed here
    if connection.vendor == "sqlite":  # the delete trigger took it out of the index itself
        with connection.cursor() as cur:
            cur.execute(
                "SELECT rowid FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s", [f'"{code}"']
            )  # noqa: E501
            assert some.pk not in {r[0] for r in cur.fetchall()}
