"""The replica router (kefu.core.routers): reads to a second PostgreSQL database configured
as the replica, writes to the primary.

The replica here is a copy of the test database (CREATE DATABASE … TEMPLATE) made after the rows
are written, then changed behind the primary's back, so where a read went shows in what it returns.
"""

from __future__ import annotations

import copy

import psycopg
import pytest
from django.db import connection, connections, transaction

from kefu.core.routers import REPLICA, ReplicaRouter, reads_from_replica, replica_configured
from kefu.customers.models import Customer


def _admin_conn(settings_dict):
    return psycopg.connect(
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"] or None,
        password=settings_dict["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture
def replica(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("a read replica is a PostgreSQL deployment; SQLite has no replicas (PG CI run covers it)")
    primary = connection.settings_dict
    name = f"{primary['NAME']}_replica"[:63]

    def make():
        connections.close_all()  # a template database must have no other sessions
        with _admin_conn(primary) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            # Never terminate other sessions: an earlier test's live server in this process keeps its
            # connection, and killing it broke every later browser test of the run.
            try:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{primary["NAME"]}"')
            except psycopg.errors.ObjectInUse:
                pytest.skip("other sessions are open on the test database; it cannot be copied as a replica")
        conf = copy.deepcopy(primary)
        conf["NAME"] = name
        connections.settings[REPLICA] = conf
        # Connect now: the test case refuses to open connections to aliases it was not told about.
        connections[REPLICA].connect()

    yield make
    if REPLICA in connections.settings:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]
    with _admin_conn(primary) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _customer(company, account_no: str, name: str) -> Customer:
    from kefu.customers.defaults import company_seed_defaults
    from kefu.customers.models import CustomerCategory

    company_seed_defaults(company)
    category = CustomerCategory.objects.filter(company=company).first()
    return Customer.objects.create(company=company, account_no=account_no, name=name, category=category)


def test_reads_go_to_the_replica_and_writes_to_the_primary(replica, company_x):
    cust = _customer(company_x, "R-1", "主库的名字")
    replica()
    assert replica_configured()
    with connections[REPLICA].cursor() as cur:  # the replica "lags": it holds another name
        cur.execute("UPDATE customers_customer SET name = %s WHERE id = %s", ["副本的名字", cust.pk])

    # Outside a read-only context (worker, command, POST): the primary.
    assert Customer.objects.get(pk=cust.pk).name == "主库的名字"
    with reads_from_replica():
        assert ReplicaRouter().db_for_read(Customer) == REPLICA
        assert Customer.objects.get(pk=cust.pk).name == "副本的名字"
        with transaction.atomic():  # a service's transaction reads the primary
            assert Customer.objects.get(pk=cust.pk).name == "主库的名字"
        # A write goes to the primary, and the rest of the block reads the primary (read-your-writes).
        Customer.objects.filter(pk=cust.pk).update(notes="写到主库")
        assert Customer.objects.get(pk=cust.pk).notes == "写到主库"
        assert Customer.objects.get(pk=cust.pk).name == "主库的名字"
    with connections[REPLICA].cursor() as cur:
        cur.execute("SELECT notes FROM customers_customer WHERE id = %s", [cust.pk])
        assert cur.fetchone()[0] == ""  # nothing was written to the replica
    # Accounts (users, companies) always read from the primary.
    with reads_from_replica():
        from kefu.accounts.models import Company

        assert ReplicaRouter().db_for_read(Company) == "default"


def test_a_get_request_reads_from_the_replica_a_post_from_the_primary(replica, company_x, client):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from kefu.core.routers import ReplicaReadsMiddleware

    cust = _customer(company_x, "R-2", "主库的名字")
    replica()
    with connections[REPLICA].cursor() as cur:
        cur.execute("UPDATE customers_customer SET name = %s WHERE id = %s", ["副本的名字", cust.pk])

    def view(request):  # what a selector in a view reads
        return HttpResponse(Customer.objects.get(pk=cust.pk).name)

    mw = ReplicaReadsMiddleware(view)
    assert mw(RequestFactory().get("/")).content.decode() == "副本的名字"
    assert mw(RequestFactory().post("/")).content.decode() == "主库的名字"
    assert Customer.objects.get(pk=cust.pk).name == "主库的名字"  # and nothing leaks past the request


def test_without_a_replica_the_router_leaves_everything_to_default(db):
    assert not replica_configured()
    with reads_from_replica():
        assert ReplicaRouter().db_for_read(Customer) is None
    assert ReplicaRouter().db_for_write(Customer) == "default"
