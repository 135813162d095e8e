"""Schemathesis over the telephony operations only (the project-wide fuzz covers them too, with fewer
examples each): whatever a PBX link or a chat system sends, the answer is a 2xx or a 4xx with a
message, never a 5xx, and company Y's calls never appear for company X (S2)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from kefu.accounts.models import ApiToken
from kefu.accounts.services import token_create

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(900)]


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_telephony_operations_never_fail_with_5xx(
    keep_test_connection, feed_x, hotline_x, hotline_y, company_y, t0, mode
):
    from kefu.accounts.tests.factories import UserFactory
    from kefu.telephony.services import call_events_ingest
    from kefu.telephony.tests.conftest import answered_trace

    feed_y = UserFactory(company=company_y, role="supervisor", username="pbx_y")
    call_events_ingest(by=feed_y, events=answered_trace(t0, call="y1", hotline="96888", caller="19900000000"))
    token = token_create(user=feed_x, name="fuzz", scopes=[ApiToken.Scope.WRITE])[1]
    from kefu.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    ops = [r.ok() for r in schema.get_all_operations() if r.ok().path.startswith("/api/v1/telephony/")]
    assert len(ops) >= 10
    for operation in ops:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case):
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            case.validate_response(response, checks=[not_a_server_error])
            assert "19900000000" not in response.content.decode("utf-8", "replace")

        exercise()
