"""Two coordinators, one last bed: real concurrent transactions on PostgreSQL.

Each contender runs in its own thread with its own database connection and
commits for real (transaction=True); a barrier releases them together.
"""

import pytest

from backend.care.models import Episode, Placement, Transfer, TransferStatus
from services import episodes, transfers
from services.errors import CapacityExceeded, ClientAlreadyInCare, TransferAlreadyActive
from tests.concurrency import race
from tests.factories import ClientFactory, placed_client

# serialized_rollback: the flush after each test would drop the levels seeded by migration.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CONTENDERS = 6


def test_coordinators_racing_for_the_last_bed_exactly_one_wins(network, users):
    # given detox has one free bed (capacity 2, one client placed)
    placed_client(network.austin_detox, users.austin)
    waiting = [ClientFactory(registered_site=network.austin) for _ in range(CONTENDERS)]

    # when several coordinators admit a different client each, at the same instant
    outcomes = race(
        [
            lambda c=client, u=(users.austin, users.austin2)[i % 2]: episodes.episode_admit(
                actor=u, client=c, program=network.austin_detox
            )
            for i, client in enumerate(waiting)
        ]
    )

    # then exactly one admission succeeds and every other is refused as full
    wins = [o for o in outcomes if isinstance(o, Episode)]
    refusals = [o for o in outcomes if isinstance(o, CapacityExceeded)]
    assert (len(wins), len(refusals)) == (1, CONTENDERS - 1), outcomes
    assert (
        Placement.objects.filter(program=network.austin_detox, ended_at__isnull=True).count() == 2
    )


def test_approvals_racing_for_the_last_bed_exactly_one_wins(network, users):
    # given residential (capacity 2) with one client and several requests to move in
    placed_client(network.austin_residential, users.austin)
    requests = [
        transfers.transfer_request(
            actor=users.austin,
            client=placed_client(network.austin_iop, users.austin),
            to_program=network.austin_residential,
        )
        for _ in range(CONTENDERS)
    ]

    # when all are approved at once
    outcomes = race(
        [lambda t=t: transfers.transfer_approve(actor=users.austin, transfer=t) for t in requests]
    )

    # then one is approved (reserving the last bed) and the others stay requested
    assert sum(isinstance(o, Transfer) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, CapacityExceeded) for o in outcomes) == CONTENDERS - 1
    statuses = sorted(Transfer.objects.values_list("status", flat=True))
    assert statuses == [TransferStatus.APPROVED] + [TransferStatus.REQUESTED] * (CONTENDERS - 1)


def test_one_client_admitted_twice_at_once_gets_one_episode(network, users):
    client = ClientFactory(registered_site=network.austin)
    outcomes = race(
        [
            lambda p=p: episodes.episode_admit(actor=users.austin, client=client, program=p)
            for p in (network.austin_detox, network.austin_residential, network.austin_iop)
        ]
    )
    assert sum(isinstance(o, Episode) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, ClientAlreadyInCare) for o in outcomes) == 2
    assert Episode.objects.filter(client=client).count() == 1


def test_one_client_transferred_twice_at_once_gets_one_active_transfer(network, users):
    client = placed_client(network.austin_detox, users.austin)
    outcomes = race(
        [
            lambda p=p: transfers.transfer_request(actor=users.austin, client=client, to_program=p)
            for p in (network.austin_residential, network.austin_iop, network.houston_residential)
        ]
    )
    assert sum(isinstance(o, Transfer) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, TransferAlreadyActive) for o in outcomes) == 2
