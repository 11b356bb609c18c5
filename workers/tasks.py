"""Thin tasks: take ids, call one service, return what happened.

The work itself and its state live in PostgreSQL (services/work.py); these
tasks only carry the wake-ups. Both are idempotent: run twice, they act once.
"""

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from services import census, work


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
    midnight has passed and not been recorded. Writes each (program, day) once."""
    return census.census_snapshot_fill()
