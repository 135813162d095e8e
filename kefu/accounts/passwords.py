"""Password rules of the 等保 level-3 policy (S1): length and common-password checks come from Django's
validators; these add "3 of 4 character classes" and "not one of the last 5"."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digits and other characters the password uses."""
    return sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule with a Chinese message (Django's own zh-hans catalogue lacks the current
    plural message, so people saw English)."""

    def get_error_message(self) -> str:
        return _("密码太短，至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}

    def get_help_text(self) -> str:
        return _("密码至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}


class CharacterClassValidator:
    def __init__(self, min_classes: int | None = None):
        self.min_classes = min_classes or settings.KEFU_SECURITY["PASSWORD_MIN_CLASSES"]

    def validate(self, password: str, user=None) -> None:
        if character_classes(password) < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、特殊字符中的至少 %(n)d 类。")
                % {"n": self.min_classes},
                code="password_classes",
            )

    def get_help_text(self) -> str:
        return _("密码须包含大写字母、小写字母、数字、特殊字符中的至少 %(n)d 类。") % {"n": self.min_classes}


class PasswordHistoryValidator:
    """Refuses the current and the last N passwords, and records each new one (Django calls
    `password_changed` after saving a user whose password was set)."""

    def __init__(self, history: int | None = None):
        self.history = history or settings.KEFU_SECURITY["PASSWORD_HISTORY"]

    def validate(self, password: str, user=None) -> None:
        if user is None or user.pk is None:
            return
        recent = list(user.password_history.values_list("password", flat=True)[: self.history])
        if user.password:
            recent.append(user.password)
        if any(check_password(password, encoded) for encoded in recent):
            raise ValidationError(
                _("新密码不能与最近 %(n)d 次使用过的密码相同。") % {"n": self.history}, code="password_reused"
            )

    def password_changed(self, password: str, user=None) -> None:
        from kefu.accounts.models import PasswordHistory, User

        if user is None or user.pk is None:
            return
        now = timezone.now()
        PasswordHistory.objects.create(user=user, password=user.password, created_at=now)
        keep = list(user.password_history.values_list("pk", flat=True)[: self.history])
        user.password_history.exclude(pk__in=keep).delete()
        User.objects.filter(pk=user.pk).update(password_changed_at=now, must_change_password=False)
        user.password_changed_at, user.must_change_password = now, False

    def get_help_text(self) -> str:
        return _("不能重复使用最近 %(n)d 次的密码。") % {"n": self.history}
