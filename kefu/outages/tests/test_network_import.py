"""Importing the GIS export: bad files (dangling edges, unknown premises, duplicate ids, a valve on
no pipe) give a report per line and write nothing; a good file replaces the network, and the
valve-closure analysis finds the premises behind it (P13)."""

from __future__ import annotations

import json

import pytest

from kefu.core.errors import Forbidden
from kefu.outages import network
from kefu.outages.models import NetworkEdge, NetworkNode, NetworkPremise
from kefu.outages.network_import import network_import
from kefu.outages.selectors import company_network

NODES = """id,kind,name,lon,lat,accounts
S1,source,门站,117.10,36.20,
V1,valve,1号阀,117.11,36.20,
J1,junction,,117.12,36.20,
H1,service,幸福小区1号楼,117.13,36.21,200001;200002;200003
H2,用户,幸福小区2号楼,117.13,36.19,200004;200005
"""
EDGES = """id,from,to
p1,S1,V1
p2,V1,J1
p3,J1,H1
p4,J1,H2
"""


@pytest.mark.django_db
def test_good_csv_replaces_the_network_and_feeds_the_analysis(dispatcher_x, households):
    run = network_import(by=dispatcher_x, fmt="csv", nodes=NODES.encode(), edges=EDGES.encode())
    assert run.ok and run.errors == [] and (run.nodes, run.edges, run.premises) == (5, 4, 5)
    net = company_network(dispatcher_x.company_id)
    iso = network.valves_for_pipe(net, "p3")
    assert iso.closed == ["V1"] and len(iso.premise_ids) == 5
    again = network_import(
        by=dispatcher_x, fmt="csv", nodes=NODES.encode(), edges=EDGES.replace("p4,J1,H2\n", "").encode()
    )
    assert again.ok and NetworkEdge.objects.filter(company=dispatcher_x.company).count() == 3


@pytest.mark.django_db
def test_bad_csv_reports_each_line_and_writes_nothing(dispatcher_x, households):
    nodes = NODES + "V9,valve,孤立阀门,,,\nJ1,junction,重复,,,\nH3,service,,,,999999\nX1,pump,,,,\n"
    edges = EDGES + "p5,J1,NOPE\n"
    run = network_import(by=dispatcher_x, fmt="csv", nodes=nodes.encode(), edges=edges.encode())
    assert not run.ok
    got = {(e["file"], e["line"]) for e in run.errors}
    msgs = " ".join(e["message"] for e in run.errors)
    assert ("nodes.csv", 7) in got and "不在任何管段上" in msgs  # a valve on no pipe
    assert ("nodes.csv", 8) in got and "重复" in msgs  # duplicate id
    assert ("nodes.csv", 9) in got and "999999" in msgs  # unknown premise
    assert ("nodes.csv", 10) in got  # unknown kind
    assert ("edges.csv", 6) in got and "悬空" in msgs  # dangling edge
    assert NetworkNode.objects.count() == 0 and NetworkPremise.objects.count() == 0


@pytest.mark.django_db
def test_geojson(dispatcher_x, households):
    def point(i, kind, x, y, **p):
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {"id": i, "kind": kind, **p},
        }

    def line(i, a, b):
        return {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            "properties": {"id": i, "from": a, "to": b},
        }

    doc = {
        "type": "FeatureCollection",
        "features": [
            point("S", "regulator", 117, 36),
            point("V", "valve", 117.1, 36),
            point("H", "service", 117.2, 36, accounts=["200006"]),
            line("a", "S", "V"),
            line("b", "V", "H"),
            {"type": "Feature", "geometry": {"type": "Polygon"}, "properties": {}},
        ],
    }
    run = network_import(by=dispatcher_x, fmt="geojson", geojson=json.dumps(doc).encode())
    assert not run.ok and run.errors[0]["line"] == 6
    doc["features"].pop()
    run = network_import(by=dispatcher_x, fmt="geojson", geojson=json.dumps(doc).encode())
    assert run.ok and run.premises == 1


@pytest.mark.django_db
def test_agents_cannot_import(agent_x):
    with pytest.raises(Forbidden):
        network_import(by=agent_x, fmt="csv", nodes=b"", edges=b"")


@pytest.mark.django_db
def test_frozen_list_survives_a_new_network(dispatcher_x, manager_x, households):
    """When notices go out the list is frozen (count, hash, method): a later import of another
    network changes nothing about who was affected."""
    from datetime import timedelta

    from django.utils import timezone

    from kefu.outages import services
    from kefu.outages.models import AffectedPremise
    from kefu.outages.rules import list_hash

    network_import(by=dispatcher_x, fmt="csv", nodes=NODES.encode(), edges=EDGES.encode())
    start = timezone.now() + timedelta(days=3)
    o = services.outage_create(
        by=dispatcher_x,
        kind="planned",
        reason="换管",
        planned_start=start,
        planned_end=start + timedelta(hours=4),
    )
    assert (
        services.outage_set_affected(
            by=dispatcher_x, outage_id=o.pk, method="network", selection={"pipe": "p4"}
        )
        == 5
    )
    services.outage_approve(by=manager_x, outage_id=o.pk)
    services.outage_notify(by=dispatcher_x, outage_id=o.pk)
    o.refresh_from_db()
    before = sorted(AffectedPremise.objects.filter(outage=o).values_list("premise_id", flat=True))
    assert (o.frozen_count, o.frozen_method, o.frozen_hash) == (5, "network", list_hash(before))
    network_import(
        by=dispatcher_x, fmt="csv", nodes=NODES.replace("200004;200005", "").encode(), edges=EDGES.encode()
    )
    assert sorted(AffectedPremise.objects.filter(outage=o).values_list("premise_id", flat=True)) == before
    o.refresh_from_db()
    assert o.frozen_hash == list_hash(before)
