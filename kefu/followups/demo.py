"""Demo follow-ups for `kefu demo` (filled in below)."""

from __future__ import annotations


def demo_step(run) -> None:
    return None
