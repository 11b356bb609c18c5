"""Fixtures of the API suite, on top of tests/fixtures.py's `network`, `users`, `api`."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from backend.aftercare.models import FollowUp
from backend.notifications.models import Notification
from services import episodes
from services.access import Role, role_grant
from services.aftercare import follow_ups
from tests.api.helpers import transfer_to
from tests.factories import SiteFactory, UserFactory, placed_client


@pytest.fixture
def outsider(network):
    """A coordinator at Dallas, a third site that no client of these tests ever touches."""
    dallas = SiteFactory(code="dallas", name="Dallas")
    user = UserFactory(username="coordinator.dallas")
    role_grant(user=user, role=Role.CARE_COORDINATOR, site=dallas)
    return user


@pytest.fixture
def austin_record(network, users):
    return austin_record_build(network, users)


def austin_record_build(network, users, names=None) -> SimpleNamespace:
    """An Austin client in Austin detox with a requested step-down to Austin
    residential: a record that only Austin's staff (and org admins) may see.
    Beside it, an Austin alumnus discharged eight days ago: their follow-ups
    (the 7-day one due, seen by Austin's staff and the alumni team too), and
    a referral back into Austin IOP from the missed 48-hour one.

    `ids` maps each URL resource to the id its detail routes take. `names`
    gives the client, the moving client and the alumnus names of their own
    ({"client": {"first_name": ..., "last_name": ...}, ...}).
    """
    names = names or {}
    client = placed_client(network.austin_detox, users.austin, **names.get("client", {}))
    episode = client.episodes.get()
    placement = client.placements.get()
    transfer = transfer_to(
        network.austin_residential, client=client, sender=users.austin, receiver=users.austin
    )
    # A second Austin client, moving to residential with an approved transfer:
    # its hand-off, a checklist item, and a notification for the Austin coordinator.
    moving = placed_client(network.austin_detox, users.austin, **names.get("moving", {}))
    approved = transfer_to(
        network.austin_residential,
        client=moving,
        sender=users.austin,
        receiver=users.austin,
        status="approved",
    )
    handoff = approved.handoff
    notification = Notification.objects.create(
        recipient=users.austin,
        kind="handoff.created",
        title="Incoming transfer",
        key=f"test:{handoff.pk}",
        subject_type="handoff",
        subject_id=handoff.pk,
        created_at=timezone.now(),
    )
    alumnus = placed_client(
        network.austin_iop,
        users.austin,
        started_at=timezone.now() - dt.timedelta(days=30),
        **names.get("alumnus", {}),
    )
    episodes.episode_discharge(
        actor=users.austin,
        episode=alumnus.episodes.get(),
        discharge_type="completed",
        discharged_at=timezone.now() - dt.timedelta(days=8),
    )
    follow_up = FollowUp.objects.get(client=alumnus, milestone="7d")
    follow_ups.follow_up_complete(
        actor=users.alumni,
        follow_up=FollowUp.objects.get(client=alumnus, milestone="48h"),
        reached=True,
        self_reported_status="relapsed",
        needs_readmission=True,
        refer_to_program=network.austin_iop,
    )
    ids = {
        "follow-ups": follow_up.pk,
        "referrals": alumnus.referrals.get().pk,
        "handoffs": handoff.pk,
        "handoff-items": handoff.items.first().pk,
        "notifications": notification.pk,
        "levels-of-care": "detox",
        "sites": network.austin.pk,
        "programs": network.austin_detox.pk,
        "clients": client.pk,
        "episodes": episode.pk,
        "placements": placement.pk,
        "transfers": transfer.pk,
        # Routes that only the anonymous row of the matrix calls with these ids.
        "consents": client.pk,
        "partner": client.pk,
        "partners": client.pk,
    }
    return SimpleNamespace(
        client=client,
        episode=episode,
        placement=placement,
        transfer=transfer,
        moving=moving,
        approved=approved,
        handoff=handoff,
        notification=notification,
        alumnus=alumnus,
        follow_up=follow_up,
        ids=ids,
    )
