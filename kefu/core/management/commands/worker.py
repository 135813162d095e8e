"""`kefu worker`: the background worker — huey's consumer with kefu's settings.

Runs queued jobs (imports, notices) and the periodic jobs each app declares in its `tasks.py`
(found by djhuey; the kernel names no app). Periodic jobs hold a `kefu.core.leases` lease, which
expires and is taken over at once from a dead holder, so a worker killed with SIGKILL restarts into
working sweeps; huey's own task locks are flushed at start (none is used any more, but an older
version's lock left in the queue store would otherwise block its task for ever). Several workers may
run on several hosts when KEFU_REDIS_URL is set; every job claims its rows in the database, so
nothing runs twice.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "运行后台任务进程（导入、通知、时限巡检）。Run the background worker."

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers", "-w", type=int, default=None, help="worker threads (default from settings)"
        )

    def handle(self, *args, **options):
        extra = ["--workers", str(options["workers"])] if options["workers"] else []
        call_command("run_huey", "--flush-locks", *extra)
