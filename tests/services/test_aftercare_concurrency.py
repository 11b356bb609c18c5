"""Aftercare writes racing on PostgreSQL: real transactions in threads
(the helper and the setup of tests/services/test_concurrency.py)."""

import datetime as dt

import pytest

from backend.aftercare.models import FollowUp, FollowUpStatus
from services.aftercare import follow_ups
from services.errors import IllegalTransition
from tests.concurrency import race
from tests.factories import follow_up_row

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TODAY = dt.date(2026, 11, 3)
NOW = dt.datetime(2026, 11, 3, 16, 0, tzinfo=dt.UTC)


def test_coordinators_completing_one_follow_up_at_once_record_one_outcome(network, users):
    follow_up = follow_up_row(network.austin_residential, users.austin, due_on=TODAY)
    actors = [users.alumni, users.austin, users.austin2, users.manager]

    outcomes = race(
        [
            lambda actor=actor: follow_ups.follow_up_complete(
                actor=actor,
                follow_up=follow_up,
                reached=True,
                self_reported_status="in_recovery",
                notes=f"by {actor.username}",
                now=NOW,
            )
            for actor in actors
        ]
    )

    wins = [o for o in outcomes if isinstance(o, FollowUp)]
    refusals = [o for o in outcomes if isinstance(o, IllegalTransition)]
    assert (len(wins), len(refusals)) == (1, len(actors) - 1), outcomes
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.COMPLETED
    assert follow_up.notes == f"by {follow_up.completed_by.username}"


def test_a_bulk_reassignment_and_a_reported_death_do_not_deadlock(network, users):
    # given clients with two follow-ups each: one due today, one missed
    rounds = 5
    for _ in range(rounds):
        due = follow_up_row(network.austin_residential, users.austin, due_on=TODAY)
        missed = follow_up_row(
            network.austin_residential,
            users.austin,
            due_on=TODAY - dt.timedelta(days=10),
            episode=due.episode,
            status=FollowUpStatus.MISSED,
        )

        # when a manager moves both while a coordinator records the client's death
        # (which ends the missed one): they lock the same rows in different orders
        outcomes = race(
            [
                lambda d=due, m=missed: follow_ups.follow_ups_reassign_bulk(
                    actor=users.manager,
                    follow_up_ids=[m.pk, d.pk],
                    assignee=users.alumni,
                    now=NOW,
                ),
                lambda d=due: follow_ups.follow_up_complete(
                    actor=users.austin,
                    follow_up=d,
                    reached=False,
                    self_reported_status="deceased",
                    now=NOW,
                ),
            ]
        )

        # then both finish: the death always, the move unless the death came first
        assert isinstance(outcomes[1], FollowUp), outcomes
        assert isinstance(outcomes[0], list | IllegalTransition), outcomes
        missed.refresh_from_db()
        assert missed.ended_reason == "deceased"


def test_two_bulk_reassignments_of_the_same_clients_in_opposite_orders_both_finish(network, users):
    # given follow-ups of three clients, and two managers moving all of them at once,
    # naming them in opposite orders (each locks the clients first, in id order)
    rounds = 5
    for _ in range(rounds):
        rows = [
            follow_up_row(network.austin_residential, users.austin, due_on=TODAY) for _ in range(3)
        ]
        ids = [row.pk for row in rows]

        outcomes = race(
            [
                lambda ids=ids: follow_ups.follow_ups_reassign_bulk(
                    actor=users.manager, follow_up_ids=ids, assignee=users.alumni, now=NOW
                ),
                lambda ids=ids: follow_ups.follow_ups_reassign_bulk(
                    actor=users.admin, follow_up_ids=ids[::-1], assignee=None, now=NOW
                ),
            ]
        )

        # then neither failed (no deadlock), and one of them moved all three last
        assert all(isinstance(o, list) and len(o) == 3 for o in outcomes), outcomes
        assignees = {row.assignee_id for row in FollowUp.objects.filter(pk__in=ids)}
        assert assignees in ({users.alumni.pk}, {None}), assignees
