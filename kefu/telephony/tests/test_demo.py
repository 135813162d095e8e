"""`kefu demo` shows the telephony pages with realistic data (calls, seats, a chat, an outage)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from kefu.telephony.models import Call, ChatSession, HotlineOutage, Transcript

pytestmark = pytest.mark.django_db


def test_demo_makes_calls_chats_and_an_outage(client):
    out = StringIO()
    call_command("demo", customers=100, seed=2, stdout=out)
    assert "通话" in out.getvalue()
    assert Call.objects.filter(status="ended").count() > 50
    assert (
        Call.objects.filter(within_rings=False).exists() and Call.objects.filter(within_rings=True).exists()
    )
    assert Call.objects.filter(status="queued").count() == 1
    assert ChatSession.objects.filter(greeting_ms__isnull=False).exists()
    assert HotlineOutage.objects.filter(cause="manual").count() == 1 and Transcript.objects.count() >= 2
    from kefu.accounts.models import User

    client.force_login(User.objects.get(username="team_lead"))
    for url in (
        "/telephony/wallboard/",
        "/telephony/calls/",
        "/telephony/indicators/",
        "/telephony/chats/",
        "/telephony/",
    ):
        assert client.get(url).status_code == 200, url
