"""A deployment check (`manage.py check --deploy`): the security policy is configurable, but a
production installation weaker than the 等保 level-3 baseline is reported (S1, S2)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register

# The baseline the product ships with; each entry: (key, comparison, limit, message).
BASELINE = [
    ("PASSWORD_MIN_LENGTH", "min", 10, "密码最小长度低于 10"),
    ("PASSWORD_MIN_CLASSES", "min", 3, "密码字符类别少于 3 类"),
    ("PASSWORD_HISTORY", "min", 5, "禁止重复使用的历史密码少于 5 个"),
    ("PASSWORD_MAX_AGE_DAYS", "max", 90, "密码有效期超过 90 天"),
    ("LOCKOUT_THRESHOLD", "max", 5, "锁定前允许的失败次数多于 5 次"),
    ("LOCKOUT_MINUTES", "min", 30, "锁定时间短于 30 分钟"),
    ("SESSION_IDLE_MINUTES", "max", 30, "空闲会话超时长于 30 分钟"),
    ("AUDIT_RETENTION_DAYS", "min", 180, "审计日志在线保留少于 180 天"),
]


def policy_weaknesses(policy: dict) -> list[str]:
    """The ways `policy` (settings.KEFU_SECURITY) is weaker than the baseline, as Chinese messages."""
    out = []
    for key, kind, limit, message in BASELINE:
        value = policy[key]
        if (kind == "min" and value < limit) or (kind == "max" and value > limit):
            out.append(f"{message}（{key}={value}）")
    if not policy["MFA_ENFORCED"]:
        out.append("未强制动态口令（MFA_ENFORCED=False）")
    elif not {"admin", "auditor", "supervisor"} <= set(policy["MFA_ROLES"]):
        out.append("系统管理员、审计员、主管未全部要求动态口令（MFA_ROLES）")
    return out


@register(Tags.security, deploy=True)
def check_security_policy(app_configs=None, **kwargs):
    return [
        Warning(f"安全策略弱于等保三级基线：{w}", hint="见 docs/security.md", id="kefu.W001")
        for w in policy_weaknesses(settings.KEFU_SECURITY)
    ]
