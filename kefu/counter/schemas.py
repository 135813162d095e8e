"""API shapes of the counter app (/api/v1/counter/, OpenAPI with examples)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

ID = Field(..., ge=1, le=2**62)
Money = Field(..., ge=0, le=1_000_000, max_digits=12, decimal_places=2)


class ErrorOut(Schema):
    detail: str
    code: str = "invalid"
    field: str | None = None


class WindowOut(Schema):
    id: int
    number: int
    is_open: bool
    clerk: str | None
    business_types: list[str]


class HallOut(Schema):
    id: int
    code: str
    name: str
    target_seconds: int
    windows: list[WindowOut]


class TakeIn(Schema):
    hall_id: int = ID
    business_type_id: int = ID
    phone: str = Field("", max_length=20, description="手机号（选填）")
    account_no: str = Field("", max_length=30, description="户号（选填）")
    window_id: int | None = Field(None, ge=1, le=2**62, description="迎宾引导到的窗口（人少的窗口）")

    model_config = {
        "json_schema_extra": {"examples": [{"hall_id": 1, "business_type_id": 2, "phone": "13800138000"}]}
    }


class SendIn(Schema):
    window_id: int | None = Field(None, ge=1, le=2**62, description="空：回到公共队列")


class QueueOut(Schema):
    id: int
    number: str
    business_type: str
    status: str
    window: str | None
    window_hint: str | None
    token: str
    taken_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    wait_seconds: int | None
    service_seconds: int | None
    rating: int | None


class StartIn(Schema):
    account_no: str = Field("", max_length=30)


class ServiceIn(Schema):
    business_type_id: int = ID
    documents_checked: list[str] = Field(default_factory=list, max_length=30)
    outcome: Literal["on_spot", "work_order"]
    note: str = Field("", max_length=2000)
    ticket_kind: str = Field("", max_length=40)
    caller_surname: str = Field("", max_length=4)
    caller_phone: str = Field("", max_length=20)
    address: str = Field("", max_length=200)


class ServiceOut(Schema):
    id: int
    business_type: str
    outcome: str
    ticket_id: int | None
    ticket_number: str
    documents_checked: list[str]
    note: str


class FinishIn(Schema):
    anything_else_asked: bool = Field(..., description="已询问“还有其他需要办理的吗”（必须为 true）")


class RateIn(Schema):
    rating: int = Field(..., ge=1, le=5, description="1 非常不满意 … 5 非常满意")
    comment: str = Field("", max_length=200)


class PriceItemIn(Schema):
    code: str = Field(..., min_length=1, max_length=30)
    name: str = Field(..., min_length=1, max_length=100)
    unit: str = Field("次", max_length=20)
    amount: Decimal = Money
    to_billing: bool = False


class PriceListIn(Schema):
    effective_from: date
    basis: str = Field("", max_length=200)
    items: list[PriceItemIn] = Field(..., min_length=1, max_length=500)


class PriceItemOut(Schema):
    code: str
    name: str
    unit: str
    amount: Decimal
    to_billing: bool


class PriceListOut(Schema):
    id: int
    version: int
    effective_from: date
    basis: str
    items: list[PriceItemOut]


class LineIn(Schema):
    code: str = Field(..., min_length=1, max_length=30)
    quantity: int = Field(1, ge=1, le=1000)


class PaymentIn(Schema):
    hall_id: int = ID
    lines: list[LineIn] = Field(..., min_length=1, max_length=50)
    method: Literal["cash", "card", "wechat", "alipay"] = "cash"
    tendered: Decimal | None = Field(None, ge=0, le=1_000_000, max_digits=12, decimal_places=2)
    account_no: str = Field("", max_length=30)
    payer: str = Field("", max_length=100)
    queue_ticket_id: int | None = Field(None, ge=1, le=2**62)
    idempotency_key: str = Field("", max_length=100, description="重试时相同的键只收一次款")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "hall_id": 1,
                    "lines": [{"code": "IC-CARD", "quantity": 1}],
                    "method": "cash",
                    "tendered": "50",
                }
            ]
        }
    }


class PaymentLineOut(Schema):
    code: str
    name: str
    unit_amount: Decimal
    quantity: int
    amount: Decimal


class PaymentOut(Schema):
    id: int
    receipt_no: str
    at: datetime
    total: Decimal
    method: str
    tendered: Decimal | None
    change: Decimal
    refunded: Decimal
    account_no: str
    price_list_version: int
    billing_status: str
    lines: list[PaymentLineOut]
    receipt_url: str


class RefundIn(Schema):
    amount: Decimal = Field(..., gt=0, le=1_000_000, max_digits=12, decimal_places=2)
    reason: str = Field(..., min_length=1, max_length=300)


class DecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=300)


class RefundOut(Schema):
    id: int
    payment_id: int
    amount: Decimal
    reason: str
    status: str
    refund_no: str


class BalanceIn(Schema):
    hall_id: int = ID
    opening_float: Decimal = Field(Decimal("0"), ge=0, le=1_000_000, max_digits=12, decimal_places=2)
    counted_cash: Decimal = Money
    note: str = Field("", max_length=300)


class ReceiveIn(Schema):
    received_amount: Decimal = Money


class BalanceOut(Schema):
    id: int
    day: date
    clerk: str
    opening_float: Decimal
    cash_in: Decimal
    cash_out: Decimal
    expected_cash: Decimal
    counted_cash: Decimal
    discrepancy: Decimal
    note: str
    status: str
    receipts: dict
    received_by: str | None
    received_at: datetime | None


class ReportOut(Schema):
    date_from: date
    date_to: date
    taken: int
    done: int
    no_show: int
    target_seconds: int | None
    within_target: int
    within_pct: float | None
    avg_wait: int | None
    max_wait: int | None
    avg_service: int | None
    rated: int
    avg_rating: float | None
    satisfied_pct: float | None
