"""The work-order list shows each row's commitment countdown without a query per row (issue 4 §5)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.accounts.tests.factories import TEST_PASSWORD


def _list_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/tickets/")
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_rows(client, agent_x, make_ticket):
    client.login(username=agent_x.username, password=TEST_PASSWORD)
    for _ in range(2):
        make_ticket()
    few, _page = _list_queries(client)
    for _ in range(6):
        make_ticket()
    many, page = _list_queries(client)
    assert page.count('href="/tickets/') >= 8
    assert many == few
