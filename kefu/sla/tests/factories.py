"""factory_boy factories for commitments, made through the real services: a commitment set from a
preset (`commitment_set_from_preset`), published with `commitment_set_publish` when asked (C17).

    CommitmentSetFactory(company=company_x, by=manager_x)                  # unpublished, 2026
    CommitmentSetFactory(company=company_x, by=manager_x, published_at=L(2026, 1, 1))
"""

from __future__ import annotations

import factory

from kefu.accounts.tests.factories import CompanyFactory, UserFactory
from kefu.sla.models import CommitmentSet


class CommitmentSetFactory(factory.Factory):
    """`by` needs Perm.MASTER_DATA (a manager of the company). `published_at` publishes the set then;
    `publish=True` publishes it now."""

    class Meta:
        model = CommitmentSet

    company = factory.SubFactory(CompanyFactory)
    by = factory.SubFactory(UserFactory, role="manager", company=factory.SelfAttribute("..company"))
    year = 2026
    preset = "laizhou-crgas-2024"
    publish = False
    published_at = None

    @classmethod
    def _create(cls, model_class, *, company, by, year, preset, publish, published_at):
        from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

        row = commitment_set_from_preset(company=company, year=year, preset=preset, by=by)
        if publish or published_at is not None:
            row = commitment_set_publish(commitment_set=row, by=by, at=published_at)
        return row

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("commitment sets are made through the services: use CommitmentSetFactory()")
