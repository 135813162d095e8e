"""Project-level pages: the home page per role and the health check."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from kefu.accounts.roles import Perm, Role, role_allows


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on what it works with: agents on the caller lookup, auditors on the audit log,
    administrators on account management."""
    user = request.user
    tiles = []
    if role_allows(user, Perm.CUSTOMER_VIEW):
        tiles.append(("customers:search", "来电查询 / 客户查询", "按电话、户号、地址或姓名查找客户"))
    if role_allows(user, Perm.CUSTOMER_IMPORT):
        tiles.append(("customers:import", "客户导入", "从营业收费系统导入客户、地址、电话和燃气表"))
    if role_allows(user, Perm.AUDIT_VIEW):
        tiles.append(("accounts:audit", "审计日志", "登录、权限变更、个人信息查看和导出记录"))
    if role_allows(user, Perm.ACCOUNT_MANAGE):
        tiles.append(("admin:index", "系统管理", "用户、部门、班组、客户类别等基础数据"))
    tiles.append(("accounts:tokens", "API 令牌", "为集成系统或脚本创建、吊销令牌"))
    return render(request, "home.html", {"tiles": tiles, "role_label": Role(user.role).label})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers."""
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
