"""The export registry (S3): every way data leaves kefu as a file is one registered kind.

An app that offers a download registers a kind in its `AppConfig.ready()` and never writes a file
itself; kefu.exports decides whether the export needs an approval (the class of the data, S4),
refuses it over the row limit, watermarks the file and writes the audit rows:

    register_export(ExportKind(
        code="tickets.list", label=_("工单列表"), fmt="xlsx", filename="tickets",
        allowed=may_export_tickets, refusal=_("您的角色无权导出工单列表。"),
        models=lambda user, params: ("tickets.ticket",), build=build_ticket_list,
    ))

`build(user, params)` reads the data the way `user` may see it and returns the sheets with their
row counts and lazy rows; it runs once to size a request and again when the file is produced (at
once for 机密 and 内部, on approval for 绝密 — as the requester, never as the approver).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kefu.core.errors import NotFound
from kefu.exports.classification import Level, highest, level_of

Params = dict[str, Any]


@dataclass
class Sheet:
    """One table of a file: a title (the sheet's name in Excel), the header, the rows (an iterable
    read once, when the file is written) and how many rows it will yield."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    count: int
    widths: Sequence[int] = ()


@dataclass
class ExportData:
    """What `build` returns: the sheets, a readable description of what is exported ("状态：待处理；
    关键词：3-2-501") and the facts the audit row keeps (filters, masked or not)."""

    sheets: list[Sheet]
    description: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """Rows in the file (all sheets): what the row limit counts."""
        return sum(s.count for s in self.sheets)


@dataclass(frozen=True)
class ExportKind:
    code: str  # "tickets.list": app label and what
    label: Any  # lazy text, "工单列表"
    fmt: Literal["csv", "xlsx"]
    filename: str  # the file's stem, ASCII: "tickets" → tickets-DC-20261203-0042.xlsx
    allowed: Callable[[Any], bool]  # may this user export this kind at all (role)
    refusal: Any  # the message when not
    models: Callable[[Any, Params], Sequence[str]]  # the models the file holds → its class (S4)
    build: Callable[[Any, Params], ExportData]
    max_rows: int | None = None  # None: settings.KEFU_EXPORT_MAX_ROWS
    audit_action: str = "data.exported"  # the action of the audit row of each delivery
    object_type: str = ""  # the audit rows' object type ("tickets.ticket")

    def level(self, user, params: Params) -> Level:
        """The class of this export for this user and these parameters (S4)."""
        return highest(level_of(m) for m in self.models(user, params))


_kinds: dict[str, ExportKind] = {}


def register_export(kind: ExportKind) -> None:
    """Register (or replace, by code) one kind of export."""
    _kinds[kind.code] = kind


def export_kind(code: str) -> ExportKind:
    """The registered kind, or 404 (an unknown kind in a request or URL)."""
    from django.utils.translation import gettext as _

    try:
        return _kinds[code]
    except KeyError:
        raise NotFound(_("没有这种导出。"), code="not_found") from None


def export_kinds() -> list[ExportKind]:
    """Every registered kind, by code."""
    return [_kinds[c] for c in sorted(_kinds)]


def params_from_query(
    query, *, drop: tuple[str, ...] = ("page", "export", "kind", "csrfmiddlewaretoken")
) -> Params:
    """A query string (QueryDict) as request parameters: {name: [values]} without paging and
    the export switch itself — what the request keeps and `build` reads back."""
    return {k: [str(v) for v in query.getlist(k)] for k in sorted(query.keys()) if k not in drop}


def params_to_query(params: Params):
    """The parameters back as a QueryDict, for the form that parses a list's filters."""
    from django.http import QueryDict

    q = QueryDict(mutable=True)
    for k, v in (params or {}).items():
        q.setlist(str(k), [str(x) for x in v] if isinstance(v, (list, tuple)) else [str(v)])
    return q


def clean_params(raw: Any) -> Params:
    """Parameters from outside (a form's JSON, the API): a flat object of text or lists of text.
    Anything else is refused (400), never stored."""
    from django.utils.translation import gettext as _

    from kefu.core.errors import DomainError

    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict) or len(raw) > 50:
        raise DomainError(_("导出条件格式有误。"), field="params")
    out: Params = {}
    for k, v in raw.items():
        values = v if isinstance(v, (list, tuple)) else [v]
        if not isinstance(k, str) or len(k) > 50 or len(values) > 50:
            raise DomainError(_("导出条件格式有误。"), field="params")
        if any(not isinstance(x, (str, int, float, bool)) or len(str(x)) > 200 for x in values):
            raise DomainError(_("导出条件格式有误。"), field="params")
        out[k] = [str(x) for x in values]
    return out
