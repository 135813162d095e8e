from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The kernel (ARCHITECTURE.md): errors, process caches, schema types, the typed event registry
    and the project-wide commands. It imports no other kefu app."""

    name = "kefu.core"
    label = "core"
    verbose_name = _("内核")
