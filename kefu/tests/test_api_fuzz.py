"""Schemathesis against the whole OpenAPI, with real rows (the standing guard, docs/security.md):
whatever a client sends — valid or not — the API answers with a 2xx or a 4xx with a message, never
a 5xx, and nothing of another company ever appears in an answer (S2).

Company X has customers, work orders and tokens; company Y has the same kind of rows with marker
text. Generated ids in paths are swapped, one case in two, for real ids of X and of Y, so cases
reach real rows and real cross-company refusals. Runs on SQLite and PostgreSQL through the WSGI app
(no HTTP server); the number of examples keeps it well under two minutes per database.
"""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from kefu.accounts.models import ApiToken
from kefu.accounts.services import token_create

# Minutes of generated requests: CI runs them, a developer may skip them with `-m "not fuzz"`.
pytestmark = pytest.mark.fuzz

EXAMPLES_PER_OPERATION = 12

#: Text that exists only in company Y's rows: it must never come back to a user of company X.
Y_MARKERS = ("泄露检查", "19900000000", "99000001")


def _operations():
    from kefu.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.fixture
def real_rows(supervisor_x, agent_x, agent_y, company_y):
    """Customers and work orders in both companies, made through the services."""
    from kefu.accounts.tests.factories import UserFactory
    from kefu.customers.tests.test_customer_services import new_customer
    from kefu.tickets.services import ticket_create

    supervisor_y = UserFactory(company=company_y, role="supervisor", username="supervisor_y")
    x_customers = [
        new_customer(
            supervisor_x, account_no=f"1000000{i}", name=f"张{i}", phones=[{"number": f"1381234567{i}"}]
        )
        for i in range(3)
    ]
    y_customer = new_customer(
        supervisor_y,
        account_no="99000001",
        name="泄露检查",
        phones=[{"number": "19900000000"}],
        address="泄露检查小区1号",
    )
    common = dict(kind="consultation", caller_surname="张", caller_title="mr", on_duplicate="create")
    x_tickets = [
        ticket_create(
            by=agent_x,
            content=f"咨询开户材料{i}",
            caller_phone="13900001111",
            customer_id=x_customers[i].pk,
            **common,
        ).ticket
        for i in range(3)
    ]
    y_ticket = ticket_create(
        by=agent_y,
        content="泄露检查：燃气味道",
        caller_phone="19900000000",
        customer_id=y_customer.pk,
        **common,
    ).ticket
    y_token = token_create(user=agent_y, name="y-token", scopes=[])[0]
    ids = [c.pk for c in x_customers] + [t.pk for t in x_tickets] + [y_customer.pk, y_ticket.pk, y_token.pk]
    return {"ids": ids}


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_server_errors_and_no_leaks(keep_test_connection, supervisor_x, real_rows, mode):
    token = token_create(user=supervisor_x, name="fuzz", scopes=[ApiToken.Scope.WRITE])[1]
    headers = {"Authorization": f"Bearer {token}"}
    operations = _operations()
    assert len(operations) >= 5
    real_ids = itertools.cycle(real_rows["ids"])
    swap = itertools.cycle([True, False])
    tried = {"cases": 0}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def exercise(case):
            if case.path_parameters and next(swap):
                for name in list(case.path_parameters):
                    if name.endswith("_id"):
                        case.path_parameters[name] = next(real_ids)
            response = case.call(headers=headers)
            tried["cases"] += 1
            case.validate_response(response, checks=[not_a_server_error])
            body = response.content.decode("utf-8", "replace")
            leaked = [m for m in Y_MARKERS if m in body]
            assert not leaked, (case.method, case.formatted_path, leaked)

        exercise()
    assert tried["cases"] >= len(operations)
