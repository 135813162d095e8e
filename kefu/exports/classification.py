"""Data classification (S4, seed 001 篇6 五「客户资料管理规定」): one registry of the class of every
model that holds business data.

- 绝密 (top secret): customer contracts, customer development/follow-up records, customer data.
- 机密 (secret): records of calls and visits, hand-over logs, work diaries, survey analyses.
- 内部 (internal): everything not declared.

The kernel knows no domain app: each app declares its own models in its `AppConfig.ready()`:

    classify("customers.customer", Level.TOP_SECRET, category=_("客户资料"))

Screens show the class as a badge (`{% classification_badge "customers.customer" %}`) and every
exported file carries it in its watermark (kefu.exports.render).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    """The classes of the standard, lowest first."""

    INTERNAL = "internal", _("内部")  # not declared: may be exported by whoever may see it (logged)
    SECRET = "secret", _("机密")  # exported without approval, but watermarked and logged
    TOP_SECRET = "top_secret", _("绝密")  # exported only on a supervisor's approval (S3)


_RANK = {Level.INTERNAL: 0, Level.SECRET: 1, Level.TOP_SECRET: 2}


@dataclass(frozen=True)
class Classified:
    """One model's class and the standard's words for what it is (e.g. 客户资料)."""

    model: str  # "app_label.modelname", lower case
    level: Level
    category: str


_registry: dict[str, Classified] = {}


def _label(model) -> str:
    if isinstance(model, str):
        return model.lower()
    return model._meta.label_lower


def classify(model, level: Level, *, category: str) -> None:
    """Declare (or re-declare) the class of `model` (a model class or "app_label.modelname")."""
    label = _label(model)
    _registry[label] = Classified(label, Level(level), category)


def level_of(model) -> Level:
    """The class of a model (内部 when no app declared it)."""
    found = _registry.get(_label(model))
    return found.level if found else Level.INTERNAL


def category_of(model) -> str:
    """The standard's words for what the model holds ("" when not declared)."""
    found = _registry.get(_label(model))
    return str(found.category) if found else ""


def highest(levels: Iterable[Level | str]) -> Level:
    """The class of a file holding data of these classes: the highest one (内部 for none)."""
    return max((Level(v) for v in levels), key=_RANK.__getitem__, default=Level.INTERNAL)


def needs_approval(level: Level | str) -> bool:
    """S3: only 绝密 data needs a supervisor's approval before it leaves."""
    return Level(level) == Level.TOP_SECRET


def classification_table() -> list[Classified]:
    """Every declared model, highest class first, then by model."""
    return sorted(_registry.values(), key=lambda c: (-_RANK[c.level], c.model))
