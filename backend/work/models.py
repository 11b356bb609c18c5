"""Pending work, kept in PostgreSQL: the broker only carries wake-ups.

A WorkItem is one thing to do at or after `due_at` (tell a team about a
hand-off, escalate it, remind both sides, deliver an email). Its `key` makes
scheduling idempotent; its status says whether it was done. Workers claim
a row under a lock, act and mark it done in the same transaction, so work
is done once even when a task is delivered twice or a worker dies.
"""

import uuid

from django.db import models
from django.db.models import Q


class WorkStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed (gave up after its attempts)"
    CANCELLED = "cancelled", "Cancelled (no longer needed)"


class WorkItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=40)
    # "handoff:<id>:escalate:1": scheduling the same key twice is a no-op.
    key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=WorkStatus.choices, default=WorkStatus.PENDING)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    last_error = models.TextField(blank=True)
    # When a wake-up was last sent through the broker; the sweep re-sends
    # only wake-ups older than its grace period.
    woken_at = models.DateTimeField(null=True, blank=True)
    # A run of a kind whose effect happens outside any transaction (a webhook's
    # POST) claims the row until then: no other run takes it before, and a run
    # that died leaves it to the sweep after. Null when nobody holds it.
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The sweep reads only pending rows by due time: its cost does not
            # grow with the work already done.
            models.Index(fields=["due_at"], condition=Q(status="pending"), name="work_pending_due"),
            models.Index(fields=["kind", "status"], name="work_kind_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=WorkStatus.values), name="work_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"
