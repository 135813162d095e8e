from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    name = "kefu.field"
    label = "field"
    verbose_name = _("外勤")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.field import clocks, demo

        register_demo_step(40, "field", demo.demo_step)  # `kefu demo`: crews, jobs, arrivals
        clocks.register()  # arrivals → on-site clocks; emergencies → the board (docs/events.md)
        _classify()


def _classify() -> None:
    """S4 (seed 001 篇6 五): records of visits to customers are 机密."""
    from kefu.exports.classification import Level, classify

    for model in ("fieldjob", "jobevent", "jobline", "jobphoto", "appointment"):
        classify(f"field.{model}", Level.SECRET, category=_("上门记录"))
