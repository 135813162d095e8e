"""The demo registry: `kefu demo` runs the steps the apps register, in order.

The kernel knows no domain app, so each app that has demo data registers one step in its
`AppConfig.ready()`:

    register_demo_step(10, "customers", customers_demo_step, arguments=add_customers_arguments)

A step is a function of one `DemoRun`: it reads the command's options, builds its data and leaves
what later steps and the closing message need on the run (the company, the logins, a phrase for
the summary), or raises DemoRefused for options it cannot use. The first step that finds the
demo already there (`--if-empty`) sets `built` to False and the later steps are skipped.
Today: customers (10: the company, its users, the city), sla (20: this year's commitments),
tickets (30: a few days of work orders and a clock sweep), telephony (40: calls, seats, chats),
quality (60: rules, checked calls, evaluations), counter (70: a hall, a morning's queue, cash).
"""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DemoRefused",
    "DemoRun",
    "DemoStep",
    "SimulatedClock",
    "demo_steps",
    "register_demo_step",
    "run_demo_steps",
]


class DemoRefused(Exception):
    """A step refuses its options (e.g. a negative number of customers): the command prints the
    message on stderr and builds nothing more."""


@dataclass
class DemoRun:
    """One run of `kefu demo`: the options, and what the steps have made so far."""

    options: dict[str, Any]
    company: Any = None  # the demo company (set by the first step); the message names it
    built: bool = True  # False: the demo exists and nothing is built (--if-empty)
    summary: list[str] = field(default_factory=list)  # phrases of the closing line, in step order
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, role label, company


@dataclass(frozen=True)
class DemoStep:
    order: int
    name: str
    run: Callable[[DemoRun], None]
    arguments: Callable[[ArgumentParser], None] | None = None  # the step's own command-line options


_steps: dict[str, DemoStep] = {}


def register_demo_step(
    order: int,
    name: str,
    fn: Callable[[DemoRun], None],
    *,
    arguments: Callable[[ArgumentParser], None] | None = None,
) -> None:
    """Register (or replace, by name) one step of `kefu demo`; steps run by `order`, then name."""
    _steps[name] = DemoStep(order, name, fn, arguments)


def demo_steps() -> list[DemoStep]:
    """The registered steps, in the order they run."""
    return sorted(_steps.values(), key=lambda s: (s.order, s.name))


def run_demo_steps(run: DemoRun) -> DemoRun:
    """Run every step in order; stop once a step says the demo is already there."""
    for step in demo_steps():
        if not run.built:
            break
        step.run(run)
    return run


class SimulatedClock:
    """The time the demo says it is while it plays past days through the real services.

    `kefu demo` records a hotline's last few days as they would have happened: each work order is
    taken, dispatched, started and resolved at its own time, so everything that records a time —
    the work-order number (its day), the timeline, the audit log, the clocks' stops and breaches,
    the notifications — tells the truth. Inside `with clock.running():` `django.utils.timezone.now`
    and every model field whose default is that function return `clock.at`. Only for the demo
    command (one thread, no requests); never in a server process."""

    def __init__(self, at):
        self.at = at

    def now(self):
        return self.at

    @contextmanager
    def running(self):
        from django.apps import apps
        from django.utils import timezone

        original = timezone.now
        fields = [
            f
            for model in apps.get_models()
            for f in model._meta.concrete_fields
            if getattr(f, "default", None) is original
        ]
        timezone.now = self.now
        for f in fields:
            f.default = self.now
            f.__dict__.pop("_get_default", None)  # Field caches the default callable
        try:
            yield self
        finally:
            timezone.now = original
            for f in fields:
                f.default = original
                f.__dict__.pop("_get_default", None)
