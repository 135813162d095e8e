from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "kefu.portal"
    label = "portal"
    verbose_name = _("网上营业厅")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.portal import demo, wechat

        register_demo_step(70, "portal", demo.demo_step)  # `kefu demo`: a customer who can log in
        wechat.register()  # work-order progress → WeChat template messages (docs/events.md)
