from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "kefu.followups"
    label = "followups"
    verbose_name = _("投诉、咨询、回访与满意度")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.followups import clocks, demo, listeners

        register_demo_step(40, "followups", demo.demo_step)  # `kefu demo`: complaints, visits, a survey
        clocks.register()  # the complaint and return-visit subjects of the sla engine (docs/followups.md)
        listeners.register()  # work-order facts → complaints and return visits (docs/events.md)
        _classify()
        from kefu.followups import exports

        exports.register()  # the survey's Excel export (S3; kefu.exports)


def _classify() -> None:
    """S4 (seed 001 篇6 五): the follow-up records of a customer are 绝密; surveys' answers and their
    analyses are 机密."""
    from kefu.exports.classification import Level, classify

    for model in ("complaint", "complaintsteprecord", "returnvisit", "visitattempt"):
        classify(f"followups.{model}", Level.TOP_SECRET, category=_("客户跟踪记录"))
    for model in ("campaign", "surveyresponse"):
        classify(f"followups.{model}", Level.SECRET, category=_("客户调查分析资料"))
