"""The customer form of the web shell. It only parses; the services validate the rules and audit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.core.errors import DomainError
from kefu.customers.models import Customer, CustomerCategory
from kefu.customers.rules import MAX_LEN, clean_account_no

_FIELD_ALIASES = {"phones": "phones_text"}


class CustomerForm(forms.Form):
    account_no = forms.CharField(label=_("户号"), max_length=MAX_LEN["account_no"])
    name = forms.CharField(label=_("户名"), max_length=MAX_LEN["name"])
    category = forms.ChoiceField(label=_("类别"))
    phones_text = forms.CharField(
        label=_("电话"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "inputmode": "tel"}),
        help_text=_("每行一个号码，第一行为主要号码；可写 +86、空格、横线，本地座机自动补区号。"),
    )
    address = forms.CharField(
        label=_("用气地址"),
        max_length=MAX_LEN["address"],
        help_text=_("如 泰山区岱宗大街幸福小区3号楼2单元501室"),
    )
    district = forms.CharField(label=_("区县"), max_length=MAX_LEN["district"], required=False)
    street = forms.CharField(label=_("街道"), max_length=MAX_LEN["street"], required=False)
    supply_zone = forms.CharField(label=_("供气区域"), max_length=MAX_LEN["supply_zone"], required=False)
    status = forms.ChoiceField(
        label=_("状态"), choices=Customer.Status.choices, initial=Customer.Status.ACTIVE
    )
    status_reason = forms.CharField(
        label=_("状态变更原因"), max_length=MAX_LEN["status_reason"], required=False
    )
    notes = forms.CharField(
        label=_("备注"), required=False, max_length=MAX_LEN["notes"], widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, company, instance: Customer | None = None, **kwargs: Any):
        self.instance = instance
        if instance is not None:
            # Bound forms too: changed_data compares with this, so only real changes are sent.
            kwargs.setdefault("initial", _initial(instance))
        super().__init__(*args, **kwargs)
        cats = CustomerCategory.objects.filter(company=company).order_by("sort_order", "id")
        self.fields["category"].choices = [(c.code, c.name) for c in cats]
        if instance is not None:
            self.fields["account_no"].disabled = True
            self.fields["account_no"].required = False
            self.fields["version"].required = True
        else:
            del self.fields["status_reason"]

    def clean_account_no(self) -> str:
        """The account-number rule of kefu.customers.rules, shown at the field (the service checks it again)."""
        value = self.cleaned_data.get("account_no") or ""
        if self.instance is not None:  # shown, not editable
            return value
        try:
            return clean_account_no(value)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc

    def _phones(self) -> list[dict[str, Any]]:
        lines = [
            line.strip() for line in (self.cleaned_data.get("phones_text") or "").splitlines() if line.strip()
        ]
        return [{"number": n, "is_primary": i == 0} for i, n in enumerate(lines)]

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "account_no": d["account_no"],
            "name": d["name"],
            "category": d["category"],
            "phones": self._phones(),
            "status": d["status"],
            "notes": d["notes"],
            "address": d["address"],
            "district": d["district"],
            "street": d["street"],
            "supply_zone": d["supply_zone"],
        }

    def changes(self) -> dict[str, Any]:
        """Only what the person changed, so the audit diff and the status history stay honest."""
        d = self.cleaned_data
        out: dict[str, Any] = {}
        for name in self.changed_data:
            if name in ("version", "account_no", "status_reason"):
                continue
            if name == "phones_text":
                out["phones"] = self._phones()
            else:
                out[name] = d[name]
        if "status" in out:
            out["status_reason"] = d.get("status_reason") or ""
        return out

    def add_domain_error(self, exc: DomainError) -> None:
        field = (exc.field or "").split("[")[0].split(".")[0]
        field = _FIELD_ALIASES.get(field, field)
        self.add_error(field if field in self.fields else None, exc.message)


def _initial(c: Customer) -> dict[str, Any]:
    p = c.premise
    return {
        "account_no": c.account_no,
        "name": c.name,
        "category": c.category.code,
        "phones_text": "\n".join(c.phones.order_by("-is_primary", "id").values_list("number", flat=True)),
        "address": p.address if p else "",
        "district": p.district if p else "",
        "street": p.street if p else "",
        "supply_zone": p.supply_zone if p else "",
        "status": c.status,
        "notes": c.notes,
        "version": c.version,
    }
