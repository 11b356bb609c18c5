"""`python manage.py run_scheduler`: the embedded demo's beat, without Redis.

Every --interval seconds it runs the sweep, which (with no broker, tasks
eager) performs due work in this process: escalations, reminders, email; and
every 15 minutes it records the midnight census of days that have ended and
scans the follow-ups (due and missed at each site's day, nudges, digests).
With Redis, run `celery -A workers worker` and `celery -A workers beat` instead.
"""

import time

from django.core.management.base import BaseCommand

from services.census import census_snapshot_fill
from services.followup_work import follow_up_scan
from services.work import work_sweep

SNAPSHOT_EVERY = 900.0  # seconds, as the beat schedule (workers/celery.py)


class Command(BaseCommand):
    help = "Run due work every --interval seconds in this process (the demo's scheduler)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=60.0)
        parser.add_argument("--once", action="store_true", help="One sweep, then exit.")

    def handle(self, *args, interval: float, once: bool, **options):
        self.stdout.write(f"Scheduler: sweeping due work every {interval:g} s (Ctrl-C stops).")
        last_snapshot = None
        while True:
            woken = work_sweep()
            if woken:
                self.stdout.write(f"Ran {woken} due work item(s).")
            if last_snapshot is None or time.monotonic() - last_snapshot >= SNAPSHOT_EVERY:
                last_snapshot = time.monotonic()
                recorded = census_snapshot_fill()
                if recorded:
                    self.stdout.write(f"Recorded {recorded} midnight census figure(s).")
                scanned = follow_up_scan()
                if scanned["due"] or scanned["missed"]:
                    self.stdout.write(
                        f"Follow-ups: {scanned['due']} now due, {scanned['missed']} missed."
                    )
            if once:
                return
            time.sleep(interval)
