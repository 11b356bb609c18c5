"""Clients and their course through the continuum.

An Episode is one continuous course of treatment (FHIR EpisodeOfCare); a
Placement is the client's stay in one program (an Encounter's location); a
Transfer is the request to move from the current placement to another program.

The invariants that matter are database constraints, so that no code path,
however it reaches the database, can break them; services/ gives the friendly
message first. The no-overlap rule for placements is a PostgreSQL exclusion
constraint added by migration 0002 (SQLite, the single-writer demo database,
relies on the services' checks).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from backend.network.models import Program


class Client(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mrn = models.CharField("medical record number", max_length=20, unique=True)
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    preferred_name = models.CharField(max_length=80, blank=True)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    # The site that registered the client: it sees the client before any
    # admission (a client with no placement yet would otherwise be invisible).
    registered_site = models.ForeignKey(
        "network.Site", on_delete=models.PROTECT, related_name="registered_clients"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.mrn})"


class DischargeType(models.TextChoices):
    COMPLETED = "completed", "Completed treatment"
    AGAINST_MEDICAL_ADVICE = "against_medical_advice", "Against medical advice"
    ADMINISTRATIVE = "administrative", "Administrative discharge"
    TRANSFERRED_OUT = "transferred_out_of_network", "Transferred out of network"
    DECEASED = "deceased", "Deceased"
    OTHER = "other", "Other"


class ReferralSource(models.TextChoices):
    SELF = "self", "Self"
    FAMILY = "family", "Family or friend"
    PHYSICIAN = "physician", "Physician or clinician"
    HOSPITAL = "hospital", "Hospital or emergency department"
    COURT = "court", "Court or criminal justice"
    EMPLOYER = "employer", "Employer or EAP"
    PAYER = "payer", "Payer"
    INTERVENTIONIST = "interventionist", "Interventionist"
    OTHER_PROVIDER = "other_provider", "Other treatment provider"
    OTHER = "other", "Other"


class Episode(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="episodes")
    admitted_at = models.DateTimeField()
    admitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    referral_source = models.CharField(max_length=30, choices=ReferralSource.choices, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    discharge_type = models.CharField(max_length=30, choices=DischargeType.choices, blank=True)
    discharge_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-admitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(discharged_at__isnull=True),
                name="episode_one_open_per_client",
            ),
            models.CheckConstraint(
                condition=Q(discharged_at__isnull=True) | Q(discharged_at__gte=F("admitted_at")),
                name="episode_discharge_after_admission",
            ),
            models.CheckConstraint(
                condition=(Q(discharged_at__isnull=True) & Q(discharge_type=""))
                | (Q(discharged_at__isnull=False) & ~Q(discharge_type="")),
                name="episode_discharge_type_iff_discharged",
            ),
        ]
        indexes = [
            # Movement: the episodes discharged during a range of days.
            models.Index(
                fields=["discharged_at"],
                condition=Q(discharged_at__isnull=False),
                name="episode_discharged",
            ),
        ]

    def __str__(self) -> str:
        return f"Episode of {self.client} from {self.admitted_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.discharged_at is None


class Placement(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="placements")
    # Denormalised from the episode so that the database can say "one open
    # placement per client" and "no two placements of a client overlap".
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="placements")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="placements")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode"],
                condition=Q(ended_at__isnull=True),
                name="placement_one_open_per_episode",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(ended_at__isnull=True),
                name="placement_one_open_per_client",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at")),
                name="placement_ends_after_start",
            ),
        ]
        indexes = [
            # Current census: the open placements of a program, counted from
            # the index alone (with `id`), without reading the table's pages.
            # Extra key columns rather than INCLUDE, which SQLite lacks.
            models.Index(
                fields=["program", "id"],
                condition=Q(ended_at__isnull=True),
                name="placement_open_prog",
            ),
            # Census at a past instant (started by then, not ended by then) and
            # admissions over a range: `ended_at` and `id` let it answer from
            # the index alone (bench/census.py).
            models.Index(
                fields=["program", "started_at", "ended_at", "id"],
                name="placement_prog_start",
            ),
            # Discharges and moves out of a program over a range of days.
            models.Index(fields=["program", "ended_at"], name="placement_prog_end"),
        ]

    def __str__(self) -> str:
        return f"{self.client} at {self.program}"


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_TRANSFER_STATUSES = (TransferStatus.REQUESTED, TransferStatus.APPROVED)


class TransferDirection(models.TextChoices):
    STEP_DOWN = "step_down", "Step down"
    STEP_UP = "step_up", "Step up"
    LATERAL = "lateral", "Lateral (same level, same site)"
    SITE_CHANGE = "site_change", "Site change (same level, another site)"


class Transfer(models.Model):
    """A request to move a client from their current placement to another program.

    The state machine lives in services/transfers.py; every transition is
    recorded as a TransferEvent (who, when, why).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="transfers")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="transfers")
    from_placement = models.ForeignKey(
        Placement, on_delete=models.PROTECT, related_name="transfers_out"
    )
    from_program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    to_program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="incoming_transfers"
    )
    to_placement = models.OneToOneField(
        Placement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfer_in",
    )
    status = models.CharField(
        max_length=12, choices=TransferStatus.choices, default=TransferStatus.REQUESTED
    )
    reason = models.TextField(blank=True)
    handoff_notes = models.TextField(blank=True)
    planned_for = models.DateField(null=True, blank=True)
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField()
    # Set when a site manager approved beyond the program's capacity.
    capacity_override_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status__in=ACTIVE_TRANSFER_STATUSES),
                name="transfer_one_active_per_client",
            ),
            models.CheckConstraint(
                condition=Q(status__in=TransferStatus.values), name="transfer_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(from_program=F("to_program")), name="transfer_changes_program"
            ),
            models.CheckConstraint(
                condition=Q(status=TransferStatus.COMPLETED, to_placement__isnull=False)
                | (~Q(status=TransferStatus.COMPLETED) & Q(to_placement__isnull=True)),
                name="transfer_completed_iff_placed",
            ),
        ]
        indexes = [
            # Reserved capacity: the approved transfers into a program.
            models.Index(
                fields=["to_program"],
                condition=Q(status=TransferStatus.APPROVED),
                name="transfer_approved_to_prog",
            ),
            # Reserved at a past instant: the transfers into a program requested
            # by then, not ended by then (status, updated_at) and not arrived by
            # then (to_placement), found from the index alone (with `id`) before
            # the event lookups (bench/census.py).
            models.Index(
                fields=["to_program", "requested_at", "updated_at", "status", "id", "to_placement"],
                name="transfer_to_prog_requested",
            ),
            # Movement: the transfers completed since a day (a completion is
            # recorded at or after the arrival, so no earlier one arrived in it).
            models.Index(
                fields=["updated_at"],
                condition=Q(status=TransferStatus.COMPLETED),
                name="transfer_completed_since",
            ),
        ]

    def __str__(self) -> str:
        return f"Transfer of {self.client} to {self.to_program} ({self.status})"

    @property
    def direction(self) -> str:
        return transfer_direction(self.from_program, self.to_program)


def transfer_direction(from_program: Program, to_program: Program) -> str:
    """Step down or up by intensity; same level: lateral at one site, else a site change."""
    before, after = from_program.level.intensity, to_program.level.intensity
    if after < before:
        return TransferDirection.STEP_DOWN
    if after > before:
        return TransferDirection.STEP_UP
    if from_program.site_id == to_program.site_id:
        return TransferDirection.LATERAL
    return TransferDirection.SITE_CHANGE


class TransferEvent(models.Model):
    """One transition of a transfer: who moved it from which state to which, when and why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="events")
    # 1, 2, 3... within the transfer: the order of events that share an instant.
    number = models.PositiveSmallIntegerField()
    from_status = models.CharField(max_length=12, choices=TransferStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=TransferStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["transfer", "number"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "number"], name="transfer_event_number"),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"
