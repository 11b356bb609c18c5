"""The transfer state machine, its sides, its direction and its atomic completion."""

import datetime as dt

import pytest
from django.utils import timezone

from backend.care.models import Placement, TransferDirection, TransferStatus
from backend.network.models import Program
from services import transfers
from services.capacity import programs_with_occupancy
from services.errors import (
    MSG_REASON_REQUIRED,
    MSG_SAME_PROGRAM,
    ClientNotInCare,
    IllegalTransition,
    InvalidInput,
    NotPermitted,
    TransferAlreadyActive,
)
from tests.factories import ClientFactory, finish_checklist, placed_client

NOW = timezone.now().replace(microsecond=0)


def _occupancy(program):
    p = programs_with_occupancy().get(pk=program.pk)
    return p.occupied, p.reserved, p.available


def _requested(network, users, to=None, frm=None):
    client = placed_client(
        frm or network.austin_detox, users.austin, started_at=NOW - dt.timedelta(days=4)
    )
    return transfers.transfer_request(
        actor=users.austin, client=client, to_program=to or network.austin_residential, now=NOW
    )


def test_request_approve_complete_moves_the_client_atomically(network, users):
    # given a requested step-down from detox to residential
    transfer = _requested(network, users)
    assert transfer.status == TransferStatus.REQUESTED
    assert _occupancy(network.austin_residential) == (0, 0, 2)

    # when the receiving side approves, a bed is reserved
    transfers.transfer_approve(actor=users.austin, transfer=transfer, now=NOW)
    assert _occupancy(network.austin_residential) == (0, 1, 1)

    # and when it completes on arrival, its checklist done
    finish_checklist(transfer, users.austin, now=NOW)
    arrived = NOW + dt.timedelta(minutes=1)
    transfers.transfer_complete(
        actor=users.austin, transfer=transfer, arrived_at=arrived, now=arrived
    )

    # then the old placement ends exactly when the new one starts
    transfer.refresh_from_db()
    old, new = transfer.from_placement, transfer.to_placement
    old.refresh_from_db()
    assert old.ended_at == new.started_at == arrived
    assert new.program == network.austin_residential and new.ended_at is None
    assert _occupancy(network.austin_residential) == (1, 0, 1)
    assert _occupancy(network.austin_detox)[0] == 0
    assert [(e.from_status, e.to_status) for e in transfer.events.all()] == [
        ("", "requested"),
        ("requested", "approved"),
        ("approved", "completed"),
    ]


@pytest.mark.parametrize(
    ("frm", "to", "direction"),
    [
        ("austin_detox", "austin_residential", TransferDirection.STEP_DOWN),
        ("austin_iop", "austin_residential", TransferDirection.STEP_UP),
        ("austin_iop", "austin_alumni", TransferDirection.STEP_DOWN),
        ("austin_iop", "houston_iop", TransferDirection.SITE_CHANGE),
    ],
)
def test_direction_is_derived_from_levels_and_sites(network, users, frm, to, direction):
    transfer = _requested(network, users, to=getattr(network, to), frm=getattr(network, frm))
    assert transfer.direction == direction


def test_a_move_between_two_programs_of_one_level_at_one_site_is_lateral(network, users):
    # given Austin runs a second residential program
    womens = Program.objects.create(
        site=network.austin,
        level=network.austin_residential.level,
        name="Austin Women's Residential",
        capacity=8,
    )
    # when a client moves from one to the other, then the move is lateral
    transfer = _requested(network, users, to=womens, frm=network.austin_residential)
    assert transfer.direction == TransferDirection.LATERAL


def test_a_client_not_in_care_cannot_be_transferred(network, users):
    client = ClientFactory(registered_site=network.austin)
    with pytest.raises(ClientNotInCare):
        transfers.transfer_request(
            actor=users.austin, client=client, to_program=network.austin_residential
        )


def test_a_transfer_to_the_current_program_is_invalid(network, users):
    client = placed_client(network.austin_detox, users.austin)
    with pytest.raises(InvalidInput, match=MSG_SAME_PROGRAM):
        transfers.transfer_request(
            actor=users.austin, client=client, to_program=network.austin_detox
        )


def test_one_active_transfer_per_client(network, users):
    transfer = _requested(network, users)
    with pytest.raises(TransferAlreadyActive):
        transfers.transfer_request(
            actor=users.austin, client=transfer.client, to_program=network.austin_iop
        )


def test_the_receiving_side_approves_and_the_sending_side_cannot(network, users):
    # given Austin asks Houston to take a client
    transfer = _requested(network, users, to=network.houston_residential)
    # then Austin cannot approve, decline or complete it
    with pytest.raises(NotPermitted):
        transfers.transfer_approve(actor=users.austin, transfer=transfer)
    with pytest.raises(NotPermitted):
        transfers.transfer_decline(actor=users.austin, transfer=transfer, reason="x")
    # and Houston cannot cancel it
    with pytest.raises(NotPermitted):
        transfers.transfer_cancel(actor=users.houston, transfer=transfer, reason="x")
    # but Houston approves, then completes it
    transfers.transfer_approve(actor=users.houston, transfer=transfer)
    finish_checklist(transfer, users.houston)
    transfers.transfer_complete(actor=users.houston, transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.COMPLETED


def test_decline_and_cancel_need_a_reason(network, users):
    transfer = _requested(network, users)
    with pytest.raises(InvalidInput, match=MSG_REASON_REQUIRED):
        transfers.transfer_decline(actor=users.austin, transfer=transfer, reason="  ")
    with pytest.raises(InvalidInput, match=MSG_REASON_REQUIRED):
        transfers.transfer_cancel(actor=users.austin, transfer=transfer, reason="")


def test_declining_an_approved_transfer_releases_the_reservation(network, users):
    transfer = _requested(network, users)
    transfers.transfer_approve(actor=users.austin, transfer=transfer)
    assert _occupancy(network.austin_residential)[1] == 1
    transfers.transfer_decline(actor=users.austin, transfer=transfer, reason="Bed needed")
    assert _occupancy(network.austin_residential)[1] == 0


# Every (state, action) pair the state machine forbids.
ILLEGAL = [
    ("requested", "complete"),
    ("approved", "approve"),
    ("completed", "approve"),
    ("completed", "decline"),
    ("completed", "cancel"),
    ("completed", "complete"),
    ("declined", "approve"),
    ("declined", "decline"),
    ("declined", "cancel"),
    ("declined", "complete"),
    ("cancelled", "approve"),
    ("cancelled", "decline"),
    ("cancelled", "cancel"),
    ("cancelled", "complete"),
]


def _bring_to(transfer, state, users):
    if state in ("approved", "completed"):
        transfers.transfer_approve(actor=users.austin, transfer=transfer)
    if state == "completed":
        finish_checklist(transfer, users.austin)
        transfers.transfer_complete(actor=users.austin, transfer=transfer)
    if state == "declined":
        transfers.transfer_decline(actor=users.austin, transfer=transfer, reason="No bed")
    if state == "cancelled":
        transfers.transfer_cancel(actor=users.austin, transfer=transfer, reason="Changed plan")
    transfer.refresh_from_db()
    assert transfer.status == state


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_illegal_transitions_are_refused_and_change_nothing(network, users, state, action):
    transfer = _requested(network, users)
    _bring_to(transfer, state, users)
    placements_before = Placement.objects.count()
    calls = {
        "approve": lambda: transfers.transfer_approve(actor=users.austin, transfer=transfer),
        "decline": lambda: transfers.transfer_decline(
            actor=users.austin, transfer=transfer, reason="r"
        ),
        "cancel": lambda: transfers.transfer_cancel(
            actor=users.austin, transfer=transfer, reason="r"
        ),
        "complete": lambda: transfers.transfer_complete(actor=users.austin, transfer=transfer),
    }
    with pytest.raises(IllegalTransition):
        calls[action]()
    transfer.refresh_from_db()
    assert transfer.status == state
    assert Placement.objects.count() == placements_before


def test_completion_before_the_current_placement_began_is_invalid(network, users):
    transfer = _requested(network, users)
    transfers.transfer_approve(actor=users.austin, transfer=transfer)
    with pytest.raises(InvalidInput) as err:
        transfers.transfer_complete(
            actor=users.austin,
            transfer=transfer,
            arrived_at=NOW - dt.timedelta(days=30),
            now=NOW,
        )
    assert err.value.field == "arrived_at"


def test_planned_for_in_the_past_is_invalid(network, users):
    client = placed_client(network.austin_detox, users.austin)
    with pytest.raises(InvalidInput) as err:
        transfers.transfer_request(
            actor=users.austin,
            client=client,
            to_program=network.austin_residential,
            planned_for=(NOW - dt.timedelta(days=3)).date(),
            now=NOW,
        )
    assert err.value.field == "planned_for"


def test_alumni_coordinator_receives_step_downs_to_alumni(network, users):
    transfer = _requested(network, users, to=network.austin_alumni, frm=network.austin_iop)
    transfers.transfer_approve(actor=users.alumni, transfer=transfer)
    finish_checklist(transfer, users.alumni)
    transfers.transfer_complete(actor=users.alumni, transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.to_placement.program == network.austin_alumni


def test_an_arrival_before_the_approval_is_invalid(network, users):
    from services.errors import MSG_ARRIVAL_BEFORE_APPROVAL

    # given a transfer approved at NOW, its checklist done
    transfer = _requested(network, users)
    transfers.transfer_approve(actor=users.austin, transfer=transfer, now=NOW)
    finish_checklist(transfer, users.austin, now=NOW)
    # when the arrival is dated a day before the approval, then it is refused
    with pytest.raises(InvalidInput, match=MSG_ARRIVAL_BEFORE_APPROVAL):
        transfers.transfer_complete(
            actor=users.austin,
            transfer=transfer,
            arrived_at=NOW - dt.timedelta(days=1),
            now=NOW + dt.timedelta(hours=1),
        )
