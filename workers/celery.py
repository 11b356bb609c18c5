"""The Celery app, configured from Django settings (the CELERY_ namespace).

Redis carries wake-ups only: pending work is kept as PostgreSQL rows, so a
lost message is recovered by a sweep rather than lost (docs/architecture.md).
Without REDIS_URL, tasks run eagerly in the calling process (the demo).
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.local")

app = Celery("continuum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [
    Queue("default"),
    Queue("handoffs"),
    Queue("notifications"),
    Queue("followups"),
]
# A wake-up goes to the queue of its work's family (services.work.queue_for:
# handoffs, notifications, followups); everything else to default.
app.conf.task_routes = {
    "workers.sweep_due_work": {"queue": "default"},
    "workers.snapshot_census": {"queue": "default"},
    "workers.purge_idempotency_keys": {"queue": "default"},
    # Follow-up work has its own workers: a long scan at midnight never delays the sweep.
    "workers.scan_follow_ups": {"queue": "followups"},
}
app.conf.beat_schedule = {
    "sweep-due-work": {"task": "workers.sweep_due_work", "schedule": 60.0},
    # Sites have their own midnights: every quarter hour catches each soon after.
    "snapshot-census": {"task": "workers.snapshot_census", "schedule": 900.0},
    # Follow-ups turn due and missed at each site's midnight, caught within 15 minutes.
    "scan-follow-ups": {"task": "workers.scan_follow_ups", "schedule": 900.0},
    "purge-idempotency-keys": {"task": "workers.purge_idempotency_keys", "schedule": 3600.0},
}
app.autodiscover_tasks(["workers"])

# Request ids into tasks and onto the worker's log lines (workers/logs.py).
import workers.logs  # noqa: E402, F401


@app.task(name="workers.ping", ignore_result=True)
def ping() -> str:
    """A no-op round trip, used by health checks and the broker test."""
    return "pong"
