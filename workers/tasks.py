"""Thin tasks: take ids, call one service, return what happened.

The work itself and its state live in PostgreSQL (services/work.py); these
tasks only carry the wake-ups. Each is idempotent: run twice, it acts once.
"""

from celery import shared_task
from django.db import DatabaseError, InterfaceError
from django.utils import timezone

from services import census, followup_work, idempotency, work


@shared_task(
    name=work.RUN_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    # Only the database being unreachable is retried here; a handler's own
    # failure is recorded on the row, which schedules its retry with backoff.
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    ignore_result=True,
)
def run_work_item(item_id: str) -> str:
    return work.work_run(item_id)


@shared_task(name="workers.sweep_due_work", ignore_result=True)
def sweep_due_work() -> int:
    """Every minute (beat): wake workers for due work that nobody is doing."""
    return work.work_sweep()


@shared_task(name="workers.snapshot_census", ignore_result=True)
def snapshot_census() -> int:
    """Every 15 minutes (beat): record the midnight census of each site whose
    midnight has passed and not been recorded. Writes each (program, day) once;
    0 when another run is recording."""
    return census.census_snapshot_fill() or 0


@shared_task(name="workers.scan_follow_ups", ignore_result=True)
def scan_follow_ups() -> dict[str, int]:
    """Every 15 minutes (beat): move follow-ups to due and missed at each site's
    local day, and schedule their nudges, digests and escalations as work items.
    Importing services.followup_work here also registers its handlers."""
    return followup_work.follow_up_scan()


@shared_task(name="workers.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys() -> int:
    """Hourly (beat): forget partners' idempotency keys older than 24 hours.
    A key past its time is also freed when it is next used, so this only keeps
    the table small."""
    return idempotency.idempotency_purge(now=timezone.now())
