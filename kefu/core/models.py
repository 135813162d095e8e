"""Kernel tables: the leases that keep periodic jobs from overlapping (kefu.core.leases)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Lease(models.Model):
    """A named lease with a holder and an expiry, and the time of its last completed run.

    A periodic job (the clock sweep, import housekeeping) holds its lease while it runs, so two
    workers never run it at the same time; the lease expires on its own, and a holder that died is
    detected at once, so a killed worker never blocks the job for ever. `completed_at` is what the
    health check (`/healthz`, `kefu health`) reads.
    """

    name = models.CharField(_("名称"), max_length=100, primary_key=True)
    holder = models.CharField(
        _("持有者"), max_length=200, blank=True, help_text=_("主机:进程号:启动时刻；空表示未被持有")
    )
    acquired_at = models.DateTimeField(_("获得时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("上次完成时间"), null=True, blank=True)
    completed_by = models.CharField(_("上次完成者"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("任务租约")

    def __str__(self) -> str:
        return self.name
