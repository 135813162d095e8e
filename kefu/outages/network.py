"""Valve-closure analysis (关阀分析) on the pipe network (pure: no database).

The network is a graph of nodes (sources and regulator stations feed gas; junctions; valves;
service connections that feed premises) and pipe segments (edges). Valves are nodes: closing a
valve removes it from the graph. Gas reaches a node when a path joins it to a source without
passing a closed valve. Graph work uses networkx (docs/decisions.md).

- `isolate(closed)`: the nodes cut off when `closed` valves are shut, and the premises behind them.
- `valves_for_pipe(edge)`: the smallest set of valves that isolates a damaged pipe — the valves
  met first on every path leaving the pipe (its "segment" bounded by valves).
- `stuck(closed, valve)`: "what if valve X does not close": the next ring of valves behind X,
  and the extra premises that lose gas.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import networkx as nx

SOURCE_KINDS = frozenset({"source", "regulator"})


@dataclass
class Network:
    """The graph, the kind of each node, and the premises behind each service connection."""

    graph: nx.Graph
    kinds: dict[str, str]
    premises: dict[str, list[int]] = field(default_factory=dict)
    edges: dict[str, tuple[str, str]] = field(default_factory=dict)
    coords: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: plain adjacency lists (walking networkx's views costs several times more per step)
    adj: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.adj:
            self.adj = {n: list(nbrs) for n, nbrs in self.graph.adjacency()}
        self._sources = [n for n, k in self.kinds.items() if k in SOURCE_KINDS]

    @classmethod
    def build(cls, nodes, edges, premises=(), coords=None) -> Network:
        """nodes: (id, kind); edges: (id, a, b); premises: (node id, premise id)."""
        g = nx.Graph()
        kinds = {}
        for nid, kind in nodes:
            g.add_node(nid)
            kinds[nid] = kind
        emap = {}
        for eid, a, b in edges:
            g.add_edge(a, b)
            emap[eid] = (a, b)
        pm: dict[str, list[int]] = {}
        for nid, pid in premises:
            pm.setdefault(nid, []).append(pid)
        return cls(g, kinds, pm, emap, coords or {})

    def is_valve(self, node: str) -> bool:
        return self.kinds.get(node) == "valve"

    @property
    def sources(self) -> list[str]:
        return self._sources


@dataclass
class Isolation:
    closed: list[str]
    isolated_nodes: set[str]
    premise_ids: list[int]


def _fed(net: Network, closed: set[str]) -> set[str]:
    """Nodes gas still reaches with `closed` nodes shut (BFS from every source)."""
    seen: set[str] = set(closed)
    queue = deque(s for s in net.sources if s not in closed)
    seen.update(queue)
    adj = net.adj
    append, pop = queue.append, queue.popleft
    while queue:
        for m in adj[pop()]:
            if m not in seen:
                seen.add(m)
                append(m)
    return seen - set(closed)


def isolate(net: Network, closed: list[str] | set[str]) -> Isolation:
    """The part of the network cut off by shutting `closed` (the valves themselves count as cut
    off: nothing flows past them) and the premises behind it, sorted."""
    unknown = [v for v in closed if v not in net.kinds]
    if unknown:
        raise KeyError(", ".join(unknown[:5]))
    closed_set = set(closed)
    fed = _fed(net, closed_set)
    cut = set(net.kinds) - fed
    premise_ids = sorted({p for n in cut for p in net.premises.get(n, ())})
    return Isolation(sorted(closed_set), cut, premise_ids)


def boundary_valves(
    net: Network, start: list[str], *, skip: set[str] = frozenset(), avoid: set[str] = frozenset()
) -> tuple[set[str], set[str]]:
    """Valves met first when walking out from `start` through anything that is not a valve
    (`skip`: valves walked through as if open; `avoid`: nodes not entered). Returns (valves, the
    nodes walked)."""
    seen = set(start) | set(avoid)
    queue = deque(n for n in start if not net.is_valve(n) or n in skip)
    walked = set(queue)
    valves = {n for n in start if net.is_valve(n) and n not in skip}
    adj = net.adj
    while queue:
        n = queue.popleft()
        for m in adj[n]:
            if m in seen:
                continue
            seen.add(m)
            if net.is_valve(m) and m not in skip:
                valves.add(m)
            else:
                walked.add(m)
                queue.append(m)
    return valves, walked


def _feeding(net: Network, valves: set[str], inside: set[str]) -> set[str]:
    """The valves of `valves` that gas reaches from a source without passing through `inside` (only
    those must close; a valve with nothing but dead ends behind it need not). One walk from the
    sources, all valves open, around `inside`."""
    fed = _fed(net, set(inside) - set(valves))
    return {v for v in valves if v in fed}


def valves_for_pipe(net: Network, edge_id: str) -> Isolation:
    """The smallest set of valves isolating a damaged pipe: of the valves bounding the segment that
    holds it, those with a source behind them (gas would flow in); the dead ends behind the others
    lose gas with the segment. Then everything that closure cuts off."""
    if edge_id not in net.edges:
        raise KeyError(edge_id)
    a, b = net.edges[edge_id]
    valves, walked = boundary_valves(net, [a, b])
    return isolate(net, _feeding(net, valves, walked))


@dataclass
class StuckResult:
    base: Isolation
    after: Isolation
    ring: list[str]
    extra_premise_ids: list[int]


def stuck(net: Network, closed: list[str], valve: str) -> StuckResult:
    """ "What if `valve` does not close": close the next ring of valves behind it instead and show
    the extra premises that lose gas."""
    if valve not in closed:
        raise KeyError(valve)
    base = isolate(net, closed)
    others = set(closed) - {valve}
    # walk from the stuck valve into the side that is still fed: the next ring of valves (those
    # with a source behind them; an empty ring means the source itself must be shut)
    avoid = base.isolated_nodes - {valve}
    valves, walked = boundary_valves(net, [valve], skip={valve}, avoid=avoid)
    inside = walked | avoid
    ring = _feeding(net, valves - others - {valve}, inside)
    after = isolate(net, others | ring)
    extra = sorted(set(after.premise_ids) - set(base.premise_ids))
    return StuckResult(base, after, sorted(ring), extra)
