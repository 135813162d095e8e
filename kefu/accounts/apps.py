from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kefu.accounts"
    label = "accounts"
    verbose_name = _("账号与安全")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        connection_created.connect(_register_sqlite_functions, dispatch_uid="kefu_sqlite_functions")
        from kefu.accounts import checks, signals  # noqa: F401  (deploy check; log-in/log-out audit receivers)
        from kefu.accounts.apiauth import token_rows
        from kefu.accounts.models import ApiToken, Company, User

        # A revoked token, a disabled user or company stops working at once in this process (others:
        # within token_rows.max_age seconds, kefu.core.caching).
        token_rows.clear_when_changed(ApiToken, User, Company)
        from kefu.accounts import exports

        exports.register()  # the audit log's class (机密) and its CSV export (S3, S4; kefu.exports)


def _register_sqlite_functions(sender, connection, **kwargs) -> None:
    """SQLite has no session settings: the audit trigger (migration 0002) asks this function."""
    if connection.vendor == "sqlite":
        from kefu.accounts.audit import sqlite_audit_purge_flag

        connection.connection.create_function(
            "kefu_audit_purge", 0, sqlite_audit_purge_flag, deterministic=False
        )
