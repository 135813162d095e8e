"""Archiving old audit rows (S2, 等保 level 3: retention ≥ 180 days online; older rows move to a
file, never silently dropped).

`audit_archive(before=...)` writes every audit row older than `before` to a gzipped JSON-lines file,
records an AuditArchive row (the highest id, the count, the file's SHA-256), deletes exactly those
rows (the database trigger lets through only rows an AuditArchive covers) and logs AUDIT_ARCHIVED.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import AuditArchive, AuditEvent
from kefu.core.errors import DomainError


@dataclass(frozen=True)
class ArchiveResult:
    archive: AuditArchive | None
    count: int


def archive_dir() -> Path:
    return Path(settings.VAR_DIR) / "audit-archive"


def earliest_allowed_before(today: date) -> date:
    """The latest cut-off allowed: rows younger than the retention period stay online."""
    return today - timedelta(days=int(settings.KEFU_SECURITY["AUDIT_RETENTION_DAYS"]))


def _row(e: AuditEvent) -> dict:
    return {
        "id": e.pk,
        "at": e.at.isoformat(),
        "company_id": e.company_id,
        "actor_id": e.actor_id,
        "actor_label": e.actor_label,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "object_repr": e.object_repr,
        "result": e.result,
        "source_ip": e.source_ip,
        "detail": e.detail,
    }


def audit_archive(*, before: date, by_label: str = "command", directory: Path | None = None) -> ArchiveResult:
    """Archive every audit row with a time before `before` (local midnight). Refuses a cut-off
    younger than KEFU_SECURITY["AUDIT_RETENTION_DAYS"]."""
    limit = earliest_allowed_before(timezone.localdate())
    if before > limit:
        raise DomainError(
            _("审计日志至少在线保留 %(d)d 天：归档截止日期不能晚于 %(limit)s。")
            % {"d": settings.KEFU_SECURITY["AUDIT_RETENTION_DAYS"], "limit": limit.isoformat()},
            field="before",
        )
    cutoff = datetime.combine(before, time.min, tzinfo=timezone.get_current_timezone())
    directory = directory or archive_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        rows = AuditEvent.objects.filter(at__lt=cutoff).order_by("id")
        through_id = rows.values_list("id", flat=True).last()
        if through_id is None:
            return ArchiveResult(archive=None, count=0)
        rows = rows.filter(id__lte=through_id)
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
        path = directory / f"audit-before-{before.isoformat()}-{stamp}.jsonl.gz"
        digest = hashlib.sha256()
        count = 0
        try:
            with gzip.open(path, "wt", encoding="utf-8") as fh:
                for e in rows.iterator(chunk_size=5000):
                    fh.write(json.dumps(_row(e), ensure_ascii=False, sort_keys=True) + "\n")
                    count += 1
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            archive = AuditArchive.objects.create(
                through_id=through_id,
                before=cutoff,
                row_count=count,
                path=str(path),
                sha256=digest.hexdigest(),
                created_by=by_label,
            )
            # The trigger (migrations 0002/0003) allows exactly the rows this archive covers.
            table = connection.ops.quote_name(AuditEvent._meta.db_table)
            with connection.cursor() as cur:
                cur.execute(f'DELETE FROM {table} WHERE id <= %s AND "at" < %s', [through_id, cutoff])
                deleted = cur.rowcount
            if deleted != count:
                raise DomainError(
                    _("归档行数与删除行数不一致（%(a)d/%(b)d），已回滚。") % {"a": count, "b": deleted}
                )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        audit_record(
            action=Action.AUDIT_ARCHIVED,
            obj=archive,
            actor_label=by_label,
            object_repr=path.name,
            detail={
                "before": before.isoformat(),
                "count": count,
                "through_id": through_id,
                "sha256": archive.sha256,
                "path": str(path),
            },
        )
    return ArchiveResult(archive=archive, count=count)
