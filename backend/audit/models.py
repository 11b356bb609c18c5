"""The audit trail: every read and write of a client's record, append-only."""

import uuid

from django.conf import settings
from django.db import models

USER_AGENT_MAX_LENGTH = 300


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    ADMIT = "admit", "Admitted"
    DISCHARGE = "discharge", "Discharged"
    TRANSFER_REQUEST = "transfer_request", "Transfer requested"
    TRANSFER_APPROVE = "transfer_approve", "Transfer approved"
    TRANSFER_DECLINE = "transfer_decline", "Transfer declined"
    TRANSFER_CANCEL = "transfer_cancel", "Transfer cancelled"
    TRANSFER_COMPLETE = "transfer_complete", "Transfer completed"
    HANDOFF_ACKNOWLEDGE = "handoff_acknowledge", "Hand-off acknowledged"
    HANDOFF_ITEM_COMPLETE = "handoff_item_complete", "Hand-off item completed"


class AuditEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(max_length=30, choices=AuditAction.choices)
    # What was touched: "client", "episode", "placement", "transfer", "journey".
    object_type = models.CharField(max_length=30)
    object_id = models.UUIDField()
    # The client whose record it is, for "who looked at this client's record".
    client_id = models.UUIDField(db_index=True)
    detail = models.JSONField(default=dict, blank=True)
    # Where from: the request's client address and user agent (backend/audit/middleware.py).
    # Null for work done outside a request (a worker's task, a command); a request that
    # sent no user agent stores "", so the two stay apart.
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(  # noqa: DJ001 (null: no request, as above)
        max_length=USER_AGENT_MAX_LENGTH, null=True, blank=True
    )

    class Meta:
        ordering = ["-at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type}"
