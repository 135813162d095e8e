from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "kefu.telephony"
    label = "telephony"
    verbose_name = _("呼叫中心与在线客服")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.telephony import demo, facts  # noqa: F401  (facts: the event types are registered)

        register_demo_step(40, "telephony", demo.demo_step)  # `kefu demo`: a day of calls and chats
        _classify()


def _classify() -> None:
    """S4 (seed 001 篇6 五): records of calls (and chats) are 机密."""
    from kefu.exports.classification import Level, classify

    for model in (
        "call",
        "callevent",
        "calltransfer",
        "callticket",
        "chatsession",
        "chatmessage",
        "transcript",
    ):
        classify(f"telephony.{model}", Level.SECRET, category=_("来电记录"))
