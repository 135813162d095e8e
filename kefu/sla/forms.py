"""Forms of the sla pages (SPEC Time rules: calendar overrides entered by administrators)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


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
