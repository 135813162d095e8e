"""Forms of the telephony pages: the hotline configuration (C8, C13). The form parses the input;
the rules (number format and uniqueness, ranges, an emergency line's queue) are checked by
services.hotline_save, whose messages land on the fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class HotlineForm(forms.Form):
    number = forms.CharField(
        label=_("号码"), max_length=30, help_text=_("交换机送来的被叫号码，如 96777 或 0535-2218888")
    )
    name = forms.CharField(label=_("名称"), max_length=60)
    queue = forms.CharField(
        label=_("队列"), max_length=60, required=False, help_text=_("交换机中的队列名；抢险热线必填")
    )
    is_emergency = forms.BooleanField(
        label=_("抢险热线"), required=False, help_text=_("24 小时值守（C8、K5）")
    )
    ring_cycle_ms = forms.IntegerField(
        label=_("振铃周期(毫秒)"), initial=5000, help_text=_("中国振铃节奏：响 1 秒停 4 秒，一声 5 秒")
    )
    answer_rings = forms.IntegerField(label=_("接听目标(声)"), initial=3, help_text="C13")
    short_abandon_ms = forms.IntegerField(
        label=_("短时放弃(毫秒)"), initial=5000, help_text=_("短于此时长的放弃不计入放弃率")
    )
    service_level_ms = forms.IntegerField(label=_("服务水平时限(毫秒)"), initial=20000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.error_messages["required"] = _("此项必填。")
            if isinstance(f, forms.IntegerField):
                f.error_messages["invalid"] = _("请填写整数。")
