"""Forms of the sla pages (SPEC Time rules: calendar overrides entered by administrators)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.sla.models import Commitment


class OverrideForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    is_workday = forms.TypedChoiceField(
        label=_("当天"),
        choices=[("0", _("休息（节假日）")), ("1", _("上班（调休上班日）"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    name = forms.CharField(
        label=_("名称"), max_length=60, required=False, help_text=_("如：元旦、春节调休上班")
    )
    note = forms.CharField(
        label=_("依据/备注"), max_length=200, required=False, help_text=_("如：国办发明电〔2026〕×号")
    )


class RangeForm(forms.Form):
    """A run of days with the same meaning (e.g. 春节 2.15–2.23), SPEC Time rules."""

    date = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(
        label=_("结束日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("只录一天时可留空"),
    )
    is_workday = OverrideForm.base_fields["is_workday"]
    name = OverrideForm.base_fields["name"]
    note = OverrideForm.base_fields["note"]


class OverrideEditForm(forms.Form):
    is_workday = OverrideForm.base_fields["is_workday"]
    name = OverrideForm.base_fields["name"]
    note = OverrideForm.base_fields["note"]


class NoticeForm(forms.Form):
    text = forms.CharField(
        label=_("通知全文"),
        max_length=20000,
        widget=forms.Textarea(
            attrs={"rows": 10, "placeholder": _("国务院办公厅关于××××年部分节假日安排的通知……")}
        ),
        help_text=_("从中国政府网复制通知全文粘贴在此，kefu 读出放假和调休上班日期，请核对后确认。"),
    )


class CommitmentForm(forms.ModelForm):
    """The commitment-set editor (C17): limits and applies-to filters of an unpublished set."""

    pause_reasons = forms.MultipleChoiceField(
        label=_("可暂停原因"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )

    class Meta:
        model = Commitment
        fields = [
            "name",
            "ticket_kind",
            "ticket_sub_kind",
            "customer_category",
            "severity",
            "channel",
            "limit_value",
            "limit_unit",
            "ends_at_close_of_business",
            "pause_reasons",
            "warn_at_percent",
            "escalate_after",
            "note",
        ]

    def __init__(self, *args, **kwargs):
        from kefu.sla.models import PauseReason
        from kefu.sla.subjects import attribute_choices

        super().__init__(*args, **kwargs)
        self.fields["pause_reasons"].choices = PauseReason.choices
        any_ = [("", _("（任意）"))]
        # The codes come from the subject types' adapters (kefu.sla.subjects): sla knows no taxonomy.
        for name in ("ticket_kind", "severity", "channel"):
            self.fields[name].widget = forms.Select(choices=any_ + attribute_choices(name))
        self.fields["limit_value"].min_value = 1
        self.fields["note"].widget = forms.Textarea(attrs={"rows": 2})
