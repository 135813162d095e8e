from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kefu.customers"
    label = "customers"
    verbose_name = _("客户")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.customers import demo

        # `kefu demo` (kefu.core.demo): the company, its users and the city come first.
        register_demo_step(10, "customers", demo.demo_step, arguments=demo.add_demo_arguments)
        _classify()


def _classify() -> None:
    """S4 (seed 001 篇6 五): customer data is 绝密 — exported only on a supervisor's approval."""
    from kefu.exports.classification import Level, classify

    for model in (
        "customer",
        "premise",
        "phone",
        "meter",
        "careregistration",
        "customerstatuschange",
        "billingsnapshot",
    ):
        classify(f"customers.{model}", Level.TOP_SECRET, category=_("客户资料"))
