"""The database's guarantees, tried directly: no service in the way.

Each test writes a row that breaks an invariant and expects the database
itself to refuse it, so no code path (admin, shell, a future bug) can.
"""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from backend.care.models import Episode, Placement, Transfer, TransferStatus
from tests.factories import ClientFactory, placed_client

T0 = timezone.now() - dt.timedelta(days=10)


def _refused(statement, match: str | None = None) -> None:
    """The write fails inside a savepoint (IntegrityError or a check violation)."""
    with pytest.raises(IntegrityError, match=match), transaction.atomic():
        statement()
        if connection.vendor == "postgresql":
            # Deferred constraint triggers are checked here, as at commit.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_client_has_at_most_one_open_episode(network, users):
    client = placed_client(network.austin_detox, users.austin)
    _refused(
        lambda: Episode.objects.create(client=client, admitted_at=T0, admitted_by=users.austin)
    )


def test_a_discharge_cannot_precede_the_admission(network, users):
    client = ClientFactory(registered_site=network.austin)
    _refused(
        lambda: Episode.objects.create(
            client=client,
            admitted_at=T0,
            admitted_by=users.austin,
            discharged_at=T0 - dt.timedelta(hours=1),
            discharge_type="completed",
        )
    )


def test_a_discharged_episode_has_a_discharge_type(network, users):
    client = ClientFactory(registered_site=network.austin)
    _refused(
        lambda: Episode.objects.create(
            client=client, admitted_at=T0, admitted_by=users.austin, discharged_at=T0
        )
    )


def test_an_open_episode_has_at_most_one_open_placement(network, users):
    client = placed_client(network.austin_detox, users.austin, started_at=T0)
    episode = client.episodes.get()
    _refused(
        lambda: Placement.objects.create(
            episode=episode,
            client=client,
            program=network.austin_residential,
            started_at=T0 + dt.timedelta(days=1),
        )
    )


def test_a_placement_ends_after_it_starts(network, users):
    client = placed_client(network.austin_detox, users.austin, started_at=T0)
    placement = client.placements.get()
    placement.ended_at = T0
    _refused(lambda: placement.save())


def _raw_transfer(client, network, users, *, to_program=None, **fields):
    """A Transfer row written straight to the database, bypassing the services."""
    placement = client.placements.get()
    return Transfer.objects.create(
        client=client,
        episode=placement.episode,
        from_placement=placement,
        from_program=placement.program,
        to_program=to_program or network.austin_residential,
        requested_at=T0,
        requested_by=users.austin,
        updated_at=T0,
        **fields,
    )


def test_a_client_has_at_most_one_active_transfer(network, users):
    client = placed_client(network.austin_detox, users.austin, started_at=T0)
    _raw_transfer(client, network, users)
    _refused(lambda: _raw_transfer(client, network, users, to_program=network.houston_residential))


def test_a_transfer_status_is_one_of_the_five(network, users):
    client = placed_client(network.austin_detox, users.austin, started_at=T0)
    _refused(lambda: _raw_transfer(client, network, users, status="teleported"))


def test_a_completed_transfer_names_its_new_placement(network, users):
    client = placed_client(network.austin_detox, users.austin, started_at=T0)
    _refused(lambda: _raw_transfer(client, network, users, status=TransferStatus.COMPLETED))


@pytest.mark.postgres
def test_placements_of_a_client_never_overlap(network, users):
    # given a client discharged after a stay from T0 to T0+5d
    client = placed_client(network.austin_detox, users.austin, started_at=T0)
    episode = client.episodes.get()
    Placement.objects.filter(episode=episode).update(ended_at=T0 + dt.timedelta(days=5))
    Episode.objects.filter(pk=episode.pk).update(
        discharged_at=T0 + dt.timedelta(days=5), discharge_type="completed"
    )

    # when a later episode's placement is backdated into that stay, the database refuses
    def readmit_inside_the_earlier_stay():
        later = Episode.objects.create(
            client=client, admitted_at=T0 + dt.timedelta(days=2), admitted_by=users.austin
        )
        Placement.objects.create(
            episode=later,
            client=client,
            program=network.austin_residential,
            started_at=T0 + dt.timedelta(days=2),
        )

    _refused(readmit_inside_the_earlier_stay, match="placement_no_overlap")


@pytest.mark.postgres
def test_placements_may_touch_end_to_start(network, users):
    client = placed_client(network.austin_detox, users.austin, started_at=T0)
    first = client.placements.get()
    move = T0 + dt.timedelta(days=3)
    with transaction.atomic():
        Placement.objects.filter(pk=first.pk).update(ended_at=move)
        Placement.objects.create(
            episode=first.episode,
            client=client,
            program=network.austin_residential,
            started_at=move,
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert client.placements.count() == 2


@pytest.mark.postgres
def test_an_open_episode_keeps_an_open_placement(network, users):
    # Closing the only placement of an open episode breaks "exactly one open".
    client = placed_client(network.austin_detox, users.austin, started_at=T0)
    _refused(
        lambda: client.placements.update(ended_at=T0 + dt.timedelta(days=1)),
        match="placements invariant",
    )


@pytest.mark.postgres
def test_a_discharged_episode_has_no_open_placement(network, users):
    client = placed_client(network.austin_detox, users.austin, started_at=T0)
    _refused(
        lambda: client.episodes.update(
            discharged_at=T0 + dt.timedelta(days=1), discharge_type="completed"
        )
    )


@pytest.mark.postgres
def test_a_placement_lies_within_its_episode(network, users):
    client = placed_client(network.austin_detox, users.austin, started_at=T0)
    _refused(lambda: client.placements.update(started_at=T0 - dt.timedelta(days=1)))


@pytest.mark.postgres
def test_a_placement_belongs_to_its_episodes_client(network, users):
    client = placed_client(network.austin_detox, users.austin, started_at=T0)
    other = ClientFactory(registered_site=network.austin)
    _refused(lambda: client.placements.update(client=other), match="placements invariant")


def test_a_transfer_changes_program(network, users):
    client = placed_client(network.austin_detox, users.austin, started_at=T0)
    _refused(lambda: _raw_transfer(client, network, users, to_program=network.austin_detox))
