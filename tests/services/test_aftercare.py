"""Aftercare through the services: the plan and a year of follow-ups at a
step-down to alumni or a discharge, their dates at the site (across DST and
zones), one course per departure, death, readmission and referral back into
care, the outcome's rules, and who may write the plan.

Due dates below are computed by hand: hours are elapsed time from the anchor,
days are calendar days from the anchor's day at the responsible site."""

import datetime as dt
import uuid
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from backend.aftercare.models import (
    AftercarePlan,
    ContactAttempt,
    FollowUp,
    FollowUpMilestone,
    FollowUpProtocol,
    FollowUpStatus,
    Referral,
    ReferralOrigin,
    ReferralStatus,
)
from backend.audit.models import AuditEvent
from backend.care.models import DischargeType, Episode, TransferStatus
from backend.network.models import LevelOfCare
from backend.notifications.models import Notification
from backend.work.models import WorkItem
from services import episodes, transfers
from services.access import access_scope, clients_visible_to, referrals_visible_to
from services.aftercare import courses, follow_ups, plans
from services.aftercare.follow_ups import MSG_NOT_YET_DUE, MSG_PROGRAM_REQUIRED, MSG_STATUS_REQUIRED
from services.aftercare.plans import MSG_CHANNEL_WITHOUT_CONSENT, MSG_CONSENT_NEEDS_CHANNEL
from services.errors import ClientNotInCare, IllegalTransition, InvalidInput, NotFound, NotPermitted
from services.referrals import actions as referral_actions
from services.referrals.actions import MSG_REFER_TO_TREATMENT, ReferralAlreadyOpen
from services.work import work_run
from tests.factories import (
    ClientFactory,
    ProgramFactory,
    SiteFactory,
    discharged_episode,
    finish_checklist,
    follow_up_row,
    placed_client,
)
from tests.services.conftest import NOW

DAY = dt.timedelta(days=1)
DEFAULT_MILESTONES = ["48h", "7d", "30d", "60d", "90d", "180d", "365d"]


def refer(follow_up, program, *, actor, now=NOW, **options):
    """Complete `follow_up`: reached, relapsed, needing readmission to `program`."""
    return follow_ups.follow_up_complete(
        actor=actor,
        follow_up=follow_up,
        reached=True,
        self_reported_status="relapsed",
        needs_readmission=True,
        refer_to_program=program,
        now=now,
        **options,
    )


def _level(code):
    return LevelOfCare.objects.get(code=code)


def _schedule(episode) -> dict[str, tuple[dt.date, dt.date]]:
    """milestone -> (due_on, window_ends_on) of the episode's follow-ups."""
    return {
        f.milestone: (f.due_on, f.window_ends_on)
        for f in FollowUp.objects.filter(episode=episode).order_by("due_on")
    }


def _discharge(client, actor, at, discharge_type=DischargeType.COMPLETED):
    episode = Episode.objects.get(client=client, discharged_at__isnull=True)
    return episodes.episode_discharge(
        actor=actor, episode=episode, discharge_type=discharge_type, discharged_at=at, now=at
    )


@pytest.fixture
def step_down(network, users):
    """Move a client from their program into Austin's alumni program at `at`,
    through the services (request, approval, checklist, arrival)."""

    def move(client, at, *, sender=None, to=None):
        to = to or network.austin_alumni
        transfer = transfers.transfer_request(
            actor=sender or users.austin, client=client, to_program=to, now=at
        )
        transfer = transfers.transfer_approve(actor=users.alumni, transfer=transfer, now=at)
        finish_checklist(transfer, users.alumni, now=at)
        return transfers.transfer_complete(
            actor=users.alumni, transfer=transfer, arrived_at=at, now=at
        )

    return move


# --- the plan and the schedule, at discharge and at step-down ------------------------


def test_a_discharge_creates_an_empty_plan_and_a_year_of_follow_ups(network, users):
    # given a client in Austin residential (Central time)
    client = placed_client(network.austin_residential, users.austin, started_at=NOW - 20 * DAY)

    # when they are discharged at 10:00 Central on Tuesday 3 November 2026
    episode = _discharge(client, users.austin, NOW)

    # then the episode has a plan, empty and without consent to contact
    plan = AftercarePlan.objects.get(episode=episode)
    assert plan.client == client
    assert plan.consent_to_contact is False
    assert plan.consented_channels == []
    # and seven follow-ups from the default protocol, dated at Austin
    assert _schedule(episode) == {
        "48h": (dt.date(2026, 11, 5), dt.date(2026, 11, 6)),
        "7d": (dt.date(2026, 11, 10), dt.date(2026, 11, 13)),
        "30d": (dt.date(2026, 12, 3), dt.date(2026, 12, 6)),
        "60d": (dt.date(2027, 1, 2), dt.date(2027, 1, 5)),
        "90d": (dt.date(2027, 2, 1), dt.date(2027, 2, 4)),
        "180d": (dt.date(2027, 5, 2), dt.date(2027, 5, 5)),
        "365d": (dt.date(2027, 11, 3), dt.date(2027, 11, 6)),
    }
    follow_ups = FollowUp.objects.filter(episode=episode)
    assert {f.status for f in follow_ups} == {FollowUpStatus.SCHEDULED}
    assert {f.anchor_at for f in follow_ups} == {NOW}
    assert {f.site for f in follow_ups} == {network.austin}
    assert {f.from_program for f in follow_ups} == {network.austin_residential}
    assert {f.plan for f in follow_ups} == {plan}
    # given to the only alumni coordinator (Austin has no alumni team of its own)
    assert {f.assignee for f in follow_ups} == {users.alumni}
    # and every row written is audited
    audit = AuditEvent.objects.filter(client_id=client.pk, action="create")
    assert audit.filter(object_type="aftercare_plan").count() == 1
    assert audit.filter(object_type="follow_up").count() == 7


def test_a_step_down_to_alumni_schedules_at_the_alumni_program_from_the_arrival(
    network, users, step_down
):
    # given a client in Austin IOP who already has a plan written by the IOP team
    client = placed_client(network.austin_iop, users.austin, started_at=NOW - 30 * DAY)
    plans.aftercare_plan_upsert(
        actor=users.austin,
        client=client,
        changes={"mutual_help_meetings": True, "consent_to_contact": True, "consent_sms": True},
        now=NOW - DAY,
    )

    # when they step down to alumni, arriving at NOW
    transfer = step_down(client, NOW)

    # then that plan is kept and the follow-ups run from the arrival, at Austin
    plan = AftercarePlan.objects.get(episode=transfer.episode)
    assert plan.mutual_help_meetings is True
    assert plan.consented_channels == ["sms"]
    assert list(_schedule(transfer.episode)) == DEFAULT_MILESTONES
    assert _schedule(transfer.episode)["48h"] == (dt.date(2026, 11, 5), dt.date(2026, 11, 6))
    follow_up = FollowUp.objects.filter(episode=transfer.episode).first()
    assert follow_up.anchor_at == NOW
    assert follow_up.from_program == network.austin_iop
    assert follow_up.site == network.austin


def test_moves_that_do_not_reach_alumni_schedule_nothing(network, users):
    client = placed_client(network.austin_detox, users.austin, started_at=NOW - 5 * DAY)
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.austin_residential, now=NOW
    )
    transfers.transfer_approve(actor=users.austin, transfer=transfer, now=NOW)
    finish_checklist(transfer, users.austin, now=NOW)
    transfers.transfer_complete(actor=users.austin, transfer=transfer, now=NOW)

    assert not FollowUp.objects.exists()
    assert not AftercarePlan.objects.exists()


@pytest.mark.parametrize(
    ("anchor", "chicago", "honolulu"),
    [
        # Saturday 7 March 2026, 23:30 Central standard time; the clocks spring
        # forward that night. 48 hours later it is 00:30 CDT on Tuesday 10 March
        # in Chicago (a day later than "two calendar days"), still Monday
        # evening (19:30) in Honolulu, which keeps no DST.
        (
            dt.datetime(2026, 3, 8, 5, 30, tzinfo=dt.UTC),
            {"48h": dt.date(2026, 3, 10), "7d": dt.date(2026, 3, 14), "30d": dt.date(2026, 4, 6)},
            {"48h": dt.date(2026, 3, 9), "7d": dt.date(2026, 3, 14), "30d": dt.date(2026, 4, 6)},
        ),
        # Sunday 1 November 2026, 00:30 CDT; the clocks fall back at 02:00. 48
        # hours later it is 23:30 CST on Monday 2 November. In Honolulu the
        # anchor is still Saturday 31 October (19:30), so the days fall a day earlier.
        (
            dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC),
            {"48h": dt.date(2026, 11, 2), "7d": dt.date(2026, 11, 8), "30d": dt.date(2026, 12, 1)},
            {"48h": dt.date(2026, 11, 2), "7d": dt.date(2026, 11, 7), "30d": dt.date(2026, 11, 30)},
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_due_days_are_counted_at_the_responsible_site_across_dst_and_zones(
    network, users, anchor, chicago, honolulu
):
    # given one client at Austin (Central) and one at a Honolulu site, leaving at the same instant
    honolulu_site = SiteFactory(code="honolulu", name="Honolulu", time_zone="Pacific/Honolulu")
    honolulu_program = ProgramFactory(site=honolulu_site, level=_level("residential"))
    at_austin = placed_client(network.austin_residential, users.austin, started_at=anchor - 9 * DAY)
    at_honolulu = placed_client(honolulu_program, users.admin, started_at=anchor - 9 * DAY)

    # when both are discharged at `anchor`
    austin_episode = _discharge(at_austin, users.austin, anchor)
    honolulu_episode = _discharge(at_honolulu, users.admin, anchor)

    # then each follow-up falls on the day computed by hand at its own site
    austin, hawaii = _schedule(austin_episode), _schedule(honolulu_episode)
    assert {code: austin[code][0] for code in chicago} == chicago
    assert {code: hawaii[code][0] for code in honolulu} == honolulu
    # and the 48-hour call has one day of window, the others three
    assert austin["48h"][1] - austin["48h"][0] == DAY
    assert austin["7d"][1] - austin["7d"][0] == 3 * DAY


# --- one course per departure ----------------------------------------------------------


def test_opening_aftercare_twice_schedules_nothing_more(network, users):
    client = placed_client(network.austin_residential, users.austin, started_at=NOW - 20 * DAY)
    episode = _discharge(client, users.austin, NOW)

    again = courses.aftercare_open(
        episode=episode,
        anchor_at=NOW,
        from_program=network.austin_residential,
        site=network.austin,
        actor=users.austin,
        now=NOW,
    )

    assert again == []
    assert FollowUp.objects.filter(episode=episode).count() == 7
    assert AftercarePlan.objects.filter(episode=episode).count() == 1


def test_a_discharge_from_alumni_after_a_step_down_does_not_reschedule(network, users, step_down):
    # given a client who stepped down to alumni ten days ago
    client = placed_client(network.austin_iop, users.austin, started_at=NOW - 40 * DAY)
    transfer = step_down(client, NOW - 10 * DAY)

    # when the alumni team discharges them
    _discharge(client, users.alumni, NOW)

    # then the step-down's follow-ups are still the only ones
    follow_ups = FollowUp.objects.filter(episode=transfer.episode)
    assert follow_ups.count() == 7
    assert {f.anchor_at for f in follow_ups} == {NOW - 10 * DAY}


def test_a_step_up_from_alumni_ends_the_course_and_the_next_step_down_starts_another(
    network, users, step_down
):
    # given a client who stepped down to alumni 40 days ago, reached at 48 hours
    client = placed_client(network.austin_iop, users.austin, started_at=NOW - 90 * DAY)
    first = step_down(client, NOW - 40 * DAY)
    reached = FollowUp.objects.get(episode=first.episode, milestone="48h")
    follow_ups.follow_up_complete(
        actor=users.alumni,
        follow_up=reached,
        reached=True,
        self_reported_status="in_recovery",
        now=NOW - 38 * DAY,
    )

    # when the alumni team steps them back up to residential (they relapsed)
    up = transfers.transfer_request(
        actor=users.alumni, client=client, to_program=network.austin_residential, now=NOW - 5 * DAY
    )
    transfers.transfer_approve(actor=users.austin, transfer=up, now=NOW - 5 * DAY)
    finish_checklist(up, users.austin, now=NOW - 5 * DAY)
    transfers.transfer_complete(actor=users.austin, transfer=up, now=NOW - 5 * DAY)

    # then the first course's pending follow-ups end as a readmission
    course = FollowUp.objects.filter(episode=first.episode)
    assert course.get(milestone="48h").status == FollowUpStatus.COMPLETED
    ended = course.exclude(milestone="48h")
    assert {f.status for f in ended} == {FollowUpStatus.CANCELLED}
    assert {f.ended_reason for f in ended} == {"readmitted"}

    # and when they step down to alumni again, a new course starts from then
    step_down(client, NOW, sender=users.austin)
    new_course = FollowUp.objects.filter(episode=first.episode, anchor_at=NOW)
    assert sorted(new_course.values_list("milestone", flat=True)) == sorted(DEFAULT_MILESTONES)
    assert {f.status for f in new_course} == {FollowUpStatus.SCHEDULED}


def test_a_program_protocol_beats_its_level_which_beats_the_default(network, users):
    # given a protocol for IOP and one for Austin residential itself
    iop = FollowUpProtocol.objects.create(name="After IOP", level=_level("iop"))
    FollowUpMilestone.objects.create(
        protocol=iop, code="14d", name="14 days", offset=14, offset_unit="days", window_days=2
    )
    own = FollowUpProtocol.objects.create(
        name="Austin residential", program=network.austin_residential
    )
    FollowUpMilestone.objects.create(
        protocol=own, code="24h", name="24 hours", offset=24, offset_unit="hours", window_days=0
    )
    residential = placed_client(network.austin_residential, users.austin, started_at=NOW - 9 * DAY)
    in_iop = placed_client(network.austin_iop, users.austin, started_at=NOW - 9 * DAY)
    in_detox = placed_client(network.austin_detox, users.austin, started_at=NOW - 9 * DAY)

    # when all three leave
    episodes_by_name = {
        name: _discharge(client, users.austin, NOW)
        for name, client in (("residential", residential), ("iop", in_iop), ("detox", in_detox))
    }

    # then each gets the protocol of the program it left
    assert _schedule(episodes_by_name["residential"]) == {
        "24h": (dt.date(2026, 11, 4), dt.date(2026, 11, 4))
    }
    assert _schedule(episodes_by_name["iop"]) == {
        "14d": (dt.date(2026, 11, 17), dt.date(2026, 11, 19))
    }
    assert list(_schedule(episodes_by_name["detox"])) == DEFAULT_MILESTONES


def _opening(program, users) -> tuple[list[FollowUp], int]:
    """aftercare_open for a new client's past episode in `program`: the follow-ups
    it scheduled, and the queries it took."""
    episode = discharged_episode(
        program, users.austin, admitted_at=NOW - 9 * DAY, discharged_at=NOW - DAY
    )
    with CaptureQueriesContext(connection) as captured:
        follow_ups = courses.aftercare_open(
            episode=episode,
            anchor_at=episode.discharged_at,
            from_program=program,
            site=program.site,
            actor=users.austin,
            now=NOW,
        )
    return follow_ups, len(captured)


def test_opening_a_course_costs_the_same_queries_for_1_milestone_as_for_7(network, users):
    # given a protocol of one milestone for Austin residential (detox has the default seven)
    own = FollowUpProtocol.objects.create(
        name="Austin residential", program=network.austin_residential
    )
    FollowUpMilestone.objects.create(
        protocol=own, code="24h", name="24 hours", offset=24, offset_unit="hours", window_days=0
    )

    # when a course opens after each
    one, one_cost = _opening(network.austin_residential, users)
    seven, seven_cost = _opening(network.austin_detox, users)

    # then the cost is the same: the plan (read, insert, audit row), whether a
    # course runs, the protocol, the assignee (three), the milestones, one
    # insert of the follow-ups and one of their audit rows
    assert (len(one), len(seven)) == (1, 7)
    assert one_cost == seven_cost == 11
    # and each follow-up has its audit row, with its milestone and due day
    created = AuditEvent.objects.filter(object_type="follow_up", action="create")
    assert sorted((e.object_id, e.client_id, e.actor, e.at, e.detail) for e in created) == sorted(
        (
            f.pk,
            f.client_id,
            users.austin,
            NOW,
            {"milestone": f.milestone, "due_on": f.due_on.isoformat()},
        )
        for f in [*one, *seven]
    )


# --- death --------------------------------------------------------------------------


def test_a_client_who_died_gets_no_plan_and_no_follow_ups(network, users):
    client = placed_client(network.austin_residential, users.austin, started_at=NOW - 9 * DAY)

    _discharge(client, users.austin, NOW, DischargeType.DECEASED)

    assert not FollowUp.objects.filter(client=client).exists()
    assert not AftercarePlan.objects.filter(client=client).exists()


def test_a_death_in_alumni_ends_the_pending_follow_ups(network, users, step_down):
    # given a client in alumni with their course running
    client = placed_client(network.austin_iop, users.austin, started_at=NOW - 40 * DAY)
    step_down(client, NOW - 10 * DAY)

    # when the alumni team records the death as the discharge
    _discharge(client, users.alumni, NOW, DischargeType.DECEASED)

    # then nothing is left to call about
    follow_ups = FollowUp.objects.filter(client=client)
    assert {f.status for f in follow_ups} == {FollowUpStatus.CANCELLED}
    assert {f.ended_reason for f in follow_ups} == {"deceased"}


# --- recording attempts and outcomes --------------------------------------------------


@pytest.fixture
def due_follow_up(network, users):
    """The 7-day follow-up of a client discharged from Austin residential a
    week before NOW, who consented to phone calls; the 48-hour one was missed."""
    client = placed_client(network.austin_residential, users.austin, started_at=NOW - 30 * DAY)
    plans.aftercare_plan_upsert(
        actor=users.austin,
        client=client,
        changes={"consent_to_contact": True, "consent_phone": True},
        now=NOW - 8 * DAY,
    )
    episode = _discharge(client, users.austin, NOW - 7 * DAY)
    FollowUp.objects.filter(episode=episode, milestone="48h").update(status=FollowUpStatus.MISSED)
    return FollowUp.objects.get(episode=episode, milestone="7d")


def test_attempts_and_a_reached_outcome_complete_the_follow_up(due_follow_up, users):
    # given the alumni coordinator calls twice
    first = follow_ups.attempt_record(
        actor=users.alumni,
        follow_up=due_follow_up,
        channel="phone",
        result="no_answer",
        at=NOW - dt.timedelta(hours=3),
        now=NOW,
    )
    follow_ups.attempt_record(
        actor=users.alumni, follow_up=due_follow_up, channel="phone", result="reached", now=NOW
    )

    # when they record the outcome
    done = follow_ups.follow_up_complete(
        actor=users.alumni,
        follow_up=due_follow_up,
        reached=True,
        self_reported_status="in_recovery",
        engaged_meetings=True,
        engaged_medication=True,
        needs_housing=True,
        notes="Going to meetings three times a week.",
        now=NOW,
    )

    # then it is completed with its outcome, and every write was audited
    done.refresh_from_db()
    assert done.status == FollowUpStatus.COMPLETED
    assert (done.completed_at, done.completed_by) == (NOW, users.alumni)
    assert done.reached is True
    assert done.self_reported_status == "in_recovery"
    assert (done.engaged_meetings, done.engaged_therapy, done.engaged_medication) == (
        True,
        False,
        True,
    )
    assert (done.needs_housing, done.needs_employment, done.needs_readmission) == (
        True,
        False,
        False,
    )
    assert list(ContactAttempt.objects.filter(follow_up=done).values_list("result", flat=True)) == [
        "no_answer",
        "reached",
    ]
    assert first.by == users.alumni
    audit = AuditEvent.objects.filter(client_id=done.client_id, actor=users.alumni)
    assert audit.filter(object_type="contact_attempt", action="create").count() == 2
    assert audit.get(object_type="follow_up", action="update").detail == {
        "event": "completed",
        "milestone": "7d",
    }


def test_a_missed_follow_up_may_still_be_completed_late(due_follow_up, users):
    missed = FollowUp.objects.get(episode=due_follow_up.episode, milestone="48h")

    follow_ups.follow_up_complete(
        actor=users.alumni, follow_up=missed, reached=False, notes="Number disconnected.", now=NOW
    )

    missed.refresh_from_db()
    assert missed.status == FollowUpStatus.COMPLETED
    assert missed.reached is False


def test_a_follow_up_cannot_be_worked_before_its_due_day_or_after_it_closed(due_follow_up, users):
    later = FollowUp.objects.get(episode=due_follow_up.episode, milestone="30d")
    with pytest.raises(IllegalTransition, match=MSG_NOT_YET_DUE):
        follow_ups.follow_up_complete(actor=users.alumni, follow_up=later, reached=False, now=NOW)
    with pytest.raises(IllegalTransition, match=MSG_NOT_YET_DUE):
        follow_ups.attempt_record(
            actor=users.alumni, follow_up=later, channel="phone", result="no_answer", now=NOW
        )

    follow_ups.follow_up_complete(
        actor=users.alumni, follow_up=due_follow_up, reached=False, now=NOW
    )
    with pytest.raises(IllegalTransition):
        follow_ups.follow_up_complete(
            actor=users.alumni, follow_up=due_follow_up, reached=False, now=NOW
        )


def test_contact_needs_consent_on_the_channel_but_in_person_does_not(due_follow_up, users):
    # the client agreed to phone calls only
    with pytest.raises(InvalidInput) as refused:
        follow_ups.attempt_record(
            actor=users.alumni, follow_up=due_follow_up, channel="sms", result="no_answer", now=NOW
        )
    assert refused.value.field == "channel"

    attempt = follow_ups.attempt_record(
        actor=users.alumni,
        follow_up=due_follow_up,
        channel="in_person",
        result="reached",
        now=NOW,
    )
    assert attempt.channel == "in_person"


@pytest.mark.parametrize(
    ("outcome", "field", "message"),
    [
        ({"reached": True}, "self_reported_status", MSG_STATUS_REQUIRED),
        ({"reached": False, "self_reported_status": "using"}, "self_reported_status", None),
        ({"reached": False, "needs_housing": True}, "needs_housing", None),
        ({"reached": True, "self_reported_status": "sober"}, "self_reported_status", None),
        (
            {"reached": True, "self_reported_status": "relapsed", "needs_readmission": True},
            "refer_to_program",
            MSG_PROGRAM_REQUIRED,
        ),
    ],
    ids=["status-required", "status-unreached", "needs-unreached", "unknown-status", "no-program"],
)
def test_an_outcome_that_breaks_a_rule_names_its_field(
    due_follow_up, users, outcome, field, message
):
    with pytest.raises(InvalidInput) as refused:
        follow_ups.follow_up_complete(
            actor=users.alumni, follow_up=due_follow_up, now=NOW, **outcome
        )
    assert refused.value.field == field
    if message:
        assert refused.value.message == message
    due_follow_up.refresh_from_db()
    assert due_follow_up.status == FollowUpStatus.SCHEDULED


def test_a_reported_death_ends_the_clients_other_follow_ups(due_follow_up, users):
    follow_ups.follow_up_complete(
        actor=users.alumni,
        follow_up=due_follow_up,
        reached=False,
        self_reported_status="deceased",
        notes="Their sister answered.",
        now=NOW,
    )

    others = FollowUp.objects.filter(episode=due_follow_up.episode).exclude(pk=due_follow_up.pk)
    missed = others.get(milestone="48h")
    assert missed.status == FollowUpStatus.MISSED  # it was missed: that stays true
    assert missed.ended_reason == "deceased"
    assert {f.status for f in others.exclude(pk=missed.pk)} == {FollowUpStatus.CANCELLED}


# --- readmission and referral -------------------------------------------------------


def test_readmission_ends_the_pending_follow_ups_of_the_earlier_episode(
    due_follow_up, network, users
):
    # given the 7-day follow-up was completed and the 48-hour one missed
    follow_ups.follow_up_complete(
        actor=users.alumni,
        follow_up=due_follow_up,
        reached=True,
        self_reported_status="using",
        now=NOW,
    )

    # when the client is admitted again, without any referral
    new_episode = episodes.episode_admit(
        actor=users.austin, client=due_follow_up.client, program=network.austin_detox, now=NOW + DAY
    )

    # then the scheduled ones are cancelled, the missed one leaves the queue,
    # and the completed one is history
    by_milestone = {f.milestone: f for f in FollowUp.objects.filter(episode=due_follow_up.episode)}
    assert by_milestone["7d"].status == FollowUpStatus.COMPLETED
    assert by_milestone["7d"].ended_at is None
    assert by_milestone["48h"].status == FollowUpStatus.MISSED
    assert by_milestone["48h"].ended_reason == "readmitted"
    for code in ("30d", "60d", "90d", "180d", "365d"):
        assert by_milestone[code].status == FollowUpStatus.CANCELLED
        assert (by_milestone[code].ended_at, by_milestone[code].ended_reason) == (
            NOW + DAY,
            "readmitted",
        )
    assert not FollowUp.objects.filter(episode=new_episode).exists()


def _client_with_pending_follow_ups(network, users, pending: int):
    """A client discharged from Austin residential with `pending` follow-ups
    still to do (scheduled), one missed and one completed."""
    episode = discharged_episode(
        network.austin_residential,
        users.austin,
        admitted_at=NOW - 60 * DAY,
        discharged_at=NOW - 20 * DAY,
    )
    row = lambda **fields: follow_up_row(  # noqa: E731
        network.austin_residential, users.austin, episode=episode, **fields
    )
    return SimpleNamespace(
        client=episode.client,
        pending=[row(due_on=(NOW + (n + 1) * DAY).date()) for n in range(pending)],
        missed=row(due_on=(NOW - 10 * DAY).date(), status=FollowUpStatus.MISSED),
        completed=row(
            due_on=(NOW - 13 * DAY).date(),
            status=FollowUpStatus.COMPLETED,
            completed_at=NOW - 12 * DAY,
            completed_by=users.alumni,
            reached=True,
        ),
    )


def test_a_readmission_ends_a_course_and_audits_each_follow_up_it_ended(network, users):
    # given a client with three follow-ups to do, one missed and one completed
    story = _client_with_pending_follow_ups(network, users, 3)

    # when they are admitted again
    episodes.episode_admit(
        actor=users.austin, client=story.client, program=network.austin_detox, now=NOW
    )

    # then the ones to do are cancelled, the missed one ended, the completed one untouched
    after = {f.pk: f for f in FollowUp.objects.filter(client=story.client)}
    for follow_up in story.pending:
        ended = after[follow_up.pk]
        assert (ended.status, ended.ended_at, ended.ended_reason, ended.updated_at) == (
            FollowUpStatus.CANCELLED,
            NOW,
            "readmitted",
            NOW,
        )
    missed = after[story.missed.pk]
    assert (missed.status, missed.ended_at, missed.ended_reason) == ("missed", NOW, "readmitted")
    completed = after[story.completed.pk]
    assert (completed.ended_at, completed.ended_reason, completed.updated_at) == (
        None,
        "",
        story.completed.updated_at,
    )
    # and each one ended has its audit row, saying how it ended
    events = AuditEvent.objects.filter(object_type="follow_up", detail__event="ended")
    assert sorted(
        (e.object_id, e.client_id, e.actor, e.action, e.at, e.detail) for e in events
    ) == sorted(
        (
            pk,
            story.client.pk,
            users.austin,
            "update",
            NOW,
            {"event": "ended", "reason": "readmitted", "status": status},
        )
        for pk, status in [
            *((f.pk, "cancelled") for f in story.pending),
            (story.missed.pk, "missed"),
        ]
    )


def _readmission_queries(network, users, pending: int) -> int:
    story = _client_with_pending_follow_ups(network, users, pending)
    access_scope(users.austin)  # the caller's roles, read once per request
    with CaptureQueriesContext(connection) as captured:
        episodes.episode_admit(
            actor=users.austin, client=story.client, program=network.austin_detox, now=NOW
        )
    assert FollowUp.objects.filter(client=story.client, ended_at=NOW).count() == pending + 1
    return len(captured)


def test_ending_a_course_costs_the_same_queries_for_2_pending_follow_ups_as_for_7(network, users):
    # the follow-ups' locks, one update, one audit insert, whatever their number
    assert _readmission_queries(network, users, 2) == _readmission_queries(network, users, 7)


def test_needs_readmission_refers_a_discharged_client_and_the_admission_links_it(
    due_follow_up, network, users
):
    # when the coordinator records that the client needs to come back, to Austin detox
    refer(
        due_follow_up,
        network.austin_detox,
        actor=users.alumni,
        referral_notes="Using daily again; wants detox.",
    )

    # then an open referral waits for the receiving team
    referral = Referral.objects.get(client=due_follow_up.client)
    assert referral.status == ReferralStatus.OPEN
    assert referral.from_follow_up == due_follow_up
    assert referral.from_episode == due_follow_up.episode
    assert referral.to_program == network.austin_detox
    assert referral.transfer is None
    assert referral in referrals_visible_to(users.austin)

    # and when Austin detox admits the client, the referral links the new episode
    new_episode = episodes.episode_admit(
        actor=users.austin, client=due_follow_up.client, program=network.austin_detox, now=NOW + DAY
    )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ADMITTED
    assert referral.new_episode == new_episode
    assert referral.closed_at == NOW + DAY
    assert (
        FollowUp.objects.filter(
            episode=due_follow_up.episode, status=FollowUpStatus.SCHEDULED
        ).count()
        == 0
    )


def test_a_referral_from_a_follow_up_has_the_aftercare_source_and_must_name_it(
    due_follow_up, network, users
):
    # given a referral opened from a follow-up's outcome
    refer(due_follow_up, network.austin_detox, actor=users.alumni)
    referral = Referral.objects.get(client=due_follow_up.client)

    # then its source is aftercare
    assert referral.source == ReferralOrigin.AFTERCARE

    # and the database refuses an aftercare referral that names no follow-up
    with (
        pytest.raises(IntegrityError, match="referral_aftercare_has_follow_up"),
        transaction.atomic(),
    ):
        Referral.objects.filter(pk=referral.pk).update(from_follow_up=None)


def test_a_team_that_never_saw_the_client_admits_them_from_the_referral(
    due_follow_up, network, users
):
    # given an Austin client referred to Houston residential, which never saw them
    refer(due_follow_up, network.houston_residential, actor=users.alumni)
    referral = Referral.objects.get(client=due_follow_up.client)
    # (the referral lets Houston read the record of the client it is asked to admit)
    assert clients_visible_to(users.houston).filter(pk=referral.client_id).exists()
    # and Houston's team is told, once, by scheduled work
    told = WorkItem.objects.get(key=f"referral:{referral.pk}:opened")
    assert work_run(told.pk, now=NOW) == "done"
    assert work_run(told.pk, now=NOW) != "done"
    assert sorted(
        Notification.objects.filter(kind="referral.opened").values_list(
            "recipient__username", flat=True
        )
    ) == sorted([users.houston.username, users.houston_manager.username])
    assert referral in referrals_visible_to(users.houston)
    with pytest.raises(NotPermitted):
        referral_actions.referral_admit(actor=users.austin, referral=referral, now=NOW)

    # when Houston admits them from the referral
    episode = referral_actions.referral_admit(actor=users.houston, referral=referral, now=NOW + DAY)

    # then the new episode is linked, and Houston now has the client in its care
    referral.refresh_from_db()
    assert (referral.status, referral.new_episode) == (ReferralStatus.ADMITTED, episode)
    assert episode.referral_source == "other"
    assert clients_visible_to(users.houston).filter(pk=referral.client_id).exists()
    with pytest.raises(IllegalTransition):
        referral_actions.referral_admit(actor=users.houston, referral=referral, now=NOW + DAY)


def test_a_second_open_referral_is_refused(due_follow_up, network, users):
    refer(due_follow_up, network.austin_detox, actor=users.alumni)
    missed = FollowUp.objects.get(episode=due_follow_up.episode, milestone="48h")

    with pytest.raises(ReferralAlreadyOpen) as refused:
        refer(missed, network.austin_residential, actor=users.alumni)
    assert refused.value.field == "refer_to_program"
    missed.refresh_from_db()
    assert missed.status == FollowUpStatus.MISSED  # nothing was written


def test_a_referral_goes_to_a_treatment_program(due_follow_up, network, users):
    with pytest.raises(InvalidInput, match=MSG_REFER_TO_TREATMENT):
        refer(due_follow_up, network.austin_alumni, actor=users.alumni)


def test_a_client_in_alumni_is_referred_by_a_step_up_transfer(network, users, step_down):
    # given a client in the alumni program whose 7-day follow-up is due
    client = placed_client(network.austin_iop, users.austin, started_at=NOW - 40 * DAY)
    moved = step_down(client, NOW - 7 * DAY)
    seven = FollowUp.objects.get(episode=moved.episode, milestone="7d")

    # when the alumni coordinator refers them to Austin residential
    refer(seven, network.austin_residential, actor=users.alumni)

    # then the referral moves by a requested step-up transfer from alumni
    referral = Referral.objects.get(client=client)
    assert referral.status == ReferralStatus.OPEN
    assert referral.transfer.status == TransferStatus.REQUESTED
    assert referral.transfer.from_program == network.austin_alumni
    assert referral.transfer.to_program == network.austin_residential

    # and when residential takes them in, the referral is admitted and the course ends
    transfers.transfer_approve(actor=users.austin, transfer=referral.transfer, now=NOW)
    finish_checklist(referral.transfer, users.austin, now=NOW)
    transfers.transfer_complete(actor=users.austin, transfer=referral.transfer, now=NOW + DAY)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ADMITTED
    assert referral.new_episode is None  # same episode: the client never left care
    pending = FollowUp.objects.filter(episode=moved.episode, status=FollowUpStatus.SCHEDULED)
    assert not pending.exists()


def test_a_declined_referral_transfer_cancels_the_referral(network, users, step_down):
    client = placed_client(network.austin_iop, users.austin, started_at=NOW - 40 * DAY)
    moved = step_down(client, NOW - 7 * DAY)
    seven = FollowUp.objects.get(episode=moved.episode, milestone="7d")
    refer(seven, network.austin_residential, actor=users.alumni)
    referral = Referral.objects.get(client=client)

    transfers.transfer_decline(
        actor=users.austin, transfer=referral.transfer, reason="No bed this month.", now=NOW
    )

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CANCELLED
    assert referral.cancelled_reason == "The transfer was declined."
    # the client is still in alumni: their course goes on
    assert FollowUp.objects.filter(episode=moved.episode, status=FollowUpStatus.SCHEDULED).exists()


def test_the_receiving_team_may_decline_an_open_referral(due_follow_up, network, users):
    refer(due_follow_up, network.houston_residential, actor=users.alumni)
    referral = Referral.objects.get(client=due_follow_up.client)

    with pytest.raises(NotPermitted):
        referral_actions.referral_cancel(actor=users.nobody, referral=referral, reason="x", now=NOW)
    with pytest.raises(InvalidInput) as too_long:
        referral_actions.referral_cancel(
            actor=users.houston, referral=referral, reason="x" * 201, now=NOW
        )
    assert too_long.value.field == "reason"
    referral_actions.referral_cancel(
        actor=users.houston, referral=referral, reason="Out of our area.", now=NOW
    )

    referral.refresh_from_db()
    assert (referral.status, referral.cancelled_reason) == (
        ReferralStatus.CANCELLED,
        "Out of our area.",
    )


# --- the plan: who writes it, and its rules -----------------------------------------


def test_the_care_team_writes_the_plan_before_discharge_and_the_alumni_team_after(network, users):
    client = placed_client(network.austin_residential, users.austin, started_at=NOW - 9 * DAY)

    # before discharge: the alumni team does not even see this client; Austin writes
    with pytest.raises(NotFound):
        plans.aftercare_plan_upsert(
            actor=users.alumni, client=client, changes={"sober_living": True}, now=NOW
        )
    with pytest.raises(NotFound):
        plans.aftercare_plan_upsert(
            actor=users.houston, client=client, changes={"sober_living": True}, now=NOW
        )
    plan = plans.aftercare_plan_upsert(
        actor=users.austin,
        client=client,
        changes={"sober_living": True, "emergency_contact_name": "Dana (sister)"},
        now=NOW,
    )
    assert AuditEvent.objects.get(object_id=plan.pk, action="create").detail == {
        "fields": ["emergency_contact_name", "sober_living"]
    }

    # after discharge: the alumni team may
    _discharge(client, users.austin, NOW + DAY)
    plan = plans.aftercare_plan_upsert(
        actor=users.alumni,
        client=client,
        changes={"relapse_prevention_notes": "Avoid the old neighbourhood."},
        now=NOW + 2 * DAY,
    )
    assert plan.sober_living is True
    assert plan.relapse_prevention_notes == "Avoid the old neighbourhood."
    assert plan.updated_by == users.alumni

    # and reading it is audited
    assert plans.aftercare_plan_get(actor=users.alumni, client=client, now=NOW) == plan
    assert AuditEvent.objects.filter(object_id=plan.pk, action="view", actor=users.alumni).exists()


def test_a_coordinator_who_only_sees_a_client_cannot_write_their_plan(network, users):
    # given an Austin client that Houston sees through a declined transfer
    client = placed_client(network.austin_residential, users.austin, started_at=NOW - 9 * DAY)
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.houston_residential, now=NOW
    )
    transfers.transfer_decline(actor=users.houston, transfer=transfer, reason="Full.", now=NOW)

    with pytest.raises(NotPermitted):
        plans.aftercare_plan_upsert(
            actor=users.houston, client=client, changes={"sober_living": True}, now=NOW
        )


def test_a_client_never_admitted_has_no_plan_to_write(network, users):
    client = ClientFactory(registered_site=network.austin)
    with pytest.raises(ClientNotInCare):
        plans.aftercare_plan_upsert(
            actor=users.austin, client=client, changes={"sober_living": True}, now=NOW
        )
    assert plans.aftercare_plan_get(actor=users.austin, client=client) is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"consent_sms": True}, "consent_sms", MSG_CHANNEL_WITHOUT_CONSENT),
        ({"consent_to_contact": True}, "consent_to_contact", MSG_CONSENT_NEEDS_CHANNEL),
        ({"contact_hours_from": dt.time(9)}, "contact_hours_to", None),
        (
            {"contact_hours_from": dt.time(17), "contact_hours_to": dt.time(9)},
            "contact_hours_to",
            None,
        ),
        ({"contact_days": [1, 8]}, "contact_days", None),
        ({"discharge_notes": "x"}, "discharge_notes", None),
    ],
    ids=[
        "channel-without-consent",
        "consent-without-channel",
        "one-time",
        "reversed",
        "day-8",
        "alien",
    ],
)
def test_a_plan_that_breaks_a_rule_names_its_field(network, users, changes, field, message):
    client = placed_client(network.austin_residential, users.austin, started_at=NOW - 9 * DAY)
    with pytest.raises(InvalidInput) as refused:
        plans.aftercare_plan_upsert(actor=users.austin, client=client, changes=changes, now=NOW)
    assert refused.value.field == field
    if message:
        assert refused.value.message == message
    assert not AftercarePlan.objects.exists()


def test_withdrawing_consent_withdraws_every_channel(network, users):
    client = placed_client(network.austin_residential, users.austin, started_at=NOW - 9 * DAY)
    plans.aftercare_plan_upsert(
        actor=users.austin,
        client=client,
        changes={
            "consent_to_contact": True,
            "consent_phone": True,
            "consent_email": True,
            "contact_hours_from": dt.time(9),
            "contact_hours_to": dt.time(17),
            "contact_days": [5, 1, 3, 3],
        },
        now=NOW,
    )

    plan = plans.aftercare_plan_upsert(
        actor=users.austin, client=client, changes={"consent_to_contact": False}, now=NOW
    )

    assert plan.consented_channels == []
    assert (plan.consent_phone, plan.consent_email) == (False, False)
    assert plan.contact_days == [1, 3, 5]


def test_replacing_the_plan_resets_every_field_left_out(network, users):
    # given a plan with supports, an emergency contact and consent to calls on Mondays
    client = placed_client(network.austin_residential, users.austin, started_at=NOW - 9 * DAY)
    plans.aftercare_plan_upsert(
        actor=users.austin,
        client=client,
        changes={
            "sober_living": True,
            "sober_living_details": "Oak House.",
            "emergency_contact_name": "Dana (sister)",
            "consent_to_contact": True,
            "consent_phone": True,
            "contact_hours_from": dt.time(9),
            "contact_hours_to": dt.time(17),
            "contact_days": [1],
        },
        now=NOW,
    )

    # when it is replaced by a plan that names only the outpatient therapist
    plan = plans.aftercare_plan_upsert(
        actor=users.austin,
        client=client,
        changes={"outpatient_therapist": True},
        replace=True,
        now=NOW + DAY,
    )

    # then everything else is back to empty: no supports, no contact, no consent
    plan.refresh_from_db()
    assert plan.outpatient_therapist is True
    assert (plan.sober_living, plan.sober_living_details, plan.emergency_contact_name) == (
        False,
        "",
        "",
    )
    assert (plan.consent_to_contact, plan.consent_phone, plan.consented_channels) == (
        False,
        False,
        [],
    )
    assert (plan.contact_hours_from, plan.contact_hours_to, plan.contact_days) == (None, None, [])
    # and the audit names every field that changed
    assert AuditEvent.objects.get(object_id=plan.pk, action="update").detail == {
        "fields": sorted(
            [
                "outpatient_therapist",
                "sober_living",
                "sober_living_details",
                "emergency_contact_name",
                "consent_to_contact",
                "consent_phone",
                "contact_hours_from",
                "contact_hours_to",
                "contact_days",
            ]
        )
    }


def test_a_replacing_plan_with_a_channel_but_no_consent_names_the_channel(network, users):
    # given a plan with consent to texts
    client = placed_client(network.austin_residential, users.austin, started_at=NOW - 9 * DAY)
    plans.aftercare_plan_upsert(
        actor=users.austin,
        client=client,
        changes={"consent_to_contact": True, "consent_sms": True},
        now=NOW,
    )

    # when a replacement keeps texts but leaves consent to contact out
    with pytest.raises(InvalidInput) as refused:
        plans.aftercare_plan_upsert(
            actor=users.austin, client=client, changes={"consent_sms": True}, replace=True, now=NOW
        )

    # then consent left out is no, and the channel is refused (a partial change keeps it)
    assert (refused.value.field, refused.value.message) == (
        "consent_sms",
        MSG_CHANNEL_WITHOUT_CONSENT,
    )
    kept = plans.aftercare_plan_upsert(
        actor=users.austin, client=client, changes={"consent_sms": True}, now=NOW
    )
    assert kept.consented_channels == ["sms"]


# --- what the database guarantees -------------------------------------------------------


def test_the_database_refuses_a_second_follow_up_for_one_milestone_of_a_course(network, users):
    client = placed_client(network.austin_residential, users.austin, started_at=NOW - 9 * DAY)
    episode = _discharge(client, users.austin, NOW)
    original = FollowUp.objects.filter(episode=episode).first()
    original.pk = uuid.uuid4()
    with pytest.raises(IntegrityError), transaction.atomic():
        original.save(force_insert=True)


def test_the_database_refuses_a_completed_follow_up_without_its_outcome(network, users):
    client = placed_client(network.austin_residential, users.austin, started_at=NOW - 9 * DAY)
    episode = _discharge(client, users.austin, NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.filter(episode=episode).update(status=FollowUpStatus.COMPLETED)


def test_the_database_allows_one_active_default_protocol(db):
    # the migration seeded the default, with its seven milestones
    default = FollowUpProtocol.objects.get(name="Default follow-ups")
    assert list(default.milestones.values_list("code", flat=True)) == DEFAULT_MILESTONES
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUpProtocol.objects.create(name="Another default")
