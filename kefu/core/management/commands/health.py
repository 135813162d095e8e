"""`kefu health`: the health check of `/healthz` on the command line (for cron, systemd, monitoring).

Prints the JSON report and exits 0 when healthy, 1 when a check fails (the last completed clock
sweep older than KEFU_HEALTH_SWEEP_MAX_AGE seconds, the database not answering, an import left
running by a dead worker).
"""

import json

from django.core.management.base import BaseCommand, CommandError

from kefu.core.health import health_report


class Command(BaseCommand):
    help = "检查系统健康状况（数据库、时限巡检、导入）；异常时退出码非零。Check health; exit 1 if unhealthy."

    def add_arguments(self, parser):
        parser.add_argument("--database-only", action="store_true", help="only check the database")

    def handle(self, *args, **options):
        report = health_report(database_only=options["database_only"])
        self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
        if report["status"] != "ok":
            failed = ", ".join(k for k, v in report["checks"].items() if not v["ok"])
            raise CommandError(f"不健康：{failed}", returncode=1)
