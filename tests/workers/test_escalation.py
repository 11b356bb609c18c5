"""The acknowledgement SLA on a controlled clock: who is alerted, when, and how often.

No worker here: the test plays the worker, running every item the sweep
would find due at a given `now` (services.work), so hours pass in a test.
The work rows and handlers are the real ones; a wake-up through the broker
never happens, since nothing commits inside a (non-transactional) test.
"""

from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from backend.handoffs.models import HandoffStatus
from backend.notifications.models import Notification
from backend.work.models import WorkItem, WorkStatus
from services import handoffs, transfers
from services.handoffs import ESCALATE_KIND
from services.work import work_due, work_run
from tests.factories import placed_client

pytestmark = pytest.mark.django_db

SLA = timedelta(hours=2)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def approved_at(network):
    """When Houston approved the move; Houston residential's SLA is two hours."""
    network.houston_residential.handoff_ack_minutes = SLA // MINUTE
    network.houston_residential.save(update_fields=["handoff_ack_minutes"])
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def handoff(network, users, approved_at):
    client = placed_client(network.austin_residential, users.austin)
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.houston_residential, now=approved_at
    )
    transfer = transfers.transfer_approve(actor=users.houston, transfer=transfer, now=approved_at)
    return transfer.handoff


def run_due_work(now: datetime) -> list[str]:
    """What a worker does after the sweep at `now`: run every item due and not
    done, until none is left (an item may schedule more). Returns the outcomes."""
    outcomes = []
    while due := work_due(now=now):
        outcomes += [work_run(item_id, now=now) for item_id, _ in due]
    return outcomes


def escalations() -> Counter:
    """Escalation notifications by (recipient, key)."""
    return Counter(
        Notification.objects.filter(kind="handoff.escalated").values_list(
            "recipient__username", "key"
        )
    )


def test_an_unacknowledged_handoff_alerts_the_site_manager_then_the_admins_once_each(
    users, handoff, approved_at
):
    # given the receiving team was told at approval
    run_due_work(approved_at)
    assert Notification.objects.filter(kind="handoff.created").count() == 2

    # when the deadline has not yet passed, then nobody is alerted
    run_due_work(approved_at + SLA - MINUTE)
    assert escalations() == Counter()

    # when the acknowledgement deadline passes
    run_due_work(approved_at + SLA)

    # then Houston's site manager is alerted, and only they
    first = f"handoff:{handoff.pk}:escalated:1"
    assert escalations() == Counter({(users.houston_manager.username, first): 1})
    handoff.refresh_from_db()
    assert handoff.escalation_level == 1

    # when the same escalation runs again, and time passes short of the second deadline
    item = WorkItem.objects.get(key=f"handoff:{handoff.pk}:escalate:1")
    assert work_run(item.pk, now=approved_at + SLA + MINUTE) == "skipped"
    run_due_work(approved_at + 2 * SLA - MINUTE)

    # then nobody is alerted again
    assert escalations() == Counter({(users.houston_manager.username, first): 1})

    # when the second deadline passes, and long after
    run_due_work(approved_at + 2 * SLA)
    run_due_work(approved_at + 10 * SLA)

    # then the organisation admin is alerted, once; nobody else ever was
    second = f"handoff:{handoff.pk}:escalated:2"
    assert escalations() == Counter(
        {(users.houston_manager.username, first): 1, (users.admin.username, second): 1}
    )
    handoff.refresh_from_db()
    assert handoff.escalation_level == 2
    assert set(WorkItem.objects.filter(kind=ESCALATE_KIND).values_list("status", flat=True)) == {
        WorkStatus.DONE
    }


def test_a_handoff_acknowledged_in_time_never_escalates(users, handoff, approved_at):
    # given Houston acknowledges a minute before the deadline
    run_due_work(approved_at)
    handoffs.handoff_acknowledge(
        actor=users.houston, handoff=handoff, now=approved_at + SLA - MINUTE
    )

    # when both deadlines pass
    outcomes = run_due_work(approved_at + 10 * SLA)

    # then nobody is alerted and both escalations were called off
    assert outcomes == []
    assert escalations() == Counter()
    handoff.refresh_from_db()
    assert (handoff.status, handoff.escalation_level) == (HandoffStatus.ACKNOWLEDGED, 0)
    assert set(WorkItem.objects.filter(kind=ESCALATE_KIND).values_list("status", flat=True)) == {
        WorkStatus.CANCELLED
    }


def test_acknowledging_after_the_first_alert_stops_the_second(users, handoff, approved_at):
    # given the site manager was alerted at the deadline
    run_due_work(approved_at + SLA)
    # and Houston acknowledges afterwards, before the second deadline
    handoffs.handoff_acknowledge(
        actor=users.houston_manager, handoff=handoff, now=approved_at + SLA + MINUTE
    )

    # when the second deadline passes
    run_due_work(approved_at + 10 * SLA)

    # then the admins are never alerted
    first = f"handoff:{handoff.pk}:escalated:1"
    assert escalations() == Counter({(users.houston_manager.username, first): 1})
    handoff.refresh_from_db()
    assert handoff.escalation_level == 1


def test_an_escalation_claimed_before_the_acknowledgement_alerts_nobody(
    users, handoff, approved_at
):
    # given an escalation that a worker had claimed when Houston acknowledged:
    # work_cancel leaves an item a worker holds alone, so it stays pending
    item = WorkItem.objects.get(key=f"handoff:{handoff.pk}:escalate:1")
    handoffs.handoff_acknowledge(actor=users.houston, handoff=handoff, now=approved_at + SLA)
    WorkItem.objects.filter(pk=item.pk).update(status=WorkStatus.PENDING, finished_at=None)

    # when its handler runs after the acknowledgement
    assert work_run(item.pk, now=approved_at + SLA + MINUTE) == "done"

    # then it finds the hand-off acknowledged and alerts nobody
    assert escalations() == Counter()
    handoff.refresh_from_db()
    assert handoff.escalation_level == 0
