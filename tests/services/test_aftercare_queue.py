"""The alumni team's queue, who is given the follow-ups, and who may see and
act on them.

The queue is read at QUEUE_NOW, 05:30 UTC on Wednesday 4 November 2026: just
after midnight in New York (it is the 4th there), still 23:30 on the 3rd in
Austin (Central time). One due date can therefore be "upcoming" at Austin and
"due" in New York at the same instant."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.aftercare.models import AlumniTeamMembership, FollowUp, FollowUpStatus
from backend.audit.models import AuditEvent
from backend.care.models import DischargeType, Episode
from backend.network.models import LevelOfCare
from services import episodes
from services.access import (
    Role,
    access_scope,
    aftercare_plans_visible_to,
    follow_ups_visible_to,
    role_grant,
    role_revoke,
)
from services.aftercare import follow_ups, plans
from services.aftercare.follow_ups import MSG_ASSIGNEE_NOT_ALUMNI
from services.aftercare.queue import follow_up_queue
from services.errors import IllegalTransition, InvalidInput, NotFound, NotPermitted
from tests.factories import (
    ProgramFactory,
    SiteFactory,
    UserFactory,
    follow_up_row,
    placed_client,
)
from tests.services.conftest import NOW

QUEUE_NOW = dt.datetime(2026, 11, 4, 5, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
NOV = {day: dt.date(2026, 11, day) for day in range(1, 31)}
OCT = {day: dt.date(2026, 10, day) for day in range(1, 32)}


def alumni_coordinator(username: str):
    user = UserFactory(username=username)
    role_grant(user=user, role=Role.ALUMNI_COORDINATOR)
    return user


@pytest.fixture
def new_york(network):
    site = SiteFactory(code="brooklyn", name="Brooklyn", time_zone="America/New_York")
    return ProgramFactory(
        site=site, level=LevelOfCare.objects.get(code="residential"), name="Brooklyn Residential"
    )


@pytest.fixture
def queue(network, users, new_york):
    """Follow-ups in every state at Austin (Central), Brooklyn (Eastern) and Houston."""
    austin, by = network.austin_residential, users.austin
    done = {
        "status": FollowUpStatus.COMPLETED,
        "completed_at": QUEUE_NOW - dt.timedelta(hours=20),
        "completed_by": users.alumni,
        "reached": True,
        "self_reported_status": "in_recovery",
    }
    rows = {
        # Austin, where it is still 3 November
        "austin_upcoming": follow_up_row(austin, by, due_on=NOV[4]),
        "austin_due_first_day": follow_up_row(austin, by, due_on=NOV[3], status=FollowUpStatus.DUE),
        "austin_due_last_day": follow_up_row(austin, by, due_on=OCT[31]),
        "austin_window_closed": follow_up_row(austin, by, due_on=OCT[30]),
        "austin_missed": follow_up_row(austin, by, due_on=OCT[20], status=FollowUpStatus.MISSED),
        "austin_missed_ended": follow_up_row(
            austin,
            by,
            due_on=OCT[20],
            status=FollowUpStatus.MISSED,
            ended_at=QUEUE_NOW,
            ended_reason="readmitted",
        ),
        "austin_completed": follow_up_row(austin, by, due_on=NOV[2], **done),
        "austin_cancelled": follow_up_row(
            austin,
            by,
            due_on=NOV[2],
            status=FollowUpStatus.CANCELLED,
            ended_at=QUEUE_NOW,
            ended_reason="readmitted",
        ),
        # Brooklyn, where it is 4 November already
        "brooklyn_due_today": follow_up_row(new_york, users.admin, due_on=NOV[4]),
        "brooklyn_window_closed": follow_up_row(new_york, users.admin, due_on=OCT[31]),
        "brooklyn_upcoming": follow_up_row(new_york, users.admin, due_on=NOV[5]),
        # Houston (Central)
        "houston_due": follow_up_row(network.houston_residential, users.houston, due_on=NOV[2]),
    }
    return rows


def _names(rows: dict, follow_ups) -> set[str]:
    by_pk = {row.pk: name for name, row in rows.items()}
    return {by_pk[f.pk] for f in follow_ups}


# --- the buckets, across time zones --------------------------------------------------------


def test_each_bucket_is_computed_on_the_day_at_each_follow_ups_site(queue, users):
    def bucket(name):
        return _names(queue, follow_up_queue(users.alumni, bucket=name, now=QUEUE_NOW))

    # due: within its window today at its site, whatever the scan has set yet
    assert bucket("due") == {
        "austin_due_first_day",
        "austin_due_last_day",
        "brooklyn_due_today",
        "houston_due",
    }
    # overdue: the window closed (the last day was yesterday there), or missed and not ended
    assert bucket("overdue") == {
        "austin_window_closed",
        "austin_missed",
        "brooklyn_window_closed",
    }
    # upcoming: not due yet there. Due on the 4th: upcoming in Austin, due in Brooklyn
    assert bucket("upcoming") == {"austin_upcoming", "brooklyn_upcoming"}
    assert bucket("completed") == {"austin_completed"}


def test_the_window_closes_at_midnight_at_the_site_not_in_utc(queue, users):
    # At 04:59 UTC it is still the 3rd in Brooklyn: its window closing on the 3rd is due
    before = QUEUE_NOW - dt.timedelta(minutes=31)
    due = follow_up_queue(users.alumni, bucket="due", now=before)
    assert "brooklyn_window_closed" in _names(queue, due)
    # At 05:30 UTC it is the 4th there: overdue, while the same dates at Austin are due
    overdue = follow_up_queue(users.alumni, bucket="overdue", now=QUEUE_NOW)
    assert "brooklyn_window_closed" in _names(queue, overdue)
    assert "austin_due_last_day" not in _names(queue, overdue)


def test_each_row_carries_the_day_at_its_site(queue, users):
    rows = follow_up_queue(users.alumni, bucket="due", now=QUEUE_NOW)
    today = {queue_name: row.site_today for row in rows for queue_name in _names(queue, [row])}
    assert today["austin_due_first_day"] == NOV[3]
    assert today["brooklyn_due_today"] == NOV[4]


def test_the_queue_narrows_to_an_assignee_and_a_site(queue, users, new_york):
    other = alumni_coordinator("alumni.other")
    FollowUp.objects.filter(pk=queue["brooklyn_due_today"].pk).update(assignee=other)
    FollowUp.objects.filter(pk=queue["austin_due_first_day"].pk).update(assignee=users.alumni)

    mine = follow_up_queue(users.alumni, bucket="due", assignee=users.alumni, now=QUEUE_NOW)
    theirs = follow_up_queue(users.alumni, bucket="due", assignee=other, now=QUEUE_NOW)
    brooklyn = follow_up_queue(users.alumni, bucket="due", site_id=new_york.site_id, now=QUEUE_NOW)

    assert _names(queue, mine) == {"austin_due_first_day"}
    assert _names(queue, theirs) == {"brooklyn_due_today"}
    assert _names(queue, brooklyn) == {"brooklyn_due_today"}


def test_a_site_coordinator_queues_only_their_sites_follow_ups(queue, users):
    austin = follow_up_queue(users.austin, bucket="due", now=QUEUE_NOW)
    houston = follow_up_queue(users.houston, bucket="due", now=QUEUE_NOW)
    nobody = follow_up_queue(users.nobody, bucket="due", now=QUEUE_NOW)

    assert _names(queue, austin) == {"austin_due_first_day", "austin_due_last_day"}
    assert _names(queue, houston) == {"houston_due"}
    assert list(nobody) == []


def test_the_queue_costs_two_queries_whatever_its_length(
    queue, users, network, django_assert_num_queries
):
    # given many more due follow-ups than before
    for _ in range(10):
        follow_up_row(network.austin_residential, users.austin, due_on=NOV[3])
    access_scope(users.alumni)  # the caller's roles, read once per request

    # then: the sites' days, and the page with its client, site and assignee
    with django_assert_num_queries(2):
        rows = list(follow_up_queue(users.alumni, bucket="due", now=QUEUE_NOW))
        names = [(row.client.mrn, row.site.name, row.assignee) for row in rows]
    assert len(names) == 14


def test_an_unknown_bucket_names_the_status_parameter(users):
    with pytest.raises(InvalidInput) as refused:
        follow_up_queue(users.alumni, bucket="late", now=QUEUE_NOW)
    assert refused.value.field == "status"


# --- assignment: the site's alumni team, balanced by load ---------------------------------


def _discharge_new_client(network, users, at=NOW):
    client = placed_client(network.austin_residential, users.austin, started_at=at - 9 * DAY)
    episode = Episode.objects.get(client=client)
    episodes.episode_discharge(
        actor=users.austin, episode=episode, discharge_type=DischargeType.COMPLETED, now=at
    )
    return FollowUp.objects.filter(episode=episode)


def test_follow_ups_go_to_the_least_loaded_member_of_the_sites_alumni_team(network, users):
    # given Austin's alumni team: Blake with two open follow-ups, Avery with one
    # open and five completed (completed work is not load)
    blake, avery = alumni_coordinator("blake"), alumni_coordinator("avery")
    for member in (blake, avery):
        AlumniTeamMembership.objects.create(user=member, site=network.austin)
    for _ in range(2):
        follow_up_row(network.austin_residential, users.austin, due_on=NOV[20], assignee=blake)
    follow_up_row(network.austin_residential, users.austin, due_on=NOV[20], assignee=avery)
    for _ in range(5):
        follow_up_row(
            network.austin_residential,
            users.austin,
            due_on=NOV[1],
            assignee=avery,
            status=FollowUpStatus.COMPLETED,
            completed_at=NOW,
            completed_by=avery,
            reached=True,
        )

    # when a client is discharged from Austin
    follow_ups = _discharge_new_client(network, users)

    # then the whole course goes to Avery (one person calls the client all year),
    # not to the organisation-wide alumni coordinator who is not on Austin's team
    assert {f.assignee for f in follow_ups} == {avery}

    # and the next discharge goes to Blake, now the lighter of the two
    assert {f.assignee for f in _discharge_new_client(network, users)} == {blake}


def test_a_tie_goes_to_the_first_username_and_members_without_the_role_are_skipped(network, users):
    zoe, adam = alumni_coordinator("zoe"), alumni_coordinator("adam")
    former = UserFactory(username="aaron")  # a member who no longer holds the role
    for member in (zoe, adam, former):
        AlumniTeamMembership.objects.create(user=member, site=network.austin)

    assert {f.assignee for f in _discharge_new_client(network, users)} == {adam}


def test_a_site_without_a_team_shares_among_all_alumni_coordinators(network, users):
    # given Houston has a team and Austin has none; the fixture's coordinator is loaded
    houston_member = alumni_coordinator("houston.alumni")
    AlumniTeamMembership.objects.create(user=houston_member, site=network.houston)
    follow_up_row(network.austin_residential, users.austin, due_on=NOV[20], assignee=users.alumni)

    # then an Austin discharge goes to the least loaded coordinator of all
    assert {f.assignee for f in _discharge_new_client(network, users)} == {houston_member}


def test_without_any_alumni_coordinator_follow_ups_wait_unassigned(network, users):
    role_revoke(user=users.alumni, role=Role.ALUMNI_COORDINATOR)

    follow_ups = _discharge_new_client(network, users)

    assert follow_ups.count() == 7
    assert {f.assignee for f in follow_ups} == {None}
    # and they are in the queue of the site's staff
    austin_due = follow_up_queue(users.austin, bucket="upcoming", now=NOW)
    assert set(austin_due) == set(follow_ups)


# --- who sees and who acts -------------------------------------------------------------------


def test_alumni_coordinators_see_every_sites_follow_ups_a_site_coordinator_only_theirs(
    network, users
):
    austin = follow_up_row(network.austin_residential, users.austin, due_on=NOV[3])
    houston = follow_up_row(network.houston_residential, users.houston, due_on=NOV[3])

    assert set(follow_ups_visible_to(users.alumni)) == {austin, houston}
    assert set(follow_ups_visible_to(users.admin)) == {austin, houston}
    assert set(follow_ups_visible_to(users.austin)) == {austin}
    assert set(follow_ups_visible_to(users.manager)) == {austin}
    assert set(follow_ups_visible_to(users.houston)) == {houston}
    assert not follow_ups_visible_to(users.nobody).exists()


def test_the_alumni_team_sees_the_plan_of_a_client_it_follows_up(network, users):
    # given a client discharged from Houston, never in an alumni program
    client = placed_client(network.houston_residential, users.houston, started_at=NOW - 9 * DAY)
    episodes.episode_discharge(
        actor=users.houston,
        episode=Episode.objects.get(client=client),
        discharge_type=DischargeType.COMPLETED,
        now=NOW,
    )

    assert aftercare_plans_visible_to(users.alumni).filter(client=client).exists()
    assert aftercare_plans_visible_to(users.houston).filter(client=client).exists()
    assert not aftercare_plans_visible_to(users.austin).filter(client=client).exists()
    with pytest.raises(NotFound):
        plans.aftercare_plan_get(actor=users.austin, client=client)


@pytest.fixture
def austin_due(network, users):
    """A follow-up due today (NOW) at Austin, with the client's consent to phone calls."""
    row = follow_up_row(network.austin_residential, users.austin, due_on=NOV[3])
    row.plan.consent_to_contact = row.plan.consent_phone = True
    row.plan.save()
    return row


def test_the_sites_coordinators_may_work_its_follow_ups_others_may_not(austin_due, users):
    for outsider in (users.houston, users.nobody):
        with pytest.raises(NotPermitted):
            follow_ups.attempt_record(
                actor=outsider, follow_up=austin_due, channel="phone", result="reached", now=NOW
            )
        with pytest.raises(NotPermitted):
            follow_ups.follow_up_complete(
                actor=outsider, follow_up=austin_due, reached=False, now=NOW
            )

    follow_ups.attempt_record(
        actor=users.austin2, follow_up=austin_due, channel="phone", result="reached", now=NOW
    )
    follow_ups.follow_up_complete(
        actor=users.austin2,
        follow_up=austin_due,
        reached=True,
        self_reported_status="in_recovery",
        now=NOW,
    )
    austin_due.refresh_from_db()
    assert austin_due.completed_by == users.austin2


def test_the_alumni_team_and_the_sites_managers_reassign_coordinators_do_not(austin_due, users):
    other = alumni_coordinator("alumni.other")

    with pytest.raises(NotPermitted):
        follow_ups.follow_up_reassign(actor=users.austin, follow_up=austin_due, assignee=other)
    with pytest.raises(NotPermitted):
        follow_ups.follow_up_reassign(
            actor=users.houston_manager, follow_up=austin_due, assignee=other
        )

    follow_ups.follow_up_reassign(
        actor=users.manager, follow_up=austin_due, assignee=other, now=NOW
    )
    follow_ups.follow_up_reassign(
        actor=users.alumni, follow_up=austin_due, assignee=users.alumni, now=NOW
    )

    austin_due.refresh_from_db()
    assert austin_due.assignee == users.alumni
    moves = AuditEvent.objects.filter(object_id=austin_due.pk, detail__event="reassigned")
    assert moves.count() == 2


def test_only_an_alumni_coordinator_may_be_given_a_follow_up(austin_due, users):
    with pytest.raises(InvalidInput, match=MSG_ASSIGNEE_NOT_ALUMNI) as refused:
        follow_ups.follow_up_reassign(
            actor=users.alumni, follow_up=austin_due, assignee=users.austin
        )
    assert refused.value.field == "assignee"


def test_finished_work_is_not_reassigned(austin_due, users):
    follow_ups.follow_up_complete(actor=users.alumni, follow_up=austin_due, reached=False, now=NOW)
    with pytest.raises(IllegalTransition):
        follow_ups.follow_up_reassign(actor=users.alumni, follow_up=austin_due, assignee=None)


def test_a_bulk_reassignment_is_all_or_nothing(network, users):
    # given two Austin follow-ups and one at Houston
    first = follow_up_row(network.austin_residential, users.austin, due_on=NOV[3])
    second = follow_up_row(network.austin_residential, users.austin, due_on=NOV[4])
    houston = follow_up_row(network.houston_residential, users.houston, due_on=NOV[4])
    other = alumni_coordinator("alumni.other")

    # when Austin's manager includes the Houston one, which they cannot see
    with pytest.raises(NotFound) as refused:
        follow_ups.follow_ups_reassign_bulk(
            actor=users.manager, follow_up_ids=[first.pk, houston.pk], assignee=other, now=NOW
        )
    assert refused.value.field == "follow_ups"
    # or an id that is not one
    with pytest.raises(NotFound):
        follow_ups.follow_ups_reassign_bulk(
            actor=users.manager, follow_up_ids=[first.pk, "not-a-uuid"], assignee=other, now=NOW
        )

    # then nothing moved
    assert not FollowUp.objects.filter(assignee=other).exists()

    # and with only their own, both move
    moved = follow_ups.follow_ups_reassign_bulk(
        actor=users.manager, follow_up_ids=[first.pk, str(second.pk)], assignee=other, now=NOW
    )
    assert {f.pk for f in moved} == {first.pk, second.pk}
    assert set(FollowUp.objects.filter(assignee=other)) == {first, second}


def test_a_bulk_reassignment_has_a_limit(users):
    ids = [f"00000000-0000-0000-0000-{n:012d}" for n in range(501)]
    with pytest.raises(InvalidInput) as refused:
        follow_ups.follow_ups_reassign_bulk(
            actor=users.alumni, follow_up_ids=ids, assignee=None, now=NOW
        )
    assert refused.value.field == "follow_ups"


def _bulk_reassignment_queries(network, users, assignee, n: int, *, staying: int = 0) -> int:
    """The queries of moving n follow-ups, each of its own client, at once,
    with `staying` more that are the assignee's already."""
    rows = [
        follow_up_row(network.austin_residential, users.austin, due_on=NOV[3]) for _ in range(n)
    ] + [
        follow_up_row(network.austin_residential, users.austin, due_on=NOV[3], assignee=assignee)
        for _ in range(staying)
    ]
    access_scope(users.manager)  # the caller's roles, read once per request
    with CaptureQueriesContext(connection) as captured:
        moved = follow_ups.follow_ups_reassign_bulk(
            actor=users.manager, follow_up_ids=[f.pk for f in rows], assignee=assignee, now=NOW
        )
    assert {f.pk for f in moved} == {f.pk for f in rows}
    return len(captured)


def test_a_bulk_reassignment_costs_the_same_queries_for_2_follow_ups_as_for_6(network, users):
    other = alumni_coordinator("alumni.other")

    few = _bulk_reassignment_queries(network, users, other, 2)
    many = _bulk_reassignment_queries(network, users, other, 6)

    # 9 whatever their number: the savepoint and its release, the assignee's
    # role (two), the visible ids, the clients' locks, the follow-ups' locks,
    # one update and one audit insert
    assert many == few
    assert FollowUp.objects.filter(assignee=other).count() == 8


def test_a_bulk_reassignment_of_some_already_theirs_costs_the_same_for_4_as_for_12(network, users):
    other = alumni_coordinator("alumni.other")

    few = _bulk_reassignment_queries(network, users, other, 2, staying=2)
    many = _bulk_reassignment_queries(network, users, other, 6, staying=6)

    # 10 whatever their number: the 9 above, and one insert of the reads of
    # those that stay
    assert many == few == 10
    assert AuditEvent.objects.filter(object_type="follow_up", action="view").count() == 8


def test_a_bulk_reassignment_audits_each_follow_up_it_moved_once(network, users):
    # given one client's two follow-ups, unassigned, and another's, already the alumni's
    first = follow_up_row(network.austin_residential, users.austin, due_on=NOV[3])
    second = follow_up_row(
        network.austin_residential, users.austin, due_on=NOV[4], episode=first.episode
    )
    theirs = follow_up_row(
        network.austin_residential, users.austin, due_on=NOV[4], assignee=users.alumni
    )

    # when the manager gives all three to the alumni coordinator
    moved = follow_ups.follow_ups_reassign_bulk(
        actor=users.manager,
        follow_up_ids=[theirs.pk, second.pk, first.pk],
        assignee=users.alumni,
        now=NOW,
    )

    # then all three are answered, in id order, and are the alumni's
    assert [f.pk for f in moved] == sorted([first.pk, second.pk, theirs.pk])
    assert {f.assignee for f in FollowUp.objects.all()} == {users.alumni}
    # and the two that moved were audited once each as changed, the third as read
    events = AuditEvent.objects.filter(object_type="follow_up")
    reassigned = {"event": "reassigned", "from": "", "to": str(users.alumni.pk)}
    assert sorted(
        (e.object_id, e.client_id, e.actor, e.at, e.action, e.detail) for e in events
    ) == sorted(
        [
            (first.pk, first.client_id, users.manager, NOW, "update", reassigned),
            (second.pk, second.client_id, users.manager, NOW, "update", reassigned),
            (theirs.pk, theirs.client_id, users.manager, NOW, "view", {}),
        ]
    )
    first.refresh_from_db()
    assert first.updated_at == NOW
    theirs_before = theirs.updated_at
    theirs.refresh_from_db()
    assert theirs.updated_at == theirs_before


def test_a_bulk_reassignment_including_finished_work_moves_nothing(network, users):
    # given a due follow-up and a completed one
    due = follow_up_row(network.austin_residential, users.austin, due_on=NOV[3])
    done = follow_up_row(
        network.austin_residential,
        users.austin,
        due_on=NOV[1],
        status=FollowUpStatus.COMPLETED,
        completed_at=NOW,
        completed_by=users.alumni,
        reached=True,
    )

    # when both are given to the alumni coordinator
    with pytest.raises(IllegalTransition):
        follow_ups.follow_ups_reassign_bulk(
            actor=users.manager, follow_up_ids=[due.pk, done.pk], assignee=users.alumni, now=NOW
        )

    # then neither moved, and nothing was audited
    assert not FollowUp.objects.filter(assignee=users.alumni).exists()
    assert not AuditEvent.objects.filter(detail__event="reassigned").exists()
