from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkforceConfig(AppConfig):
    name = "kefu.workforce"
    label = "workforce"
    verbose_name = _("班组管理")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.workforce import demo

        register_demo_step(25, "workforce", demo.demo_step)  # `kefu demo`: teams' shifts and rosters
        from kefu.exports.classification import Level, classify

        # S4 (seed 001 篇6 五): the shift hand-over log is 机密.
        classify("workforce.handover", Level.SECRET, category=_("交接记录"))
