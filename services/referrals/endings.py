"""What ends a referral when care moves: an admission links the client's open
referral to the new episode, a completed transfer that the referral moved by
admits it, and a declined or cancelled one cancels it.

Below admissions and transfers: services/reactions.py calls these from inside
their transactions. It imports nothing above it.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser

from backend.aftercare.models import (
    Referral,
    ReferralStatus,
)
from backend.audit.models import AuditAction
from backend.care.models import (
    Episode,
    Transfer,
)
from services import webhooks
from services.audit import audit_record


def referral_close(
    referral: Referral, status: ReferralStatus, *, actor: AbstractBaseUser, now: datetime
) -> None:
    referral.status = status
    referral.closed_at = now
    referral.save(update_fields=["status", "closed_at", "new_episode", "cancelled_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="referral",
        object_id=referral.pk,
        # A partner's referral declined before a client was matched: the rows of
        # that person are keyed by the referral (services/referrals/partner.py).
        client_id=referral.client_id or referral.pk,
        detail={
            "event": status,
            "new_episode": str(referral.new_episode_id) if referral.new_episode_id else "",
            "transfer": str(referral.transfer_id) if referral.transfer_id else "",
        },
        now=now,
    )
    referral_status_emit(referral, status, now=now)


def referral_status_emit(referral: Referral, status: str, *, now: datetime) -> None:
    """Webhooks: tell the partner who sent the referral (if a partner did)."""
    webhooks.webhook_emit(
        webhooks.WebhookEventType.REFERRAL_STATUS_CHANGED,
        now=now,
        referral=referral,
        data={
            "referral": str(referral.pk),
            "status": str(status),
            "reason": referral.cancelled_reason or None,
        },
    )


def referral_on_transfer_end(*, transfer: Transfer, actor: AbstractBaseUser, now: datetime) -> None:
    """record_transition, when a transfer is declined or cancelled (a discharge
    cancels them too): a referral that was moving by it is cancelled."""
    referral = Referral.objects.select_for_update().filter(transfer=transfer).first()
    if referral is not None and referral.status == ReferralStatus.OPEN:
        referral.cancelled_reason = f"The transfer was {transfer.status}."
        referral_close(referral, ReferralStatus.CANCELLED, actor=actor, now=now)


def referral_on_admit(*, episode: Episode, actor: AbstractBaseUser, now: datetime) -> None:
    """episode_admit, after the episode is written: the client's open referral
    that waits for an admission (one not moving by a transfer) is admitted and
    linked to the new episode, whichever program admitted them."""
    referral = (
        Referral.objects.select_for_update()
        .filter(client_id=episode.client_id, status=ReferralStatus.OPEN, transfer__isnull=True)
        .first()
    )
    if referral is not None:
        referral.new_episode = episode
        referral_close(referral, ReferralStatus.ADMITTED, actor=actor, now=now)


def referral_on_transfer_complete(
    *, transfer: Transfer, actor: AbstractBaseUser, now: datetime
) -> None:
    """transfer_complete, after the new placement is written: a referral that
    moved by this transfer has arrived."""
    referral = Referral.objects.select_for_update().filter(transfer=transfer).first()
    if referral is not None and referral.status == ReferralStatus.OPEN:
        referral_close(referral, ReferralStatus.ADMITTED, actor=actor, now=now)
