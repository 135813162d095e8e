"""The WeChat official-account adapter against recorded payloads (fixtures/wechat/, written from
WeChat's documented XML and JSON formats): the URL check, follow / unfollow, binding by SMS code, the
leak path (safety and the emergency number first, then the emergency work order), a repair, progress,
interruptions, template messages and their delivery events."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kefu.portal import wechat
from kefu.portal.models import PortalAccount, WechatFollower, WechatTemplateMessage
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
OPENID = "oia2TjuEGTNoeX76QEjQNrcURxG8"
TOKEN = "kefu-wx-token"


def fx(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _signed(ts="1409304348", nonce="xxxxxx"):
    sig = hashlib.sha1("".join(sorted([TOKEN, ts, nonce])).encode()).hexdigest()
    return f"signature={sig}&timestamp={ts}&nonce={nonce}"


@pytest.fixture(autouse=True)
def _wechat_settings(settings):
    settings.KEFU_WECHAT = {
        "TOKEN": TOKEN,
        "APP_ID": "wx_app",
        "APP_SECRET": "secret",
        "TEMPLATE_PROGRESS": "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY",
        "PORTAL_URL": "https://kefu.example.cn/portal/",
    }


def push(client, name: str) -> str:
    r = client.post(f"/portal/wechat/x/?{_signed()}", fx(name), content_type="text/xml")
    assert r.status_code == 200
    body = r.content.decode()
    if body == "success":
        return ""
    root = ET.fromstring(body)
    assert root.findtext("ToUserName") == OPENID and root.findtext("FromUserName") == "gh_7f083739789a"
    assert root.findtext("MsgType") == "text"
    return root.findtext("Content")


def test_url_check_echoes_and_bad_signatures_are_refused(client, customer_x):
    assert (
        client.get(f"/portal/wechat/x/?{_signed()}&echostr=5838479218127813673").content
        == b"5838479218127813673"
    )
    assert client.get("/portal/wechat/x/?signature=bad&timestamp=1&nonce=2&echostr=1").status_code == 403
    assert (
        client.post(
            "/portal/wechat/x/?signature=bad", fx("text_leak.xml"), content_type="text/xml"
        ).status_code
        == 403
    )


def test_follow_bind_report_and_progress(client, customer_x, published, django_capture_on_commit_callbacks):
    assert "绑定 户号 手机号" in push(client, "event_subscribe.xml")
    assert "请先绑定户号" in push(client, "text_progress.xml")
    with django_capture_on_commit_callbacks(execute=True):
        assert "138****8000" in push(client, "text_bind.xml")
    assert "绑定成功" in push(client, "text_verify.xml")
    f = WechatFollower.objects.get(openid=OPENID)
    assert f.account == PortalAccount.objects.get(customer=customer_x)
    # the leak path: safety and the emergency number first; nothing is created until confirmed
    leak = push(client, "text_leak.xml")
    assert leak.index("立即关闭") < leak.index("0538-96777") < leak.index("确认漏气")
    assert not Ticket.objects.exists()
    confirmed = push(client, "text_confirm_leak.xml")
    t = Ticket.objects.get()
    assert confirmed.index("立即关闭") < confirmed.index(t.number)
    assert (t.kind.code, t.channel, t.content) == ("emergency", "wechat", "厨房有味道")
    assert "已受理" in push(client, "text_repair.xml")
    progress = push(client, "text_progress.xml")
    assert t.number in progress and Ticket.objects.count() == 2
    assert "没有停气计划" in push(client, "event_click_outages.xml")
    assert push(client, "event_unsubscribe.xml") == ""
    assert not WechatFollower.objects.get(pk=f.pk).subscribed


def test_entities_are_refused(client, customer_x):
    assert push(client, "entity_attack.xml") == ""
    from kefu.core.errors import DomainError

    with pytest.raises(DomainError):
        wechat.parse_message(fx("entity_attack.xml"))


class Recorded:
    """A transport that answers with recorded payloads and keeps what it was sent."""

    def __init__(self, *answers: str):
        self.answers = [json.loads(fx(a)) for a in answers]
        self.sent: list[tuple[str, str, dict | None]] = []

    def __call__(self, method, url, body):
        self.sent.append((method, url, json.loads(body) if body else None))
        return self.answers.pop(0)


def _bound(customer):
    from kefu.portal.tests.conftest import sign_in

    account = sign_in(customer, "13800138000").session.account
    return wechat.follower_bind(company_id=customer.company_id, openid=OPENID, account=account), account


def test_template_message_with_recorded_answers(client, customer_x, supervisor_x):
    from kefu.portal import services
    from kefu.tickets.services import ticket_transition

    _f, account = _bound(customer_x)
    t = services.fault_report(account=account, fault="repair:meter", content="表不走字")
    ticket_transition(ticket_id=t.pk, by=supervisor_x, to="resolved", version=t.version, reason="换表")
    transport = Recorded("token_ok.json", "template_send_ok.json")
    client_ = wechat.WechatClient(app_id="wx_app", app_secret="secret", transport=transport)
    assert wechat.progress_notify(ticket_id=t.pk, client=client_) == 1
    (m1, token_url, _b), (m2, send_url, payload) = transport.sent
    assert m1 == "GET" and "grant_type=client_credential" in token_url and "appid=wx_app" in token_url
    assert m2 == "POST" and send_url.endswith("access_token=ACCESS_TOKEN_RECORDED")
    expected = json.loads(fx("template_send_request.json"))
    t.refresh_from_db()
    expected["data"]["keyword1"]["value"] = t.number
    expected["data"]["keyword4"]["value"] = payload["data"]["keyword4"]["value"]
    assert payload == expected
    row = WechatTemplateMessage.objects.get()
    assert (row.status, row.msgid) == ("sent", "200163836")
    # once per state: a second notify sends nothing
    assert wechat.progress_notify(ticket_id=t.pk, client=client_) == 0
    # the delivery event marks it delivered
    push(client, "event_template_finish.xml")
    assert WechatTemplateMessage.objects.get().status == "delivered"


def test_template_errors_are_recorded(customer_x):
    from kefu.core.errors import DomainError
    from kefu.portal import services

    _f, account = _bound(customer_x)
    t = services.fault_report(account=account, fault="repair:meter", content="表不走字")
    bad_token = wechat.WechatClient(app_id="x", app_secret="y", transport=Recorded("token_error.json"))
    with pytest.raises(DomainError):
        bad_token.access_token()
    refused = wechat.WechatClient(
        app_id="x", app_secret="y", transport=Recorded("token_ok.json", "template_send_unsubscribed.json")
    )
    assert wechat.progress_notify(ticket_id=t.pk, client=refused) == 0
    row = WechatTemplateMessage.objects.get()
    assert row.status == "failed" and row.error.startswith("43004")


def test_blocked_delivery_event(client, customer_x):
    f, _account = _bound(customer_x)
    WechatTemplateMessage.objects.create(
        company=customer_x.company, follower=f, dedupe_key="k", payload={}, status="sent", msgid="200163840"
    )
    push(client, "event_template_blocked.xml")
    row = WechatTemplateMessage.objects.get()
    assert row.status == "failed" and row.error == "failed:user block"


def test_a_state_change_sends_the_progress_message_through_the_worker(
    customer_x, supervisor_x, monkeypatch, django_capture_on_commit_callbacks
):
    from kefu.portal import services
    from kefu.tickets.services import ticket_transition

    transport = Recorded("token_ok.json", "template_send_ok.json")
    monkeypatch.setattr(wechat, "urllib_transport", transport)
    _f, account = _bound(customer_x)
    t = services.fault_report(account=account, fault="repair:meter", content="表不走字")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket_id=t.pk, by=supervisor_x, to="in_progress", version=t.version)
    row = WechatTemplateMessage.objects.get()
    assert row.dedupe_key == f"ticket:{t.pk}:in_progress" and row.status == "sent"
    assert wechat.progress_catch_up() == 0  # nothing missed


def test_english_commands(customer_x):
    f, _account = _bound(customer_x)
    assert "没有工单" in wechat._command(customer_x.company, f, "progress")
    assert "立即关闭" in wechat._command(customer_x.company, f, "LEAK")
