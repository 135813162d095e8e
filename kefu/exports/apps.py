from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    """Data leaving the company (S3, S4): the classification registry, export requests and their
    approval, watermarked files that expire. A kernel app: it knows no domain app; the apps declare
    their models' classes and their exports in their own `ready()` (docs/exports.md)."""

    name = "kefu.exports"
    label = "exports"
    verbose_name = _("数据导出")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.exports import demo, tasks  # noqa: F401  (the hourly purge of expired files)

        register_demo_step(90, "exports", demo.demo_step)  # `kefu demo`: one approved, one pending request
