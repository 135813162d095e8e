"""Customer endpoints (P2, C15; issue 2 items 5, 6, 9): caller lookup, the customer card, create and
update with phones, the care registry. Thin: parse, call one selector or service, return.

Company scoping and roles are enforced by the selectors and services; errors are kefu.core.errors
(4xx JSON with a Chinese message, see kefu/api.py).
"""

from __future__ import annotations

from ninja import Path, Query, Router, Status

from kefu.customers import selectors, services
from kefu.customers.schemas import (
    CandidateOut,
    CardOut,
    CareCreatedOut,
    CareIn,
    CustomerIn,
    CustomerPatch,
    ErrorOut,
)

router = Router(tags=["customers"])

MAX_ID = 2**63 - 1
_ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.get(
    "/lookup",
    response=list[CandidateOut],
    summary="来电查询：按电话、户号、表号、地址或姓名查找客户",
    description=(
        "一个查询框：输入电话（任意写法，本地号码自动补区号）、户号、表号、地址片段（如“幸福小区3-2-501”、"
        "“3号楼2单元501”、“3栋2单元501室”，可加姓氏：“张 3-2-501”）或姓名/姓氏。结果按匹配程度排序，"
        "个人信息已脱敏，特殊关爱标记（老、弱、病、残）直接显示。只返回本公司（集团只读用户为本集团）的客户。"
    ),
    openapi_extra={
        "parameters": [
            {
                "in": "query",
                "name": "q",
                "examples": {"phone": {"value": "138 0013 8000"}, "address": {"value": "幸福小区3-2-501"}},
            }
        ]
    },
)
def lookup(
    request, q: str = Query(..., max_length=100, description="查询内容"), limit: int = Query(20, ge=1, le=50)
):
    return selectors.caller_lookup(user=request.user, query=q, limit=limit)


@router.get(
    "/{customer_id}",
    response={200: CardOut, **_ERRORS},
    summary="客户卡片（默认脱敏；unmasked=true 需相应角色，且记入审计日志）",
)
def card(
    request,
    customer_id: int = Path(..., ge=1, le=MAX_ID),
    unmasked: bool = Query(False, description="显示完整信息"),
):
    return selectors.customer_card(user=request.user, customer_id=customer_id, unmasked=unmasked)


@router.post("/", response={201: CardOut, **_ERRORS}, summary="新建客户（含电话和用气地址）")
def create(request, payload: CustomerIn):
    data = payload.dict()
    address = {k: v for k, v in data.items() if k in services.ADDRESS_FIELDS and v is not None}
    customer = services.customer_create(
        user=request.user,
        account_no=data["account_no"],
        name=data["name"],
        category=data["category"],
        phones=data["phones"] or [],
        status=data["status"],
        opened_on=data["opened_on"],
        notes=data["notes"],
        **address,
    )
    return Status(201, selectors.customer_card(user=request.user, customer_id=customer.pk))


@router.patch(
    "/{customer_id}",
    response={200: CardOut, **_ERRORS},
    summary="修改客户（乐观锁：version 过期返回 409）",
)
def update(request, payload: CustomerPatch, customer_id: int = Path(..., ge=1, le=MAX_ID)):
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    # An explicit null means "not changing it", except for the optional fields it can clear.
    changes = {k: v for k, v in changes.items() if v is not None or k in ("opened_on", "notes")}
    customer = services.customer_update(
        user=request.user, customer_id=customer_id, version=version, changes=changes
    )
    return selectors.customer_card(user=request.user, customer_id=customer.pk)


@router.post(
    "/{customer_id}/care",
    response={201: CareCreatedOut, **_ERRORS},
    summary="特殊关爱登记（老、弱、病、残，须本人或监护人同意）",
)
def care_register(request, payload: CareIn, customer_id: int = Path(..., ge=1, le=MAX_ID)):
    reg = services.care_register(
        user=request.user,
        customer_id=customer_id,
        needs=payload.needs,
        consent_on=payload.consent_on,
        consent_by=payload.consent_by,
        note=payload.note,
    )
    return Status(201, CareCreatedOut(id=reg.pk, needs=reg.need_labels(), consent_on=reg.consent_on))
