"""Valve-closure analysis (关阀分析) on small hand-drawn networks: a loop fed from two sides, a dead
end, a stuck valve (P13)."""

from __future__ import annotations

import pytest

from kefu.outages import network


def loop() -> network.Network:
    """S1 ─V0─ J0 ─V1─ J1 ══ J2 ─V2─ S2  (J1–J2 is pipe "P12"; gas from both sides)
    │         │     │
    V6        V3    V4
    │         │     │
    H6(7)     H3(1,2) H4(3)      H = service connections (premise ids)"""
    nodes = [
        ("S1", "source"), ("S2", "regulator"), ("V0", "valve"), ("J0", "junction"), ("V1", "valve"),
        ("J1", "junction"), ("J2", "junction"), ("V2", "valve"), ("V3", "valve"), ("V4", "valve"),
        ("V6", "valve"), ("H3", "service"), ("H4", "service"), ("H6", "service"),
    ]  # fmt: skip
    edges = [
        ("e1", "S1", "V0"), ("e2", "V0", "J0"), ("e3", "J0", "V1"), ("e4", "V1", "J1"), ("P12", "J1", "J2"),
        ("e6", "J2", "V2"), ("e7", "V2", "S2"), ("e8", "J1", "V3"), ("e9", "V3", "H3"), ("e10", "J2", "V4"),
        ("e11", "V4", "H4"), ("e12", "J0", "V6"), ("e13", "V6", "H6"),
    ]  # fmt: skip
    premises = [("H3", 1), ("H3", 2), ("H4", 3), ("H6", 7)]
    return network.Network.build(nodes, edges, premises)


def test_loop_fed_from_two_sides_needs_both_valves():
    net = loop()
    iso = network.valves_for_pipe(net, "P12")
    assert iso.closed == ["V1", "V2"]  # V3, V4 only have dead ends behind them
    assert iso.premise_ids == [1, 2, 3]


def test_closing_one_side_of_a_loop_cuts_nobody():
    iso = network.isolate(loop(), ["V1"])
    assert iso.premise_ids == []  # S2 still feeds J1 and J2


def test_dead_end():
    net = network.Network.build(
        [("S", "source"), ("V", "valve"), ("J", "junction"), ("H", "service")],
        [("a", "S", "V"), ("b", "V", "J"), ("c", "J", "H")],
        [("H", 11), ("H", 12)],
    )
    iso = network.valves_for_pipe(net, "c")
    assert iso.closed == ["V"]
    assert iso.premise_ids == [11, 12]


def test_stuck_valve_shows_the_next_ring_and_extra_households():
    net = loop()
    res = network.stuck(net, ["V1", "V2"], "V1")
    assert res.ring == ["V0"]  # V6 has only a dead end behind it
    assert res.after.closed == ["V0", "V2"]
    assert res.extra_premise_ids == [7]
    assert res.after.premise_ids == [1, 2, 3, 7]


def test_unknown_ids_raise():
    with pytest.raises(KeyError):
        network.valves_for_pipe(loop(), "nope")
    with pytest.raises(KeyError):
        network.isolate(loop(), ["V99"])
