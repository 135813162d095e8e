"""Erlang C staffing (W1: staffing needs "from a call forecast with Erlang C when telephony data
exists"). Pure maths: no database, no clock. The telephony app gives the calls offered per half-hour
and the mean handle time (kefu.telephony.selectors.call_volume); the project's interface layer wires
the two (kefu/views.py: workforce may not import telephony, both sit in the same layer).

Erlang C, M/M/N queue, callers wait (no abandons): with traffic A = calls × AHT / interval (Erlangs)
and N agents (N > A),

    P(wait) = C(N, A) = N·B / (N − A·(1 − B)),  B = Erlang B(N, A) by the recursion
    B(0) = 1,  B(n) = A·B(n−1) / (n + A·B(n−1))
    service level SL(T) = 1 − C(N, A) · exp(−(N − A) · T / AHT)

`agents_required` is the smallest N whose SL reaches the target (e.g. 80 % within 15 s: C13's three
rings of 5 s), optionally also keeping occupancy A / N at or below a ceiling.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of Erlang B by the stable recursion (no factorials)."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must not be negative")
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a caller waits (Erlang C). 1.0 when the agents cannot carry the traffic (N ≤ A)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


def service_level(*, agents: int, calls: float, interval_s: float, aht_s: float, target_s: float) -> float:
    """Share of calls answered within `target_s` with `agents` agents (Erlang C)."""
    if calls <= 0:
        return 1.0
    if aht_s <= 0 or interval_s <= 0:
        raise ValueError("handle time and interval must be positive")
    traffic = calls * aht_s / interval_s
    if agents <= traffic:
        return 0.0
    return 1.0 - erlang_c(agents, traffic) * math.exp(-(agents - traffic) * target_s / aht_s)


@dataclass(frozen=True)
class Staffing:
    calls: float
    aht_s: float
    traffic: float  # Erlangs
    agents: int
    service_level: float  # achieved with `agents`
    wait_probability: float


def agents_required(
    *,
    calls: float,
    aht_s: float,
    interval_s: float = 1800,
    target_sl: float = 0.8,
    target_s: float = 15,
    max_occupancy: float = 1.0,
    limit: int = 2000,
) -> Staffing:
    """The fewest agents answering `target_sl` of `calls` (offered in `interval_s`, mean handle time
    `aht_s`) within `target_s`, with occupancy ≤ `max_occupancy`. No calls: no agents."""
    if not 0 < target_sl < 1:
        raise ValueError("service-level target must be between 0 and 1")
    if calls <= 0:
        return Staffing(calls, aht_s, 0.0, 0, 1.0, 0.0)
    traffic = calls * aht_s / interval_s
    n = max(1, math.floor(traffic) + 1, math.ceil(traffic / max_occupancy))
    while n <= limit:
        sl = service_level(agents=n, calls=calls, interval_s=interval_s, aht_s=aht_s, target_s=target_s)
        if sl >= target_sl:
            return Staffing(calls, aht_s, traffic, n, sl, erlang_c(n, traffic))
        n += 1
    raise ValueError("no staffing within the limit")


def demand_from(forecasts: Iterable, *, target_sl: float = 0.8) -> dict[tuple[date, int], int]:
    """The agents Erlang C requires in each half-hour of each forecast day: (local day, local minute
    of the half-hour's start) → agents, the roster solver's demand (W1). A forecast is
    kefu.telephony.selectors.CallForecast (`intervals` with an aware local `start`, `calls` and
    `aht_s`; the day's `aht_s` for a half-hour without ended calls; `target_s`). Half-hours with no
    calls or no handle time known ask for nobody."""
    out: dict[tuple[date, int], int] = {}
    for forecast in forecasts:
        for interval in forecast.intervals:
            aht = interval.aht_s or forecast.aht_s
            if not aht or interval.calls <= 0:
                continue
            need = agents_required(
                calls=interval.calls, aht_s=aht, target_sl=target_sl, target_s=forecast.target_s
            )
            start = interval.start
            out[start.date(), start.hour * 60 + start.minute] = need.agents
    return out
