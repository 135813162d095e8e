"""Forms of the log-in pages, with the lock-out and second-factor messages people need to see."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    """Django's log-in form, telling a locked-out person until when (S1)."""

    error_messages = {
        "invalid_login": _("工号或密码错误。连续 %(threshold)d 次错误将锁定 %(minutes)d 分钟。"),
        "inactive": _("该账号已停用，请联系系统管理员。"),
        "locked": _("账号或来源地址因多次登录失败已锁定，请于 %(until)s 之后再试，或联系系统管理员解锁。"),
    }

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            lock = getattr(self.request, "kefu_lock", None)
            if lock is not None:
                until = timezone.localtime(lock.until).strftime("%H:%M")
                raise forms.ValidationError(
                    self.error_messages["locked"], code="locked", params={"until": until}
                )
            raise

    def get_invalid_login_error(self):
        policy = settings.KEFU_SECURITY
        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={"threshold": policy["LOCKOUT_THRESHOLD"], "minutes": policy["LOCKOUT_MINUTES"]},
        )


class TokenForm(forms.Form):
    """A 6-digit code from the authenticator app (TOTP)."""

    otp_token = forms.CharField(
        label=_("动态口令"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100, help_text=_("例如：呼叫中心来电弹屏"))
    write = forms.BooleanField(label=_("允许写入"), required=False)
    expires_days = forms.IntegerField(
        label=_("有效天数"), min_value=1, max_value=730, required=False, help_text=_("留空表示不过期")
    )
