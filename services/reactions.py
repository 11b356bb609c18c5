"""The one seam between care and what sits above it: what an admission, a
discharge and the end of a transfer cause in aftercare and referrals.

    episode_admit            -> after_admit
                                  aftercare: the client's pending follow-ups end ("readmitted")
                                  referrals: an open referral waiting for an admission
                                             is admitted, linked to the new episode
    episode_discharge        -> after_discharge
                                  aftercare: a course of follow-ups opens (deceased: none,
                                             and pending ones end)
    transfer_complete        -> after_transfer_complete
                                  aftercare: a step-down into alumni opens a course,
                                             a step-up out of alumni ends it
                                  referrals: a referral that moved by the transfer is admitted
    transfer_decline/cancel  -> after_transfer_end
    (and a discharge's          referrals: a referral that moved by the transfer is cancelled
     cancelled transfers)

Why plain calls rather than a registry of subscribers: there are four events
and two reactions to each, always the same; a call that grep finds says more
than a subscription made at start-up. Each reaction runs inside the caller's
transaction, with the client's row already locked, in the order written here
(follow-ups first, then the referral), and imports only modules below
admissions and transfers (services/aftercare/courses.py,
services/referrals/endings.py). So episodes and transfers never import the
aftercare or referral rules above them, and a reader of episode_admit finds
everything an admission causes in this file.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser

from backend.aftercare.models import FollowUp
from backend.care.models import Episode, Placement, Transfer
from services.aftercare import courses
from services.referrals import endings


def after_admit(*, episode: Episode, actor: AbstractBaseUser, now: datetime) -> None:
    courses.aftercare_on_admit(episode=episode, actor=actor, now=now)
    endings.referral_on_admit(episode=episode, actor=actor, now=now)


def after_discharge(
    *, episode: Episode, placement: Placement, actor: AbstractBaseUser, now: datetime
) -> list[FollowUp]:
    return courses.aftercare_on_discharge(
        episode=episode, placement=placement, actor=actor, now=now
    )


def after_transfer_complete(*, transfer: Transfer, actor: AbstractBaseUser, now: datetime) -> None:
    courses.aftercare_on_transfer_complete(transfer=transfer, actor=actor, now=now)
    endings.referral_on_transfer_complete(transfer=transfer, actor=actor, now=now)


def after_transfer_end(*, transfer: Transfer, actor: AbstractBaseUser, now: datetime) -> None:
    endings.referral_on_transfer_end(transfer=transfer, actor=actor, now=now)
