"""Notifications are sent exactly once per key, and each person sees only their own (P9, S2)."""

import threading

import pytest
from django.db import connection

from kefu.accounts.tests.factories import TEST_PASSWORD
from kefu.notify import selectors, services
from kefu.notify.models import Notification


def _send(user, key="clock:1:warn"):
    return services.notification_send(
        recipient=user, kind="clock_warning", title="工单即将超时", dedupe_key=key
    )


@pytest.mark.django_db
def test_same_key_twice_makes_one_row(agent_x):
    first, created1 = _send(agent_x)
    second, created2 = _send(agent_x)
    assert (created1, created2) == (True, False)
    assert first.pk == second.pk
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_inbox_is_personal(agent_x, supervisor_x, agent_y):
    _send(agent_x)
    _send(supervisor_x)
    assert selectors.unread_count(user=agent_x) == 1
    assert selectors.unread_count(user=agent_y) == 0
    services.notification_mark_read(user=agent_y)  # marks nothing of others
    assert selectors.unread_count(user=agent_x) == 1
    assert services.notification_mark_read(user=agent_x) == 1
    assert selectors.unread_count(user=agent_x) == 0


@pytest.mark.django_db
def test_centre_page_and_api(client, agent_x, agent_y):
    row, _ = _send(agent_x)
    _send(agent_y, key="other")
    client.login(username="agent_x", password=TEST_PASSWORD)
    page = client.get("/notifications/").content.decode()
    assert "工单即将超时" in page
    body = client.get("/api/v1/notifications/").json()
    assert body["unread"] == 1 and [i["id"] for i in body["items"]] == [row.pk]
    r = client.post("/api/v1/notifications/read", {"ids": [row.pk]}, content_type="application/json")
    assert r.status_code == 200 and r.json() == {"marked": 1}
    assert client.get("/api/v1/notifications/").json()["unread"] == 0


@pytest.mark.django_db(transaction=True)
def test_racing_senders_notify_once(agent_x):
    """Two workers sweeping the same clock at once: the unique key lets exactly one insert win."""
    if connection.vendor != "postgresql":
        pytest.skip("real parallel transactions need PostgreSQL")
    results, barrier = [], threading.Barrier(4)

    def worker():
        from django.db import connection as conn

        barrier.wait()
        try:
            results.append(_send(agent_x, key="race")[1])
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert Notification.objects.filter(dedupe_key="race").count() == 1


@pytest.mark.django_db
def test_send_many_skips_existing_keys_and_duplicates_in_the_batch(agent_x, supervisor_x):
    _send(agent_x, key="k1")
    items = [
        dict(recipient=agent_x, kind="clock_warning", title="a", dedupe_key="k1"),  # exists
        dict(recipient=agent_x, kind="clock_warning", title="b", dedupe_key="k2"),
        dict(recipient=agent_x, kind="clock_warning", title="b again", dedupe_key="k2"),  # same batch
        dict(recipient=supervisor_x, kind="clock_breach", title="c", dedupe_key="k1", level="alert"),
    ]
    assert services.notification_send_many(items) == 2
    assert services.notification_send_many(items) == 0
    assert Notification.objects.count() == 3
    assert Notification.objects.get(recipient=supervisor_x).level == "alert"
