"""The knowledge base (知识库, P3): approved answers the desk searches as the agent types; every change
is a proposed version that a supervisor approves (followup.approve) before agents see it."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.core.errors import DomainError, NotFound
from kefu.followups.models import Article, ArticleVersion
from kefu.followups.services.common import FOLLOWUP_APPROVE, require, require_company, text


def search_text(title: str, keywords: str, body: str) -> str:
    """What the desk's search matches: title, keywords and answer, lower-cased."""
    return f"{title}\n{keywords}\n{body}".lower()


def kb_propose(
    *, by, category: str, title: str, body: str, keywords: str = "", article_id: int | None = None
) -> ArticleVersion:
    """Propose a new article, or a new version of one; it waits for a supervisor's approval."""
    cid = require_company(by)
    require(by, Perm.TICKET_CREATE)
    if category not in Article.Category.values:
        raise DomainError(_("知识分类无效。"), field="category")
    title = text(title, field="title", label=_("标题"), limit=120)
    body = text(body, field="body", label=_("答案"), limit=10000)
    keywords = text(keywords, field="keywords", label=_("关键词"), required=False, limit=200)
    with transaction.atomic():
        if article_id is None:
            article = Article.objects.create(company_id=cid, category=category)
        else:
            article = Article.objects.select_for_update().filter(company_id=cid, pk=article_id).first()
            if article is None:
                raise NotFound(_("没有找到该知识条目。"), code="not_found")
        number = (article.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        return ArticleVersion.objects.create(
            company_id=cid,
            article=article,
            number=number,
            title=title,
            body=body,
            keywords=keywords,
            proposed_by=by,
        )


def kb_decide(*, by, version_id: int, approve: bool, note: str = "") -> ArticleVersion:
    """A supervisor approves a proposed version (it becomes the article's answer, searchable at once)
    or sends it back with a note. Nobody approves their own proposal."""
    cid = require_company(by)
    require(by, FOLLOWUP_APPROVE, _("只有主管或经理可以审核知识库修改。"))
    if not isinstance(approve, bool):
        raise DomainError(_("请选择批准或退回。"), field="approve")
    note = text(note, field="note", label=_("审核意见"), required=not approve, limit=200)
    with transaction.atomic():
        v = ArticleVersion.objects.select_for_update().filter(company_id=cid, pk=version_id).first()
        if v is None:
            raise NotFound(_("没有找到该版本。"), code="not_found")
        if v.status != ArticleVersion.Status.PENDING:
            raise DomainError(_("该版本已审核。"), code="decided")
        if v.proposed_by_id == by.pk:
            raise DomainError(_("不能审核自己提交的修改。"), code="own_proposal")
        now = timezone.now()
        v.status = ArticleVersion.Status.APPROVED if approve else ArticleVersion.Status.REJECTED
        v.decided_by, v.decided_at, v.decision_note = by, now, note
        v.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if approve:
            Article.objects.filter(pk=v.article_id).update(
                title=v.title,
                body=v.body,
                keywords=v.keywords,
                version=v.number,
                is_published=True,
                search_text=search_text(v.title, v.keywords, v.body),
                updated_at=now,
            )
    return v


def kb_withdraw(*, by, article_id: int) -> Article:
    """A supervisor takes an article off the desk (e.g. an interruption that is over)."""
    cid = require_company(by)
    require(by, FOLLOWUP_APPROVE, _("只有主管或经理可以下架知识条目。"))
    updated = Article.objects.filter(company_id=cid, pk=article_id).update(
        is_published=False, updated_at=timezone.now()
    )
    if not updated:
        raise NotFound(_("没有找到该知识条目。"), code="not_found")
    return Article.objects.get(pk=article_id)
