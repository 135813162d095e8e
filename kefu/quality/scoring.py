"""Pure maths of inspection by people: the scoring form's score and the sampling choice.
No database, no clock (tested with hypothesis in test_scoring.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass


class FormError(ValueError):
    """A filled-in scoring form that cannot be scored (message in Chinese)."""


def form_score(items: Sequence[dict]) -> int:
    """The evaluation's score out of 100: points given over points possible; 0 when a critical item
    fails (is given 0 points). `items` = [{code, max, critical, points}]."""
    total = sum(int(i["max"]) for i in items)
    if not total:
        return 0
    for i in items:
        points = i.get("points")
        if points is None or not (0 <= int(points) <= int(i["max"])):
            raise FormError(f"评分项 {i.get('label') or i['code']} 的得分应在 0 到 {i['max']} 之间。")
    if any(i.get("critical") and int(i["points"]) == 0 for i in items):
        return 0
    got = sum(int(i["points"]) for i in items)
    return round(got * 100 / total)


@dataclass(frozen=True)
class Candidate:
    """A transcript that may be sampled: its id, agent and automatic score."""

    id: int
    agent_id: int
    score: int | None


def choose_sample(
    candidates: Sequence[Candidate], *, per_agent: int, low_score: int, extra_low: int, seed: str
) -> list[tuple[int, str]]:
    """Which transcripts go to the inspectors this week, and why: per agent, first up to
    `extra_low` of their lowest automatic scores under `low_score` ("low"), then `per_agent` more
    chosen at random ("random") — random but reproducible from `seed` (the company and week), so
    running the sampling twice picks the same calls."""
    by_agent: dict[int, list[Candidate]] = {}
    for c in candidates:
        by_agent.setdefault(c.agent_id, []).append(c)
    out: list[tuple[int, str]] = []
    for agent_id in sorted(by_agent):
        rows = by_agent[agent_id]
        low = sorted(
            (c for c in rows if c.score is not None and c.score < low_score), key=lambda c: (c.score, c.id)
        )
        picked = [c.id for c in low[:extra_low]]
        out.extend((i, "low") for i in picked)
        rest = [c for c in rows if c.id not in set(picked)]
        rest.sort(key=lambda c: hashlib.sha256(f"{seed}:{c.id}".encode()).hexdigest())
        out.extend((c.id, "random") for c in rest[:per_agent])
    return out
