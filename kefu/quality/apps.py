from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "kefu.quality"
    label = "quality"
    verbose_name = _("服务用语质检")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.core.events import subscribe
        from kefu.quality import demo, services
        from kefu.telephony.facts import TranscriptAvailable
        from kefu.tickets.facts import TicketReplied

        # Every written reply of a work order is checked (L2); docs/events.md.
        subscribe(TicketReplied, services.on_ticket_replied, catch_up=services.replies_not_submitted)
        # Every call and chat transcript stored by telephony is checked (L1, L2, L3, L4, L5).
        subscribe(
            TranscriptAvailable,
            services.on_transcript_available,
            catch_up=services.telephony_transcripts_not_submitted,
        )
        register_demo_step(60, "quality", demo.demo_step)  # `kefu demo`: rules, checked calls, evaluations
        from kefu.quality import exports

        exports.register()  # classes of quality data (S4) and the report's CSV export (S3; kefu.exports)
