"""API shapes of the customer endpoints (P2, C15; issue 2 items 5, 6, 9)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Optional

from ninja import Field, Schema
from pydantic import ConfigDict

from kefu.customers.rules import MAX_LEN

Status = Literal["active", "suspended", "closed"]
PhoneKind = Literal["mobile", "landline", "other"]


class ErrorOut(Schema):
    detail: str = Field(examples=["该客户已被他人修改（当前版本 3），请刷新后重试。"])
    code: str = Field(examples=["stale"])
    field: Optional[str] = None


class CandidateOut(Schema):
    """One lookup result, masked (S2). `match`: phone / account / meter / address / name."""

    customer_id: int
    account_no: str
    name_masked: str = Field(examples=["张**"])
    phone_masked: str = Field(examples=["138****5678"])
    address_masked: str = Field(examples=["泰山区岱宗大街幸福小区3号楼2单元***室"])
    category: str = Field(examples=["居民"])
    status: str = Field(examples=["active"])
    care_needs: list[str] = Field(description="特殊关爱类别（老、弱、病、残）", examples=[["老", "残"]])
    match: str = Field(examples=["phone"])
    score: int


class PhoneOut(Schema):
    number: str
    kind: str
    kind_label: str
    is_primary: bool
    label: str


class MeterOut(Schema):
    serial: str
    kind: str
    kind_label: str
    installed_on: Optional[date]
    battery_replaced_on: Optional[date]
    is_active: bool


class CareOut(Schema):
    needs: list[str]
    note: str
    consent_on: date
    consent_by: str
    registered_at: datetime
    ended_on: Optional[date]
    is_active: bool


class StatusOut(Schema):
    status: str
    status_label: str
    effective_on: date
    reason: str


class CardOut(Schema):
    """The customer card: masked unless `unmasked` is true (then the view was logged, S2)."""

    customer_id: int
    account_no: str
    name: str
    category: str
    status: str
    status_label: str
    opened_on: Optional[date]
    suspended_on: Optional[date]
    closed_on: Optional[date]
    address: str
    district: str
    street: str
    community: str
    building: str
    unit: str
    room: str
    supply_zone: str
    phones: list[PhoneOut]
    meters: list[MeterOut]
    care: list[CareOut]
    care_needs: list[str]
    status_history: list[StatusOut]
    notes: str
    version: int = Field(description="乐观锁版本号：修改时原样传回")
    unmasked: bool


class PhoneIn(Schema):
    number: str = Field(
        max_length=40, description="任意写法：+86 138-0013-8000、(0538) 620-1234、6201234（补本地区号）"
    )
    is_primary: bool = False
    label: str = Field("", max_length=MAX_LEN["phone_label"])
    kind: Optional[PhoneKind] = Field(None, description="不填则按号码判断")


class _AddressIn(Schema):
    address: Optional[str] = Field(
        None, max_length=MAX_LEN["address"], description="书面地址；未单独给出楼/单元/室时从中解析"
    )
    district: Optional[str] = Field(None, max_length=MAX_LEN["district"])
    street: Optional[str] = Field(None, max_length=MAX_LEN["street"])
    community: Optional[str] = Field(None, max_length=MAX_LEN["community"])
    building: Optional[str] = Field(None, max_length=MAX_LEN["building"])
    unit: Optional[str] = Field(None, max_length=MAX_LEN["unit"])
    room: Optional[str] = Field(None, max_length=MAX_LEN["room"])
    supply_zone: Optional[str] = Field(None, max_length=MAX_LEN["supply_zone"])


class CustomerIn(_AddressIn):
    account_no: str = Field(
        max_length=MAX_LEN["account_no"],
        description="户号，公司内唯一：字母、数字、-、_、.，以字母或数字开头",
    )
    name: str = Field(max_length=MAX_LEN["name"])
    category: str = Field(max_length=MAX_LEN["category"], description="类别代码或名称：resident / 居民 …")
    phones: list[PhoneIn] = Field(default_factory=list, max_length=10)
    status: Status = "active"
    opened_on: Optional[date] = None
    notes: str = Field("", max_length=MAX_LEN["notes"])

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_no": "10023456",
                    "name": "张三丰",
                    "category": "居民",
                    "phones": [
                        {"number": "+86 138-0013-8000", "is_primary": True},
                        {"number": "620 1234", "label": "家里"},
                    ],
                    "address": "泰山区岱宗大街幸福小区3号楼2单元501室",
                    "district": "泰山区",
                    "supply_zone": "TS-03",
                }
            ]
        }
    )


class CustomerPatch(_AddressIn):
    """Only the fields sent are changed. `version` is the one the client read (optimistic lock)."""

    version: int = Field(ge=1, le=2_000_000_000)
    name: Optional[str] = Field(None, max_length=MAX_LEN["name"])
    category: Optional[str] = Field(None, max_length=MAX_LEN["category"])
    phones: Optional[list[PhoneIn]] = Field(None, max_length=10, description="给出则整体替换")
    status: Optional[Status] = None
    status_reason: Optional[str] = Field(None, max_length=MAX_LEN["status_reason"])
    status_effective_on: Optional[date] = None
    opened_on: Optional[date] = None
    notes: Optional[str] = Field(None, max_length=MAX_LEN["notes"])

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"version": 3, "status": "suspended", "status_reason": "用户申请停气"}]
        }
    )


class CareIn(Schema):
    needs: list[Literal["elderly", "weak", "ill", "disabled", "老", "弱", "病", "残"]] = Field(
        min_length=1, max_length=4
    )
    consent_on: date
    consent_by: str = Field(max_length=MAX_LEN["consent_by"], description="同意登记的本人或监护人")
    note: str = Field("", max_length=MAX_LEN["care_note"])

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "needs": ["老", "残"],
                    "consent_on": "2026-01-05",
                    "consent_by": "张三丰",
                    "note": "独居，行动不便",
                }
            ]
        }
    )


class CareCreatedOut(Schema):
    id: int
    needs: list[str]
    consent_on: date
