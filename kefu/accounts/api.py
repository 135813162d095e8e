"""Account endpoints: who am I, and my API tokens."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Router, Status

from kefu.accounts import services
from kefu.accounts.models import ApiToken
from kefu.accounts.roles import ROLE_PERMISSIONS, Role
from kefu.accounts.schemas import MeOut, TokenCreatedOut, TokenIn, TokenOut

router = Router(tags=["accounts"])


@router.get("/me", response=MeOut, summary="当前用户及其权限")
def me(request):
    u = request.user
    return MeOut(
        id=u.pk,
        username=u.username,
        employee_no=u.employee_no,
        full_name=u.full_name,
        role=u.role,
        role_label=str(Role(u.role).label),
        company_id=u.company_id,
        company_name=u.company.name if u.company else None,
        department=u.department.name if u.department else None,
        permissions=sorted(ROLE_PERMISSIONS.get(u.role, ())),
    )


@router.get("/tokens", response=list[TokenOut], summary="我的 API 令牌")
def list_tokens(request):
    return list(ApiToken.objects.filter(user=request.user).order_by("-created_at"))


@router.post("/tokens", response={201: TokenCreatedOut}, summary="创建 API 令牌（密钥只返回一次）")
def create_token(request, payload: TokenIn):
    row, raw = services.token_create(
        user=request.user, name=payload.name, scopes=payload.scopes, expires_at=payload.expires_at
    )
    return Status(201, TokenCreatedOut(**TokenOut.model_validate(row).model_dump(), token=raw))


@router.post("/tokens/{token_id}/revoke", response=TokenOut, summary="吊销 API 令牌")
def revoke_token(request, token_id: int):
    token = get_object_or_404(services.tokens_visible_to(request.user), pk=token_id)
    return services.token_revoke(token=token, by=request.user)
