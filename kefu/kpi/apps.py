from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KpiConfig(AppConfig):
    """The seventeen indicators of seed 004 第十条 and the reports built on them (seed 004 第十条)."""

    name = "kefu.kpi"
    label = "kpi"
    verbose_name = _("量化考核")
