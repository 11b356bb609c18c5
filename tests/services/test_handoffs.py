"""Hand-offs through the services: opened with the approval, a checklist that
fits the move, scheduled work, acknowledgement and ticks by the receiving
team, and closing (or cancelling) with the transfer. The clock is NOW."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from backend.care.models import Placement, TransferStatus
from backend.handoffs.models import (
    ChecklistTemplate,
    ChecklistTemplateItem,
    Handoff,
    HandoffItem,
    HandoffStatus,
)
from backend.network.models import LevelOfCare
from backend.work.models import WorkItem, WorkStatus
from services import episodes, handoffs, transfers
from services.errors import IllegalTransition, NotFound, NotPermitted
from services.handoffs import MSG_OPEN_MANDATORY_ITEMS, HandoffIncomplete
from tests.factories import finish_checklist, placed_client
from tests.services.conftest import NOW

CONSENT = "Consent to disclose (42 CFR Part 2) on file for the receiving program"
DETOX_TO_RESIDENTIAL = [
    "Medical clearance",
    "Medication reconciliation",
    "Transport arranged",
    "Belongings inventoried and sent",
]
INTO_IOP = [
    "IOP schedule agreed: 3 to 5 days and at least 9 hours a week",
    "Housing or sober living arranged",
    "First IOP session date set",
]
CENTRAL = ZoneInfo("America/Chicago")
LATER = NOW + dt.timedelta(hours=1)


def _labels(handoff: Handoff) -> list[str]:
    return list(handoff.items.order_by("position").values_list("label", flat=True))


def _work(handoff: Handoff) -> dict[str, WorkItem]:
    """The hand-off's work items by the last part of their key."""
    prefix = f"handoff:{handoff.pk}:"
    return {
        item.key.removeprefix(prefix): item
        for item in WorkItem.objects.filter(key__startswith=prefix)
    }


def _statuses(handoff: Handoff) -> dict[str, str]:
    return {name: item.status for name, item in _work(handoff).items()}


# --- opening ------------------------------------------------------------------


def test_approving_a_transfer_opens_exactly_one_handoff_for_the_receiving_team(move, users):
    # given Austin asks Houston residential to take a detox client, with notes
    transfer = move(
        "austin_detox",
        "houston_residential",
        approve=False,
        handoff_notes="On buprenorphine taper; see MAR.",
    )
    assert not Handoff.objects.filter(transfer=transfer).exists()

    # when Houston approves
    transfers.transfer_approve(actor=users.houston, transfer=transfer, now=NOW)

    # then one open hand-off goes from Austin to Houston with the clinical notes
    handoff = Handoff.objects.get(transfer=transfer)
    assert (handoff.sending_site.code, handoff.receiving_site.code) == ("austin", "houston")
    assert handoff.status == HandoffStatus.OPEN
    assert handoff.clinical_notes == "On buprenorphine taper; see MAR."
    assert handoff.escalation_level == 0
    assert Handoff.objects.count() == 1


def test_an_approval_that_fails_leaves_no_handoff_and_no_work(move, monkeypatch, users):
    # given a requested transfer, and scheduling that breaks after the hand-off row is written
    transfer = move("austin_detox", "houston_residential", approve=False)

    def broken(**kwargs):
        raise RuntimeError("scheduling failed")

    monkeypatch.setattr(handoffs, "work_schedule", broken)

    # when Houston approves
    with pytest.raises(RuntimeError):
        transfers.transfer_approve(actor=users.houston, transfer=transfer, now=NOW)

    # then the approval and the hand-off rolled back together
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REQUESTED
    assert not Handoff.objects.exists()
    assert not HandoffItem.objects.exists()
    assert not WorkItem.objects.exists()


def test_a_second_approval_is_refused_and_there_is_still_one_handoff(move, users):
    # given an approved transfer
    transfer = move("austin_detox", "houston_residential")

    # when Houston approves it again
    with pytest.raises(IllegalTransition):
        transfers.transfer_approve(actor=users.houston, transfer=transfer, now=LATER)

    # then
    assert Handoff.objects.filter(transfer=transfer).count() == 1


# --- the checklist ---------------------------------------------------------


@pytest.mark.parametrize(
    ("frm", "to", "expected"),
    [
        ("austin_detox", "austin_residential", [*DETOX_TO_RESIDENTIAL, CONSENT]),
        ("austin_detox", "houston_residential", [*DETOX_TO_RESIDENTIAL, CONSENT]),
        ("austin_residential", "houston_iop", [*INTO_IOP, CONSENT]),
        ("austin_residential", "austin_iop", [*INTO_IOP, CONSENT]),
        (
            "austin_iop",
            "austin_alumni",
            ["Aftercare plan in place", "Consent to follow-up contact recorded", CONSENT],
        ),
        (
            "austin_residential",
            "austin_alumni",
            ["Aftercare plan in place", "Consent to follow-up contact recorded", CONSENT],
        ),
        ("austin_iop", "houston_residential", [CONSENT]),
    ],
    ids=[
        "detox-residential",
        "detox-residential-houston",
        "residential-iop-houston",
        "residential-iop",
        "iop-alumni",
        "residential-alumni",
        "step-up",
    ],
)
def test_the_checklist_fits_the_move(move, frm, to, expected):
    # given a client moving between these levels
    # when the transfer is approved
    handoff = move(frm, to).handoff

    # then the checklist holds the items of every template that matches, consent always
    assert _labels(handoff) == expected


def test_every_item_of_a_step_down_to_alumni_is_mandatory_but_the_follow_up_consent(move):
    # given a step down from IOP to alumni
    handoff = move("austin_iop", "austin_alumni").handoff

    # then only the follow-up consent may stay open
    optional = set(handoff.items.filter(mandatory=False).values_list("label", flat=True))
    assert optional == {"Consent to follow-up contact recorded"}


def test_a_new_template_changes_the_next_checklist_and_not_the_open_ones(move):
    # given an open hand-off from residential to IOP
    before = move("austin_residential", "austin_iop").handoff
    # when the organisation adds a template for moves into IOP
    template = ChecklistTemplate.objects.create(
        name="Relapse prevention", to_level=LevelOfCare.objects.get(code="iop")
    )
    ChecklistTemplateItem.objects.create(
        template=template, position=1, label="Relapse-prevention plan shared", mandatory=True
    )

    # then the next move into IOP gets the new item, the open hand-off keeps its list
    after = move("austin_residential", "houston_iop").handoff
    assert "Relapse-prevention plan shared" in _labels(after)
    assert "Relapse-prevention plan shared" not in _labels(before)


def test_an_inactive_template_does_not_apply(move):
    # given the "into IOP" template is switched off
    ChecklistTemplate.objects.filter(name="Any move into IOP").update(is_active=False)

    # when a move into IOP is approved
    handoff = move("austin_residential", "houston_iop").handoff

    # then its checklist has only the consent that every transfer needs
    assert _labels(handoff) == [CONSENT]


# --- the scheduled work -------------------------------------------------------


def test_approval_schedules_the_notice_two_escalations_and_the_reminder(move):
    # given a move planned for Friday 6 November, approved on Tuesday at NOW
    handoff = move("austin_detox", "houston_residential", planned_for=dt.date(2026, 11, 6)).handoff

    # when we look at its work
    work = _work(handoff)

    # then the team is told now, escalations wait for the deadlines (default SLA 4 hours),
    # and both sides are reminded at 09:00 Houston time on Thursday
    assert {name: (item.kind, item.due_at) for name, item in work.items()} == {
        "created": ("handoff.notify", NOW),
        "escalate:1": ("handoff.escalate", NOW + dt.timedelta(minutes=240)),
        "escalate:2": ("handoff.escalate", NOW + dt.timedelta(minutes=480)),
        "remind": ("handoff.remind", dt.datetime(2026, 11, 5, 9, 0, tzinfo=CENTRAL)),
    }
    assert work["remind"].due_at == dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)
    assert (work["escalate:1"].payload["level"], work["escalate:2"].payload["level"]) == (1, 2)
    assert {item.status for item in work.values()} == {WorkStatus.PENDING}
    assert handoff.acknowledge_due_at == NOW + dt.timedelta(hours=4)


@pytest.mark.parametrize(
    "planned_for",
    [dt.date(2026, 11, 3), dt.date(2026, 11, 4), None],
    ids=["today", "tomorrow-after-9am", "no-date"],
)
def test_no_reminder_when_the_day_before_at_9am_has_passed_or_there_is_no_date(move, planned_for):
    # given a move planned for today, for tomorrow (it is past 09:00 already), or undated
    handoff = move("austin_detox", "houston_residential", planned_for=planned_for).handoff

    # then nothing reminds anyone; the rest of the work is there
    assert set(_work(handoff)) == {"created", "escalate:1", "escalate:2"}


def test_the_acknowledgement_sla_comes_from_the_receiving_program(move, network):
    # given Houston residential promises to acknowledge within 30 minutes
    network.houston_residential.handoff_ack_minutes = 30
    network.houston_residential.save()

    # when a move there is approved
    handoff = move("austin_detox", "houston_residential").handoff

    # then the deadlines are 30 minutes and one more SLA later
    work = _work(handoff)
    assert handoff.acknowledge_due_at == NOW + dt.timedelta(minutes=30)
    assert work["escalate:1"].due_at == NOW + dt.timedelta(minutes=30)
    assert work["escalate:2"].due_at == NOW + dt.timedelta(minutes=60)


# --- acknowledging and ticking ------------------------------------------------


def test_acknowledging_calls_off_the_pending_escalations(move, users):
    # given an open hand-off to Houston with a planned date
    handoff = move("austin_detox", "houston_residential", planned_for=dt.date(2026, 11, 6)).handoff

    # when a Houston coordinator acknowledges it an hour later
    handoffs.handoff_acknowledge(actor=users.houston, handoff=handoff, now=LATER)

    # then it is acknowledged by them, and only the escalations are cancelled
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ACKNOWLEDGED
    assert (handoff.acknowledged_by, handoff.acknowledged_at) == (users.houston, LATER)
    assert _statuses(handoff) == {
        "created": WorkStatus.PENDING,
        "escalate:1": WorkStatus.CANCELLED,
        "escalate:2": WorkStatus.CANCELLED,
        "remind": WorkStatus.PENDING,
    }


def test_acknowledging_twice_is_an_illegal_transition(move, users):
    # given an acknowledged hand-off
    handoff = move("austin_detox", "houston_residential").handoff
    handoffs.handoff_acknowledge(actor=users.houston, handoff=handoff, now=LATER)

    # when another Houston member acknowledges it again
    with pytest.raises(IllegalTransition):
        handoffs.handoff_acknowledge(actor=users.houston_manager, handoff=handoff, now=LATER)

    # then the first acknowledgement stands
    handoff.refresh_from_db()
    assert handoff.acknowledged_by == users.houston


def test_a_closed_handoff_cannot_be_acknowledged_or_ticked(move, users):
    # given a transfer completed with an override, its checklist untouched
    transfer = move("austin_detox", "houston_residential")
    transfers.transfer_complete(
        actor=users.houston, transfer=transfer, handoff_override_reason="Arrived early.", now=LATER
    )
    handoff = Handoff.objects.get(transfer=transfer)
    item = handoff.items.first()

    # when Houston tries to acknowledge it or tick an item
    # then both are refused
    with pytest.raises(IllegalTransition):
        handoffs.handoff_acknowledge(actor=users.houston, handoff=handoff, now=LATER)
    with pytest.raises(IllegalTransition):
        handoffs.handoff_item_complete(
            actor=users.houston, handoff=handoff, item_id=item.pk, now=LATER
        )
    item.refresh_from_db()
    assert item.completed_at is None


def test_the_sending_side_can_neither_acknowledge_nor_tick(move, users):
    # given an open hand-off from Austin to Houston
    handoff = move("austin_detox", "houston_residential").handoff
    item = handoff.items.first()

    # when Austin's coordinator and manager try
    for sender in (users.austin, users.manager):
        with pytest.raises(NotPermitted):
            handoffs.handoff_acknowledge(actor=sender, handoff=handoff, now=LATER)
        with pytest.raises(NotPermitted):
            handoffs.handoff_item_complete(
                actor=sender, handoff=handoff, item_id=item.pk, now=LATER
            )

    # then nothing changed
    handoff.refresh_from_db()
    item.refresh_from_db()
    assert (handoff.status, item.completed_at) == (HandoffStatus.OPEN, None)
    assert _statuses(handoff)["escalate:1"] == WorkStatus.PENDING


def test_ticking_an_item_twice_keeps_the_first_tick(move, users):
    # given an item of an open hand-off, ticked by the Houston coordinator
    handoff = move("austin_detox", "houston_residential").handoff
    item = handoff.items.get(label="Medical clearance")
    handoffs.handoff_item_complete(
        actor=users.houston, handoff=handoff, item_id=item.pk, note="Cleared.", now=LATER
    )

    # when the Houston manager ticks it again later
    again = handoffs.handoff_item_complete(
        actor=users.houston_manager,
        handoff=handoff,
        item_id=item.pk,
        note="Also cleared.",
        now=LATER + dt.timedelta(hours=1),
    )

    # then the first tick stands
    item.refresh_from_db()
    assert (item.completed_by, item.completed_at, item.note) == (users.houston, LATER, "Cleared.")
    assert (again.completed_by, again.completed_at) == (users.houston, LATER)


def test_ticking_an_item_of_another_handoff_is_not_found(move, users):
    # given two hand-offs to Houston
    first = move("austin_detox", "houston_residential").handoff
    other = move("austin_residential", "houston_iop").handoff

    # when an item of the second is ticked through the first, or a malformed id is used
    # then neither exists
    for item_id in (other.items.first().pk, "not-a-uuid"):
        with pytest.raises(NotFound):
            handoffs.handoff_item_complete(
                actor=users.houston, handoff=first, item_id=item_id, now=LATER
            )
    assert not HandoffItem.objects.filter(completed_at__isnull=False).exists()


# --- completing the transfer ------------------------------------------------


def test_completing_with_open_mandatory_items_is_refused_and_changes_nothing(move, users):
    # given an approved transfer whose checklist is done but for medical clearance
    transfer = move("austin_detox", "houston_residential")
    handoff = transfer.handoff
    handoffs.handoff_acknowledge(actor=users.houston, handoff=handoff, now=LATER)
    for item in handoff.items.exclude(label="Medical clearance"):
        handoffs.handoff_item_complete(
            actor=users.houston, handoff=handoff, item_id=item.pk, now=LATER
        )

    # when Houston completes it without an override (or a blank one)
    for blank in ("", "   "):
        with pytest.raises(HandoffIncomplete) as refused:
            transfers.transfer_complete(
                actor=users.houston,
                transfer=transfer,
                handoff_override_reason=blank,
                now=LATER,
            )

        # then it is a conflict naming the override field and the open item
        assert refused.value.code == "handoff_incomplete"
        assert refused.value.field == "handoff_override_reason"
        assert refused.value.message.startswith(MSG_OPEN_MANDATORY_ITEMS)
        assert "Medical clearance" in refused.value.message

    # and nothing moved
    transfer.refresh_from_db()
    handoff.refresh_from_db()
    assert transfer.status == TransferStatus.APPROVED
    assert handoff.status == HandoffStatus.ACKNOWLEDGED
    assert Placement.objects.filter(client=transfer.client, ended_at__isnull=True).get() == (
        transfer.from_placement
    )


def test_completing_with_an_override_closes_the_handoff_and_records_the_reason(move, users):
    # given an approved transfer nobody acknowledged, planned for Friday
    transfer = move("austin_detox", "houston_residential", planned_for=dt.date(2026, 11, 6))

    # when Houston completes it with an override reason
    transfers.transfer_complete(
        actor=users.houston,
        transfer=transfer,
        handoff_override_reason="Client arrived by ambulance; paperwork follows.",
        now=LATER,
    )

    # then the client moved, the hand-off is closed with the reason, its work called off
    transfer.refresh_from_db()
    handoff = Handoff.objects.get(transfer=transfer)
    assert transfer.status == TransferStatus.COMPLETED
    assert handoff.status == HandoffStatus.CLOSED
    assert (handoff.closed_by, handoff.closed_at) == (users.houston, LATER)
    assert handoff.override_reason == "Client arrived by ambulance; paperwork follows."
    assert handoff.items.filter(completed_at__isnull=True).count() == 5
    assert set(_statuses(handoff)) == {"created", "escalate:1", "escalate:2", "remind"}
    assert set(_statuses(handoff).values()) == {WorkStatus.CANCELLED}


def test_completing_after_the_checklist_closes_the_handoff_with_who_and_when(move, users):
    # given an approved transfer whose checklist Houston finished
    transfer = move("austin_detox", "houston_residential")
    finish_checklist(transfer, users.houston, now=LATER)

    # when the Houston manager completes it (with a needless override reason)
    arrived = LATER + dt.timedelta(hours=2)
    transfers.transfer_complete(
        actor=users.houston_manager,
        transfer=transfer,
        handoff_override_reason="Just in case.",
        now=arrived,
    )

    # then the hand-off is closed by them, then, with no override on record
    handoff = Handoff.objects.get(transfer=transfer)
    assert handoff.status == HandoffStatus.CLOSED
    assert (handoff.closed_by, handoff.closed_at) == (users.houston_manager, arrived)
    assert handoff.override_reason == ""
    assert (handoff.acknowledged_by, handoff.acknowledged_at) == (users.houston, LATER)


def test_open_optional_items_do_not_block_completion(move, users):
    # given a step down to alumni whose mandatory items are done, the optional one open
    transfer = move("austin_iop", "austin_alumni")
    handoff = transfer.handoff
    for item in handoff.items.filter(mandatory=True):
        handoffs.handoff_item_complete(
            actor=users.austin, handoff=handoff, item_id=item.pk, now=LATER
        )

    # when Austin completes it without an override
    transfers.transfer_complete(actor=users.austin, transfer=transfer, now=LATER)

    # then it closes
    handoff.refresh_from_db()
    assert (handoff.status, handoff.override_reason) == (HandoffStatus.CLOSED, "")


# --- declining, cancelling, discharging ------------------------------------


@pytest.mark.parametrize("ending", ["decline", "cancel"])
def test_ending_an_approved_transfer_cancels_its_handoff_and_its_work(move, users, ending):
    # given an approved transfer to Houston with all its work pending
    transfer = move("austin_detox", "houston_residential", planned_for=dt.date(2026, 11, 6))

    # when Houston declines it or Austin cancels it
    if ending == "decline":
        transfers.transfer_decline(
            actor=users.houston, transfer=transfer, reason="Bed lost.", now=LATER
        )
    else:
        transfers.transfer_cancel(
            actor=users.austin, transfer=transfer, reason="Family chose Austin.", now=LATER
        )

    # then the hand-off is cancelled and none of its work will run
    handoff = Handoff.objects.get(transfer=transfer)
    assert (handoff.status, handoff.closed_at) == (HandoffStatus.CANCELLED, LATER)
    assert set(_statuses(handoff).values()) == {WorkStatus.CANCELLED}


def test_a_discharge_that_cancels_the_transfer_cancels_its_handoff(move, users):
    # given an approved transfer from Austin detox to Houston
    transfer = move("austin_detox", "houston_residential")

    # when Austin discharges the client before the move
    episodes.episode_discharge(
        actor=users.austin,
        episode=transfer.episode,
        discharge_type="against_medical_advice",
        discharged_at=LATER,
        now=LATER,
    )

    # then the transfer and its hand-off are cancelled, its work with them
    transfer.refresh_from_db()
    handoff = Handoff.objects.get(transfer=transfer)
    assert transfer.status == TransferStatus.CANCELLED
    assert handoff.status == HandoffStatus.CANCELLED
    assert set(_statuses(handoff).values()) == {WorkStatus.CANCELLED}


def test_a_requested_transfer_that_is_declined_has_no_handoff(network, users):
    # given a requested transfer that was never approved
    client = placed_client(network.austin_detox, users.austin)
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.houston_residential
    )

    # when Houston declines it
    transfers.transfer_decline(actor=users.houston, transfer=transfer, reason="No bed.")

    # then there was never a hand-off, nor work
    assert not Handoff.objects.exists()
    assert not WorkItem.objects.exists()


def test_acknowledging_and_ticking_a_handoff_are_audited(move, users):
    from backend.audit.models import AuditEvent
    from services import handoffs as handoff_services

    # given a hand-off to Houston
    transfer = move("austin_detox", "houston_residential")
    handoff = transfer.handoff
    item = handoff.items.first()

    # when Houston acknowledges it and ticks an item
    handoff_services.handoff_acknowledge(actor=users.houston, handoff=handoff, now=NOW)
    handoff_services.handoff_item_complete(
        actor=users.houston, handoff=handoff, item_id=item.pk, now=NOW
    )

    # then both writes are in the client's audit trail
    actions = set(
        AuditEvent.objects.filter(client_id=transfer.client_id, actor=users.houston).values_list(
            "action", flat=True
        )
    )
    assert {"handoff_acknowledge", "handoff_item_complete"} <= actions
