"""The sla step of `kefu demo` (kefu.core.demo): each demo company publishes this year's commitments
from its own preset, so the set a company shows is named after the standard it follows."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from kefu.accounts.models import Company, User
from kefu.accounts.roles import Role
from kefu.core.demo import DemoRun
from kefu.sla.models import CommitmentSet
from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

#: company code → its preset. The demo companies belong to the 安泰 group and follow its service
#: standard (seed 000, "安泰燃气服务承诺"); a company not listed follows the same.
DEMO_PRESETS: dict[str, str] = {"taian": "taian-antai", "feicheng": "taian-antai"}
DEMO_PRESET = "taian-antai"


def publish_demo_commitments(company) -> None:
    """The company publishes this year's commitments (C17) from its preset, in force since the
    first of January (so the demo's earlier work orders have clocks too). Nothing if the year has a set."""
    year = timezone.localdate().year
    if CommitmentSet.objects.filter(company=company, year=year).exists():
        return
    manager = User.objects.filter(company=company, role=Role.MANAGER, is_active=True).first()
    preset = DEMO_PRESETS.get(company.code, DEMO_PRESET)
    the_set = commitment_set_from_preset(company=company, year=year, preset=preset, by=manager)
    new_year = timezone.make_aware(datetime(year, 1, 1))
    commitment_set_publish(commitment_set=the_set, by=manager, at=new_year)


def demo_step(run: DemoRun) -> None:
    """`kefu demo`, step 20: this year's commitments of every demo company (before the work orders):
    the one being built and its sister companies of the same group."""
    companies = [run.company]
    if run.company.group_id:
        companies += list(Company.objects.filter(group_id=run.company.group_id).exclude(pk=run.company.pk))
    for company in companies:
        publish_demo_commitments(company)
