"""Schemathesis on the work-order endpoints only, with work orders, a hand-over and colleagues in the
database so generated ids often hit real rows: valid and invalid cases, never a 5xx (issue 3)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from kefu.accounts.models import ApiToken
from kefu.accounts.services import token_create

# Minutes of generated requests: CI runs them, a developer may skip them with `-m "not fuzz"`.
pytestmark = pytest.mark.fuzz

EXAMPLES = 25


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_ticket_endpoints_never_5xx(
    keep_test_connection, agent_x, agent2_x, dispatcher_x, repair_dept, make_ticket, mode
):
    from kefu.tickets import services
    from kefu.wsgi import application

    tickets = [make_ticket() for _ in range(3)]
    services.ticket_hand_over(ticket_id=tickets[0].pk, by=agent_x, to_user_id=agent2_x.pk, reason="交班")
    token = token_create(
        user=agent_x, name="fuzz-tickets", scopes=[ApiToken.Scope.READ, ApiToken.Scope.WRITE]
    )[1]
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    operations = [r.ok() for r in schema.get_all_operations() if r.ok().path.startswith("/api/v1/tickets")]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def exercise(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        exercise()
