"""Hand-offs: what the receiving team must know and do before a client arrives.

Approving a transfer opens a Handoff with a checklist drawn from the
ChecklistTemplates that match the move; templates are data, edited in the
admin.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from backend.care.models import Transfer
from backend.network.models import LevelOfCare, Site


class ChecklistTemplate(models.Model):
    """Items for moves from `from_level` to `to_level`; a blank level matches any.

    Every active template that matches a move contributes its items, so
    "any step down to alumni: aftercare plan" is one template with no
    from_level and to_level alumni.
    """

    name = models.CharField(max_length=120, unique=True)
    from_level = models.ForeignKey(
        LevelOfCare, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_level = models.ForeignKey(
        LevelOfCare, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ChecklistTemplateItem(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=200)
    mandatory = models.BooleanField(default=True)

    class Meta:
        ordering = ["template", "position", "id"]

    def __str__(self) -> str:
        return self.label


class HandoffStatus(models.TextChoices):
    OPEN = "open", "Open (not yet acknowledged)"
    ACKNOWLEDGED = "acknowledged", "Acknowledged by the receiving team"
    CLOSED = "closed", "Closed (the client arrived)"
    CANCELLED = "cancelled", "Cancelled (the transfer was declined or cancelled)"


class Handoff(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="handoff")
    sending_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    receiving_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=12, choices=HandoffStatus.choices, default=HandoffStatus.OPEN
    )
    clinical_notes = models.TextField(blank=True)
    created_at = models.DateTimeField()
    acknowledge_due_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # 0: none; 1: the receiving site's managers were alerted; 2: the organisation admins.
    escalation_level = models.PositiveSmallIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set when the transfer was completed with mandatory items still open.
    override_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(escalation_level__lte=2), name="handoff_escalation_level_range"
            ),
            models.CheckConstraint(
                condition=Q(status="open", acknowledged_at__isnull=True) | ~Q(status="open"),
                name="handoff_open_means_unacknowledged",
            ),
        ]
        indexes = [models.Index(fields=["receiving_site", "status"], name="handoff_recv_status")]

    def __str__(self) -> str:
        return f"Hand-off of {self.transfer.client} to {self.receiving_site} ({self.status})"


class HandoffItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=200)
    mandatory = models.BooleanField(default=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["handoff", "position"]
        constraints = [
            models.UniqueConstraint(fields=["handoff", "position"], name="handoff_item_position"),
        ]

    def __str__(self) -> str:
        return self.label
