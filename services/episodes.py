"""Admission and discharge: the start and the end of an episode of care."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max

from backend.audit.models import AuditAction
from backend.care.models import (
    ACTIVE_TRANSFER_STATUSES,
    Client,
    DischargeType,
    Episode,
    Placement,
    Transfer,
    TransferStatus,
)
from backend.network.models import Program
from services import access, reactions, webhooks
from services.audit import audit_record
from services.capacity import capacity_claim
from services.census_history import census_history_changed, census_history_lock
from services.clock import check_not_future, resolve_now, site_today
from services.errors import (
    MSG_BEFORE_BIRTH,
    MSG_BEFORE_LAST_DISCHARGE,
    MSG_BEFORE_PLACEMENT,
    MSG_PROGRAM_INACTIVE,
    ClientAlreadyInCare,
    EpisodeClosed,
    InvalidInput,
)
from services.locks import client_lock, program_lock
from services.transfers import record_transition


@transaction.atomic
def episode_admit(
    *,
    actor: AbstractBaseUser,
    client: Client,
    program: Program,
    admitted_at: datetime | None = None,
    referral_source: str = "",
    capacity_override_reason: str = "",
    now: datetime | None = None,
) -> Episode:
    """Open an episode with its first placement in `program` (HL7 ADT A01)."""
    now = resolve_now(now)
    admitted_at = admitted_at or now
    check_not_future(admitted_at, now, "admitted_at")
    access.require_program_team(actor, program)
    if not program.is_active:
        raise InvalidInput(MSG_PROGRAM_INACTIVE, field="program")

    census_history_lock(at=admitted_at, now=now)
    client = client_lock(client.pk)
    if site_today(program.site, admitted_at) < client.date_of_birth:
        raise InvalidInput(MSG_BEFORE_BIRTH, field="admitted_at")
    if Episode.objects.filter(client=client, discharged_at__isnull=True).exists():
        raise ClientAlreadyInCare()
    last_end = Placement.objects.filter(client=client).aggregate(last=Max("ended_at"))["last"]
    if last_end is not None and admitted_at < last_end:
        raise InvalidInput(MSG_BEFORE_LAST_DISCHARGE, field="admitted_at")

    program = program_lock(program.pk)
    overridden = capacity_claim(
        actor=actor, program=program, override_reason=capacity_override_reason
    )

    try:
        with transaction.atomic():
            episode = Episode.objects.create(
                client=client,
                admitted_at=admitted_at,
                admitted_by=actor,
                referral_source=referral_source,
            )
            placement = Placement.objects.create(
                episode=episode, client=client, program=program, started_at=admitted_at
            )
    except IntegrityError as exc:  # the database's guarantee behind the checks above
        raise ClientAlreadyInCare() from exc
    census_history_changed(programs=[program], since=admitted_at)
    audit_record(
        actor=actor,
        action=AuditAction.ADMIT,
        object_type="episode",
        object_id=episode.pk,
        client_id=client.pk,
        detail={
            "program": str(program.pk),
            "placement": str(placement.pk),
            "capacity_override_reason": capacity_override_reason if overridden else "",
        },
        now=now,
    )
    webhooks.webhook_emit(
        webhooks.WebhookEventType.CLIENT_ADMITTED,
        now=now,
        client_id=client.pk,
        episode_id=episode.pk,
        site_id=program.site_id,
        level=program.level_id,
        occurred_at=admitted_at,
        data=webhooks.client_event_data(
            client_id=client.pk, episode_id=episode.pk, program=program, at=admitted_at
        ),
    )
    webhooks.availability_changed(program=program, now=now)
    reactions.after_admit(episode=episode, actor=actor, now=now)
    return episode


@transaction.atomic
def episode_discharge(
    *,
    actor: AbstractBaseUser,
    episode: Episode,
    discharge_type: str,
    discharged_at: datetime | None = None,
    notes: str = "",
    now: datetime | None = None,
) -> Episode:
    """Close the episode and its open placement (HL7 ADT A03); pending
    transfers of the episode are cancelled, since there is nobody to move."""
    now = resolve_now(now)
    discharged_at = discharged_at or now
    check_not_future(discharged_at, now, "discharged_at")
    if discharge_type not in DischargeType.values:
        raise InvalidInput(f'"{discharge_type}" is not a discharge type.', field="discharge_type")

    census_history_lock(at=discharged_at, now=now)
    client_lock(episode.client_id)
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    if not episode.is_open:
        raise EpisodeClosed()
    placement = Placement.objects.select_related("program__site").get(
        episode=episode, ended_at__isnull=True
    )
    access.require_program_team(actor, placement.program)
    if discharged_at <= placement.started_at:
        raise InvalidInput(MSG_BEFORE_PLACEMENT, field="discharged_at")

    placement.ended_at = discharged_at
    placement.save(update_fields=["ended_at"])
    census_history_changed(programs=[placement.program], since=discharged_at)
    episode.discharged_at = discharged_at
    episode.discharged_by = actor
    episode.discharge_type = discharge_type
    episode.discharge_notes = notes
    episode.save(
        update_fields=["discharged_at", "discharged_by", "discharge_type", "discharge_notes"]
    )

    pending = (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("to_program__site")
        .filter(episode=episode, status__in=ACTIVE_TRANSFER_STATUSES)
    )
    for transfer in pending:
        record_transition(
            transfer=transfer,
            to_status=TransferStatus.CANCELLED,
            actor=actor,
            reason="Client discharged.",
            now=now,
        )
    audit_record(
        actor=actor,
        action=AuditAction.DISCHARGE,
        object_type="episode",
        object_id=episode.pk,
        client_id=episode.client_id,
        detail={"discharge_type": discharge_type, "cancelled_transfers": len(pending)},
        now=now,
    )
    program = placement.program
    webhooks.webhook_emit(
        webhooks.WebhookEventType.CLIENT_DISCHARGED,
        now=now,
        client_id=episode.client_id,
        episode_id=episode.pk,
        site_id=program.site_id,
        level=program.level_id,
        occurred_at=discharged_at,
        data=webhooks.client_event_data(
            client_id=episode.client_id, episode_id=episode.pk, program=program, at=discharged_at
        ),
    )
    webhooks.availability_changed(program=program, now=now)
    reactions.after_discharge(episode=episode, placement=placement, actor=actor, now=now)
    return episode
