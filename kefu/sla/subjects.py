"""Subjects of commitment clocks: what sla needs to know about a thing it times, without importing
the app that owns it (ARCHITECTURE.md: `sla` is an engine and knows no domain app).

A clock is on a subject `(subject_type, subject_id)`, e.g. `("tickets.workorder", "42")`. The app
that owns the subject type writes one `clocks.py` with an adapter and registers it from its
`AppConfig.ready()` with `register_subject(adapter)` (docs/sla.md, "How an app owns clocks"). The
adapter tells sla:

- **attributes** for matching commitments (`attrs`: kind, sub_kind, customer_category, severity,
  channel — the applies-to filters of a commitment, C1–C20) and the codes a commitment editor may
  choose from (`attribute_choices`);
- **people**: whom to warn before a clock is due, and the team / department whose team lead,
  supervisor and manager are told of a warning, a breach and an escalation (P9; the levels come
  from `kefu.accounts.selectors.escalation_recipients`);
- a **label and a link** for notifications and the queues (`describe`);
- **visibility** for a user (`visible_ids`, `assert_visible`: S2);
- its **catch-up** (`catch_up`): the sweep over database state that gives subjects the clocks a lost
  event listener did not (the sla sweep runs every registered adapter's catch-up).

The subject owner maps its own facts to clock events (`kefu.sla.codes.Event`) and calls
`kefu.sla.services.clocks_on_event` / `clocks_start_new_subject`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from django.db.models import QuerySet


@dataclass(frozen=True)
class SubjectInfo:
    """One subject as a notification and a queue line show it, and whom it concerns."""

    label: str  # e.g. "工单 GD20261122-0042" (notifications)
    reference: str = ""  # its own short reference, e.g. "GD20261122-0042" (the queues' first column)
    url: str = ""  # its page, "" if none
    owner_name: str = ""  # the person accountable for it (shown in the queues)
    warn_user_ids: tuple[int, ...] = ()  # told directly when a clock is about to be due
    team_id: int | None = None  # whose team lead is warned
    department_id: int | None = None  # whose supervisor / manager is told of a breach


@dataclass
class CatchUpResult:
    """What an adapter's catch-up did in one sweep."""

    attached: int = 0  # subjects given their clocks
    repaired: int = 0  # subjects whose clocks were brought up to their facts
    errors: list[str] = field(default_factory=list)


@runtime_checkable
class SubjectAdapter(Protocol):
    """What a subject type tells sla (see the module docstring)."""

    #: the `Clock.subject_type` of this subject, e.g. "tickets.workorder"
    subject_type: str
    #: the URL segment of its clock list: GET /api/v1/sla/<api_segment>/{id}/clocks
    api_segment: str
    #: the model whose instances are the subjects ("app_label.model"), for templates
    model_label: str

    def attrs(self, subject: Any) -> dict[str, str]:
        """The applies-to attributes of one subject (empty string = not set)."""

    def attribute_choices(self) -> dict[str, list[tuple[str, str]]]:
        """Codes a commitment may filter on, per Commitment field (ticket_kind, severity, channel)."""

    def describe(self, subject_ids: Iterable[str]) -> dict[str, SubjectInfo]:
        """Label, link and people of many subjects at once (one or two queries)."""

    def visible_ids(self, user, *, team_id: int | None = None) -> QuerySet:
        """A queryset of the subject ids (as strings, one column) `user` may see, optionally only
        those of a team — usable in `Clock.objects.filter(subject_id__in=...)`."""

    def assert_visible(self, user, subject_id: str) -> None:
        """Raise kefu.core.errors.NotFound unless `user` may see the subject."""

    def catch_up(self, *, now: datetime, limit: int) -> CatchUpResult:
        """Give clocks to subjects whose event listener was lost (idempotent)."""


_adapters: dict[str, SubjectAdapter] = {}


def register_subject(adapter: SubjectAdapter) -> None:
    """Register the adapter of a subject type (from the owning app's AppConfig.ready())."""
    for name in ("subject_type", "api_segment", "model_label"):
        if not getattr(adapter, name, ""):
            raise ValueError(f"subject adapter {adapter!r} has no {name}")
    _adapters[adapter.subject_type] = adapter


def subject_adapter(subject_type: str) -> SubjectAdapter | None:
    """The adapter of a subject type, None if no app registered one."""
    return _adapters.get(subject_type)


def subject_adapters() -> list[SubjectAdapter]:
    return list(_adapters.values())


def adapter_for_segment(segment: str) -> SubjectAdapter | None:
    """The adapter whose clock list lives at /api/v1/sla/<segment>/{id}/clocks."""
    return next((a for a in _adapters.values() if a.api_segment == segment), None)


def adapter_for_model(obj: Any) -> SubjectAdapter | None:
    """The adapter whose subjects are instances of `obj`'s model."""
    meta = getattr(obj, "_meta", None)
    label = meta.label_lower if meta is not None else ""
    return next((a for a in _adapters.values() if a.model_label == label), None)


def attribute_choices(field_name: str) -> list[tuple[str, str]]:
    """The codes every registered subject type offers for one applies-to field, without repeats."""
    seen: dict[str, str] = {}
    for adapter in _adapters.values():
        for code, label in adapter.attribute_choices().get(field_name, []):
            seen.setdefault(code, label)
    return list(seen.items())
