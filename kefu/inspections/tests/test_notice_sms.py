"""P14 no-access ladder: the door notice goes with an SMS asking the household to book, sent through
the SMS gateway adapter after the visit is committed; the ladder step records what was done."""

from __future__ import annotations

import pytest

from kefu.inspections.models import LadderStep
from kefu.inspections.services import VisitInput, visit_submit
from kefu.inspections.states import StepKind

pytestmark = pytest.mark.django_db


def _nobody_home(inspector, entry, capture, client_id):
    with capture(execute=True):
        visit_submit(
            by=inspector.user,
            entry_id=entry.pk,
            data=VisitInput(client_id=client_id, outcome="nobody_home", door_notice=True),
        )
    return LadderStep.objects.get(entry=entry, kind=StepKind.NOTICE)


def test_the_sms_goes_to_the_households_mobile(
    batch, inspector, entry_of, households, django_capture_on_commit_callbacks, settings, monkeypatch
):
    from kefu.customers.models import Phone
    from kefu.outages import sms

    settings.KEFU_PUBLIC_URL = "https://kefu.example.cn/"
    sent = []
    real = sms.ConsoleGateway.send
    monkeypatch.setattr(sms.ConsoleGateway, "send", lambda self, m: sent.extend(m) or real(self, m))
    households[1].phones.all().delete()
    Phone.objects.create(customer=households[1], number="13812345678", kind="mobile", is_primary=True)
    step = _nobody_home(inspector, entry_of("A002"), django_capture_on_commit_callbacks, "s1")
    assert [m.phone for m in sent] == ["13812345678"]
    assert (
        "预约" in sent[0].text
        and f"https://kefu.example.cn/portal/c/{households[1].company.code}/" in sent[0].text
    )
    assert step.note == f"已留门贴，短信预约已发送至 138****5678（i{step.pk}）"


def test_without_a_mobile_the_step_says_so(
    batch, inspector, entry_of, households, django_capture_on_commit_callbacks
):
    households[1].phones.all().delete()
    step = _nobody_home(inspector, entry_of("A002"), django_capture_on_commit_callbacks, "s2")
    assert step.note == "已留门贴；无手机号，未发短信"


def test_a_gateway_failure_leaves_the_visit_and_says_so(
    batch, inspector, entry_of, households, django_capture_on_commit_callbacks, monkeypatch
):
    from kefu.outages import sms

    def down(self, messages):
        raise OSError("gateway unreachable")

    monkeypatch.setattr(sms.ConsoleGateway, "send", down)
    step = _nobody_home(inspector, entry_of("A002"), django_capture_on_commit_callbacks, "s3")
    assert step.note == "已留门贴；短信发送失败：OSError"
    assert step.visit.outcome == "nobody_home"
