"""The audit log (S2, S3, 等保 level 3): rows written, immutable through the ORM and raw SQL on both
databases, searched and exported only by the auditor, archived by `kefu archive-audit`."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from kefu.accounts import services
from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import AuditArchive, AuditEvent
from kefu.accounts.tests.conftest import T0, verified_client
from kefu.accounts.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _table() -> str:
    return connection.ops.quote_name(AuditEvent._meta.db_table)


# --- Immutability -----------------------------------------------------------------------------


def test_orm_cannot_change_or_delete(agent_x):
    e = audit_record(action=Action.LOGIN, actor=agent_x, obj=agent_x)
    e.action = "auth.something_else"
    with pytest.raises(PermissionError):
        e.save()
    with pytest.raises(PermissionError):
        e.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=e.pk).update(action="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=e.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=e.pk).action == Action.LOGIN


def test_raw_sql_cannot_change_or_delete(agent_x):
    e = audit_record(action=Action.LOGIN, actor=agent_x, obj=agent_x)
    for sql, params in [
        (f"UPDATE {_table()} SET action = %s WHERE id = %s", ["forged", e.pk]),
        (f"UPDATE {_table()} SET result = %s", ["ok"]),
        (f"DELETE FROM {_table()} WHERE id = %s", [e.pk]),
        (f"DELETE FROM {_table()}", []),
    ]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, params)
    assert AuditEvent.objects.filter(pk=e.pk, action=Action.LOGIN).exists()


def test_truncate_is_refused_on_postgres(agent_x, is_postgres):
    if not is_postgres:
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    audit_record(action=Action.LOGIN, actor=agent_x)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"TRUNCATE {_table()}")
    assert AuditEvent.objects.exists()


def test_a_forged_archive_row_cannot_be_changed_to_cover_more(agent_x, clock):
    """Archive records are append-only too: nobody widens one to delete recent rows."""
    old = audit_record(action=Action.LOGIN, actor=agent_x)
    arch = AuditArchive.objects.create(
        through_id=old.pk, before=T0 - timedelta(days=1), row_count=0, path="-", sha256="-"
    )
    table = connection.ops.quote_name(AuditArchive._meta.db_table)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f'UPDATE {table} SET "before" = %s WHERE id = %s', [T0 + timedelta(days=1), arch.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {table}")
    # the archive row covers ids ≤ old.pk but only times before T0-1d: the row at T0 stays
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {_table()} WHERE id = %s", [old.pk])


# --- Rows written -----------------------------------------------------------------------------


def test_record_fields(clock, client, agent_x):
    client.post(
        "/accounts/login/", {"username": "agent_x", "password": TEST_PASSWORD}, REMOTE_ADDR="203.0.113.5"
    )
    e = AuditEvent.objects.get(action=Action.LOGIN)
    assert e.at == T0 and e.at.tzinfo is not None
    assert (e.actor, e.actor_label, e.company, e.result, e.source_ip) == (
        agent_x,
        "agent_x",
        agent_x.company,
        "ok",
        "203.0.113.5",
    )
    assert (e.object_type, e.object_id) == ("accounts.user", str(agent_x.pk))


def test_role_change_and_token_rows(clock, admin_x, agent_x):
    services.user_change_role(by=admin_x, user=agent_x, role="team_lead")
    row = AuditEvent.objects.get(action=Action.ROLE_CHANGED)
    assert row.actor == admin_x and row.detail == {"changes": {"role": ["agent", "team_lead"]}}
    assert AuditEvent.objects.get(action=Action.USER_CHANGED).detail == {
        "changes": {"role": ["agent", "team_lead"]}
    }
    token, _raw = services.token_create(user=agent_x, name="t", scopes=["write"])
    services.token_revoke(token=token, by=admin_x)
    assert AuditEvent.objects.get(action=Action.TOKEN_CREATED).detail["scopes"] == ["read", "write"]
    revoked = AuditEvent.objects.get(action=Action.TOKEN_REVOKED)
    assert revoked.actor == admin_x and revoked.object_id == str(token.pk)


# --- Search and export ------------------------------------------------------------------------


def test_auditor_searches_and_search_is_logged(clock, client, auditor_x, agent_x, agent_y):
    audit_record(action=Action.LOGIN, actor=agent_x, obj=agent_x)
    audit_record(action=Action.LOGIN, actor=agent_y, obj=agent_y)
    verified_client(client, auditor_x)
    r = client.get("/accounts/audit/", {"action": "auth.login", "actor": "agent"})
    assert r.status_code == 200
    rows = list(r.context["page"])
    assert [e.actor_label for e in rows] == ["agent_x"]  # company Y's row is not shown
    assert AuditEvent.objects.filter(action=Action.AUDIT_SEARCHED, actor=auditor_x).exists()
    r = client.get(
        "/accounts/audit/", {"source_ip": "not-an-ip", "date_from": "garbage", "date_to": "2026-03-02"}
    )
    assert r.status_code == 200
    shown = [(e.actor_label, e.action) for e in r.context["page"]]
    assert shown[-1] == ("agent_x", "auth.login") and r.context["page"].paginator.count == len(shown) == 4


def test_date_to_includes_the_whole_day(clock, auditor_x, agent_x):
    from kefu.accounts.selectors import AuditFilters, audit_events

    clock.shift(timedelta(hours=14, minutes=59))  # 23:59 local time
    audit_record(action=Action.LOGIN, actor=agent_x)
    found = audit_events(user=auditor_x, filters=AuditFilters(date_to=date(2026, 3, 2), action="auth.login"))
    assert found.count() == 1
    found = audit_events(user=auditor_x, filters=AuditFilters(date_to=date(2026, 3, 1), action="auth.login"))
    assert found.count() == 0


def test_csv_export_is_logged_and_safe(clock, client, auditor_x, agent_x):
    audit_record(action=Action.UPDATED, actor=agent_x, object_repr='=HYPERLINK("x")', detail={"名": "值"})
    verified_client(client, auditor_x)
    r = client.get("/accounts/audit/export.csv", {"action": "data."})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = b"".join(r.streaming_content).decode("utf-8")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    marks = [r[0] for r in lines if r and r[0].startswith("# ")]  # the watermark (kefu.exports, S3)
    assert marks[0] == "# 密级：机密（严禁擅自复制、外传）" and any(auditor_x.username in m for m in marks)
    rows = [r for r in lines if r and not r[0].startswith("# ")]
    assert rows[0][:4] == ["时间", "公司", "操作人", "动作"] and rows[0][-1] == "导出编号"
    assert len(rows) == 2
    assert rows[1][1] == agent_x.company.name
    assert rows[1][6] == '\'=HYPERLINK("x")'  # no formula executes in a spreadsheet
    assert json.loads(rows[1][9]) == {"名": "值"}
    exported = AuditEvent.objects.get(action=Action.AUDIT_EXPORTED)
    assert exported.actor == auditor_x and exported.detail["rows"] == 1


@pytest.mark.parametrize("path", ["/accounts/audit/", "/accounts/audit/export.csv"])
def test_admin_role_cannot_read_audit(clock, client, admin_x, path):
    verified_client(client, admin_x)
    r = client.get(path)
    assert r.status_code == 403
    denied = AuditEvent.objects.get(action=Action.PERMISSION_DENIED)
    assert denied.actor == admin_x and denied.result == "denied" and denied.object_repr == path


def test_admin_site_does_not_offer_the_audit_log(clock, client, admin_x):
    verified_client(client, admin_x)
    r = client.get("/admin/")
    assert r.status_code == 200
    assert "审计日志" not in r.content.decode()
    assert client.get("/admin/accounts/auditevent/").status_code == 404


def test_auditor_cannot_manage_accounts(clock, client, auditor_x, agent_x):
    from kefu.core.errors import Forbidden

    verified_client(client, auditor_x)
    r = client.get("/admin/accounts/user/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]
    with pytest.raises(Forbidden):
        services.user_disable(user=agent_x, by=auditor_x)
    with pytest.raises(Forbidden):
        services.user_change_role(by=auditor_x, user=agent_x, role="manager")
    token, _raw = services.token_create(user=agent_x, name="t", scopes=[])
    with pytest.raises(Forbidden):
        services.token_revoke(token=token, by=auditor_x)


def test_system_rows_are_not_shown_to_one_company_among_several(clock, auditor_x, auditor_y, company_x):
    from kefu.accounts.selectors import AuditFilters, audit_events

    audit_record(action=Action.LOGIN_FAILED, actor_label="nobody", result="failed")  # no company
    assert audit_events(user=auditor_x, filters=AuditFilters(action="auth.login_failed")).count() == 0
    auditor_x.group_reader = True
    assert audit_events(user=auditor_x, filters=AuditFilters(action="auth.login_failed")).count() == 1


# --- Archive ----------------------------------------------------------------------------------


@pytest.fixture
def archive_dir(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    return tmp_path / "audit-archive"


def test_archive_refuses_rows_younger_than_retention(clock, archive_dir):
    limit = T0.date() - timedelta(days=180)
    with pytest.raises(CommandError, match="180"):
        call_command("archive_audit", before=(limit + timedelta(days=1)).isoformat())
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("archive_audit", before="next tuesday")
    assert not AuditArchive.objects.exists()


def test_archive_writes_file_records_and_deletes_exactly_those_rows(clock, archive_dir, agent_x):
    old = []
    for days in (400, 300, 200):
        clock.move_to(T0 - timedelta(days=days), tick=False)
        old.append(audit_record(action=Action.LOGIN, actor=agent_x, detail={"n": days}))
    clock.move_to(T0 - timedelta(days=100), tick=False)
    recent = audit_record(action=Action.LOGIN, actor=agent_x)
    clock.move_to(T0, tick=False)
    before = T0.date() - timedelta(days=181)

    out = io.StringIO()
    call_command("archive_audit", before=before.isoformat(), stdout=out)
    assert "已归档 3 条" in out.getvalue()

    arch = AuditArchive.objects.get()
    assert (arch.row_count, arch.through_id) == (3, old[-1].pk)
    files = list(archive_dir.glob("*.jsonl.gz"))
    assert [str(f) for f in files] == [arch.path]
    assert hashlib.sha256(files[0].read_bytes()).hexdigest() == arch.sha256
    lines = [json.loads(x) for x in gzip.open(files[0], "rt", encoding="utf-8")]
    assert [x["id"] for x in lines] == [e.pk for e in old]
    assert [x["detail"] for x in lines] == [{"n": 400}, {"n": 300}, {"n": 200}]

    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditEvent.objects.filter(pk=recent.pk).exists()
    logged = AuditEvent.objects.get(action=Action.AUDIT_ARCHIVED)
    assert logged.detail["count"] == 3 and logged.detail["sha256"] == arch.sha256
    # the recent row is still protected
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {_table()} WHERE id = %s", [recent.pk])

    out = io.StringIO()
    call_command("archive_audit", before=before.isoformat(), stdout=out)
    assert "没有需要归档" in out.getvalue()
    assert AuditArchive.objects.count() == 1
