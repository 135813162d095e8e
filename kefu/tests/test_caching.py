"""Per-process caches of master data (kefu.core.caching; issue 3): how stale they may be, and that a
change made in this process is seen at once."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from kefu.accounts.models import ApiToken
from kefu.accounts.services import token_create, token_revoke
from kefu.core import caching
from kefu.core.caching import ProcessCache
from kefu.core.errors import DomainError
from kefu.sla.models import CalendarOverride
from kefu.sla.selectors import calendar_for_company
from kefu.tickets.models import TicketKind
from kefu.tickets.services import ticket_create

pytestmark = pytest.mark.django_db


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake_monotonic(monkeypatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(caching.time, "monotonic", clock)
    return clock


def test_entries_reload_after_max_age_and_never_when_unlimited(fake_monotonic):
    loads = []
    aged = ProcessCache("test.aged", max_age=5)
    forever = ProcessCache("test.forever", max_age=None)
    for _ in range(3):
        aged.get("k", lambda: loads.append("aged") or len(loads))
        forever.get("k", lambda: loads.append("forever") or len(loads))
    assert loads == ["aged", "forever"]
    fake_monotonic.now += 5.1
    aged.get("k", lambda: loads.append("aged") or len(loads))
    forever.get("k", lambda: loads.append("forever") or len(loads))
    assert loads == ["aged", "forever", "aged"]
    caching.forget_all()
    forever.get("k", lambda: loads.append("forever") or len(loads))
    assert loads[-1] == "forever"


def _api(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_revoked_token_is_refused_at_once_here_and_within_5_s_elsewhere(fake_monotonic, agent_x):
    row, raw = token_create(user=agent_x, name="电话系统", scopes=[ApiToken.Scope.READ])
    assert _api(raw).get("/api/v1/tickets/kinds").status_code == 200
    token_revoke(token=row, by=agent_x)  # this process: the save clears the cache
    assert _api(raw).get("/api/v1/tickets/kinds").status_code == 401

    row2, raw2 = token_create(user=agent_x, name="微信网关", scopes=[ApiToken.Scope.READ])
    assert _api(raw2).get("/api/v1/tickets/kinds").status_code == 200
    # Another server process revokes it: this process's copy is trusted for at most 5 seconds.
    ApiToken.objects.filter(pk=row2.pk).update(revoked_at=timezone.now())
    assert _api(raw2).get("/api/v1/tickets/kinds").status_code == 200
    fake_monotonic.now += 5.1
    assert _api(raw2).get("/api/v1/tickets/kinds").status_code == 401


def test_disabled_user_token_stops_at_once(agent_x):
    from kefu.accounts.services import user_disable

    _row, raw = token_create(user=agent_x, name="脚本", scopes=[ApiToken.Scope.READ])
    assert _api(raw).get("/api/v1/tickets/kinds").status_code == 200
    user_disable(user=agent_x, by=None)
    assert _api(raw).get("/api/v1/tickets/kinds").status_code == 401


def test_kind_changes_are_seen_at_once_in_this_process(agent_x):
    ticket_create(by=agent_x, kind="praise", content="师傅很负责", resolved_on_call=False)
    kind = TicketKind.objects.get(company=agent_x.company, code="praise")
    kind.is_active = False
    kind.save()
    with pytest.raises(DomainError) as exc:
        ticket_create(by=agent_x, kind="praise", content="再表扬一次")
    assert exc.value.field == "kind"


def test_calendar_override_is_used_at_once_in_this_process(company_x):
    day = date(2026, 12, 7)  # a Monday
    assert calendar_for_company(company_x).is_workday(day)
    CalendarOverride.objects.create(company=company_x, date=day, is_workday=False, name="停气抢修日")
    assert not calendar_for_company(company_x).is_workday(day)
    CalendarOverride.objects.filter(company=company_x, date=day).delete()
    assert calendar_for_company(company_x, years=[2026]).is_workday(day)
    assert calendar_for_company(company_x, years=()).overrides == {}
