"""C15 (a call or a counter transaction resolved within 3 minutes, "尽量") is a target measured on
reports, never a clock on the work order. Commitment sets made from the `laizhou-crgas-2024` preset
before that was fixed still start their C15 on ticket.received / ticket.resolved, so every counter
work order of any kind gets a 3-minute clock that breaches and escalates although the preset says
不升级. This moves them to the current definition (counter.started → counter.ended; a hotline C15
call.answered → call.ended), drops their escalation, and cancels the clocks those definitions left
open (not measured: cancelled, as for a reclassified work order). Nothing else is touched.
"""

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

NOTE = "目标值（“尽量”），用于统计，不升级。"
OPEN = ("running", "paused", "breached")


def c15_current(apps, schema_editor):
    Commitment = apps.get_model("sla", "Commitment")
    Clock = apps.get_model("sla", "Clock")
    ClockPause = apps.get_model("sla", "ClockPause")
    now = timezone.now()
    stale = Commitment.objects.filter(spec_id="C15").filter(
        Q(start_event__startswith="ticket.") | Q(stop_event__startswith="ticket.")
    )
    for c in stale:
        if c.channel == "hotline":
            c.start_event, c.stop_event = "call.answered", "call.ended"
        else:
            c.start_event, c.stop_event = "counter.started", "counter.ended"
        c.escalate_after = None
        if not c.note:
            c.note = NOTE
        c.save(update_fields=["start_event", "stop_event", "escalate_after", "note"])
        clocks = Clock.objects.filter(commitment=c, state__in=OPEN)
        ClockPause.objects.filter(clock__in=clocks, ended_at__isnull=True).update(ended_at=now)
        clocks.update(state="cancelled", cancelled_at=now, paused_at=None)


class Migration(migrations.Migration):
    dependencies = [("sla", "0002_clock_cancel_escalate_attachment")]

    operations = [migrations.RunPython(c15_current, migrations.RunPython.noop)]
