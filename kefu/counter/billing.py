"""The billing adapter (P12): kefu is not the billing system (营业收费系统). Gas purchases and bills
stay there; kefu records the counter's service fees and passes a payment on when its price item
says so (`PriceItem.to_billing`), through the adapter named by `KEFU_COUNTER_BILLING`:

- `"none"` (default): nothing is passed on (`BillingStatus.NONE`).
- `"record"`: an in-process adapter that keeps what it was sent (tests, the demo, a dry run).
- a dotted path to a class with the `BillingAdapter` methods (a utility's own integration).

A payment to pass on is `pending` when it commits; `billing_push` sends it after the commit and
marks it `sent` (with the billing system's reference) or `failed`; `billing_retry_pending` is the
sweep that sends whatever a lost trigger or a failure left (state lives in the database).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class BillingPayment:
    """What the billing system is told about a payment (no personal data beyond the account)."""

    company_code: str
    receipt_no: str
    account_no: str
    total: Decimal
    method: str
    at: str  # ISO 8601, UTC
    lines: tuple[tuple[str, int, Decimal], ...]  # item code, quantity, amount


class BillingAdapter(Protocol):
    enabled: bool

    def post_payment(self, payment: BillingPayment) -> str:
        """Record the payment in billing; return billing's reference. Idempotent by receipt_no."""

    def post_refund(self, *, receipt_no: str, refund_no: str, amount: Decimal) -> str:
        """Record a refund of a payment passed on earlier."""


class NoBilling:
    enabled = False

    def post_payment(self, payment: BillingPayment) -> str:
        return ""

    def post_refund(self, *, receipt_no: str, refund_no: str, amount: Decimal) -> str:
        return ""


class RecordingBilling:
    """Keeps what it is sent (per process); `fail` makes the next calls raise (tests)."""

    enabled = True
    sent: dict[str, BillingPayment] = {}
    refunds: list[tuple[str, str, Decimal]] = []
    fail = False

    def post_payment(self, payment: BillingPayment) -> str:
        if RecordingBilling.fail:
            raise ConnectionError("billing unreachable")
        RecordingBilling.sent[payment.receipt_no] = payment
        return f"BILL-{payment.receipt_no}"

    def post_refund(self, *, receipt_no: str, refund_no: str, amount: Decimal) -> str:
        if RecordingBilling.fail:
            raise ConnectionError("billing unreachable")
        RecordingBilling.refunds.append((receipt_no, refund_no, amount))
        return f"BILL-{refund_no}"


def billing_adapter() -> BillingAdapter:
    name = getattr(settings, "KEFU_COUNTER_BILLING", "none") or "none"
    if name == "none":
        return NoBilling()
    if name == "record":
        return RecordingBilling()
    return import_string(name)()
