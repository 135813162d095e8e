"""factory_boy factories for work orders, made through the real service (`ticket_create`): numbered,
owned by their creator (P1), with their timeline and the clocks of the published commitments.

    TicketFactory(by=agent_x)                                   # a consultation of company X
    TicketFactory(by=agent_x, kind="repair", address="…", customer_id=customer.pk)
"""

from __future__ import annotations

import factory

from kefu.accounts.tests.factories import UserFactory
from kefu.tickets.models import Ticket


class TicketFactory(factory.Factory):
    """`by` is the agent who records the contact; any keyword of `ticket_create` may be given."""

    class Meta:
        model = Ticket

    by = factory.SubFactory(UserFactory, role="agent")
    kind = "consultation"
    content = "咨询燃气开户需要什么材料"
    caller_surname = "张"
    caller_title = "mr"
    caller_phone = "13900001111"
    on_duplicate = "create"

    @classmethod
    def _create(cls, model_class, **kwargs):
        from kefu.tickets.services import ticket_create

        return ticket_create(**kwargs).ticket

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("work orders are made through ticket_create: use TicketFactory()")
