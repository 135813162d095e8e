"""The sla step of `kefu demo` (kefu.core.demo): the demo company publishes this year's commitments."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.core.demo import DemoRun
from kefu.sla.models import CommitmentSet
from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

DEMO_PRESET = "laizhou-crgas-2024"


def publish_demo_commitments(company) -> None:
    """The demo company publishes this year's commitments (C17) from a preset, in force since the
    first of January (so the demo's earlier work orders have clocks too). Nothing if the year has a set."""
    year = timezone.localdate().year
    if CommitmentSet.objects.filter(company=company, year=year).exists():
        return
    manager = User.objects.filter(company=company, role=Role.MANAGER, is_active=True).first()
    the_set = commitment_set_from_preset(company=company, year=year, preset=DEMO_PRESET, by=manager)
    new_year = timezone.make_aware(datetime(year, 1, 1))
    commitment_set_publish(commitment_set=the_set, by=manager, at=new_year)


def demo_step(run: DemoRun) -> None:
    """`kefu demo`, step 20: this year's commitments of the demo company (before its work orders)."""
    publish_demo_commitments(run.company)
