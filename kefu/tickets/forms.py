"""Forms of the agent desk and the work-order page. They only parse; rules live in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.tickets.models import Channel, Title
from kefu.tickets.services.common import MAX_REASON, MAX_TEXT
from kefu.tickets.states import CancelReason, HoldReason, TicketState


def kind_choices(kinds) -> list[tuple[str, str]]:
    return [(k.code, k.name) for k in kinds]


def sub_kind_choices(kinds) -> list:
    """Grouped by kind; values are "kind.sub" because sub-kind codes repeat across kinds."""
    out: list = [("", "—")]
    for k in kinds:
        subs = [(f"{k.code}.{s.code}", s.name) for s in k.sub_kinds.all() if s.is_active]
        if subs:
            out.append((k.name, subs))
    return out


class TicketForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"))
    sub_kind = forms.ChoiceField(label=_("子类"), required=False)
    channel = forms.ChoiceField(label=_("渠道"), choices=Channel.choices, initial=Channel.HOTLINE)
    caller_surname = forms.CharField(label=_("姓氏"), max_length=4, required=False)
    caller_title = forms.ChoiceField(
        label=_("称呼"), choices=[("", "—"), *Title.choices], required=False, widget=forms.RadioSelect
    )
    caller_phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    content = forms.CharField(label=_("内容"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3}))
    resolved_on_call = forms.BooleanField(label=_("当场解答，直接办结（首次接触解决）"), required=False)
    answer = forms.CharField(
        label=_("答复内容"), max_length=MAX_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    customer_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact_started_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    on_duplicate = forms.ChoiceField(
        required=False,
        choices=[("ask", "ask"), ("create", "create"), ("link", "link")],
        widget=forms.HiddenInput,
    )
    link_to_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, kinds=(), quick: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = list(kinds)
        if (
            quick
        ):  # quick consultation from the keyboard: question, Tab, answer, Ctrl+Enter (docs/user-guide.md)
            self.fields["content"].widget.attrs["autofocus"] = True
            self.fields["resolved_on_call"].widget.attrs["tabindex"] = (
                "-1"  # already ticked: Tab goes to the answer
            )
        self.fields["kind"].choices = kind_choices(self.kinds)
        self.fields["sub_kind"].choices = sub_kind_choices(self.kinds)

    def clean(self):
        data = super().clean()
        sub = data.get("sub_kind") or ""
        if sub:
            kind_code, _dot, sub_code = sub.partition(".")
            if kind_code != data.get("kind"):
                self.add_error("sub_kind", _("子类与类型不符。"))
            data["sub_kind"] = sub_code
        else:
            data["sub_kind"] = None
        return data


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=TicketState.choices)
    version = forms.IntegerField(min_value=1)
    reason = forms.CharField(max_length=MAX_REASON, required=False)  # required or not: the state table says
    cancel_reason = forms.ChoiceField(choices=[("", "—"), *CancelReason.choices], required=False)
    hold_reason = forms.ChoiceField(choices=[("", "—"), *HoldReason.choices], required=False)
    agreed_at = forms.DateTimeField(required=False)  # <input type=datetime-local>: the company's zone


class HandOverForm(forms.Form):
    to_user_id = forms.IntegerField(label=_("接收人"))
    reason = forms.CharField(label=_("移交原因"), max_length=MAX_REASON)
    version = forms.IntegerField(min_value=1, required=False)


class FilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    state = forms.MultipleChoiceField(label=_("状态"), choices=TicketState.choices, required=False)
    kind = forms.CharField(required=False, max_length=40)
    channel = forms.ChoiceField(
        label=_("渠道"), choices=[("", _("全部渠道")), *Channel.choices], required=False
    )
    owner = forms.CharField(required=False, max_length=10)  # "me" or a user id
    department_id = forms.IntegerField(required=False)
    date_from = forms.DateField(label=_("从"), required=False)
    date_to = forms.DateField(label=_("到"), required=False)
    phone = forms.CharField(required=False, max_length=40)
    number = forms.CharField(required=False, max_length=30)
    address = forms.CharField(required=False, max_length=100)
    content = forms.CharField(required=False, max_length=100)
    open_only = forms.BooleanField(required=False)
    sort = forms.ChoiceField(
        label=_("排序"),
        required=False,
        choices=[("", _("受理时间（最新在前）")), ("time_left", _("剩余时限（最紧在前）"))],
    )
