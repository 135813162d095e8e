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

        # on_duty's per-process cache: any shift or roster row written in this process (admin, tests,
        # services) forgets it; services also renew the DutyStamp that other processes compare.
        from django.db.models.signals import post_delete, post_save

        from kefu.accounts.models import User
        from kefu.workforce.models import Assignment, Roster
        from kefu.workforce.selectors import _duty_user_cache, duty_cache_forget

        for model in (Assignment, Roster):
            post_save.connect(duty_cache_forget, sender=model, dispatch_uid=f"wf-duty-{model.__name__}-s")
            post_delete.connect(duty_cache_forget, sender=model, dispatch_uid=f"wf-duty-{model.__name__}-d")
        _duty_user_cache.clear_when_changed(User)
