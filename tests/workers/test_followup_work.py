"""The follow-up scan on the beat, and on real workers racing on PostgreSQL and Redis."""

import ast
import datetime as dt
import re
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.aftercare.models import AlumniTeamMembership, FollowUpStatus
from backend.notifications.models import Notification
from backend.work.models import WorkItem, WorkStatus
from services.access import Role, role_grant
from services.followup_work import ESCALATE_KIND
from tests.factories import UserFactory, follow_up_row
from tests.workers.conftest import wait_until
from workers import app

SCAN_TASK = "workers.scan_follow_ups"
DONE_WITHIN = 20  # seconds
_SCANNED = re.compile(r"Task workers\.scan_follow_ups\[[\w-]+\] succeeded in [\d.e-]+s: (\{.*\})")


def test_the_scan_runs_on_the_beat_every_quarter_hour_on_the_followups_queue():
    entry = app.conf.beat_schedule["scan-follow-ups"]
    assert entry["task"] == SCAN_TASK
    assert entry["schedule"] == 900.0
    assert app.conf.task_routes[SCAN_TASK] == {"queue": "followups"}
    from workers.tasks import scan_follow_ups

    assert scan_follow_ups.name == SCAN_TASK


def test_the_demo_scheduler_scans_the_follow_ups_too(network, users, db):
    # given a follow-up at Austin whose day came yesterday
    austin_today = timezone.now().astimezone(network.austin.zone).date()
    follow_up = follow_up_row(
        network.austin_residential, users.austin, due_on=austin_today - dt.timedelta(days=1)
    )

    # when the demo's in-process scheduler runs once
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out)

    # then the follow-up is due
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.DUE
    assert "Follow-ups: 1 now due, 0 missed." in out.getvalue()


def _scans(workers) -> list[dict]:
    """What each scan the workers finished returned (its counts)."""
    return [ast.literal_eval(m.group(1)) for w in workers for m in _SCANNED.finditer(w.log())]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_sent_the_scan_at_once_move_each_follow_up_once(network, users, start_workers):
    # given Austin's alumni lead, a follow-up whose day has come and one whose window closed
    lead = UserFactory(username="lead.austin")
    role_grant(user=lead, role=Role.ALUMNI_COORDINATOR)
    AlumniTeamMembership.objects.create(user=lead, site=network.austin, is_lead=True)
    today = timezone.now().astimezone(network.austin.zone).date()
    coming = follow_up_row(
        network.austin_residential, users.austin, due_on=today, assignee=users.alumni
    )
    closed = follow_up_row(
        network.austin_residential,
        users.austin,
        due_on=today - dt.timedelta(days=5),
        window_days=3,
        status=FollowUpStatus.DUE,
        assignee=users.alumni,
    )
    workers = start_workers("w1", "w2")

    # when the scan is sent twice at once, one copy for each worker
    for _ in range(2):
        app.send_task(SCAN_TASK, queue="followups")

    # then both ran, and between them moved each follow-up once
    def details():
        rows = WorkItem.objects.values_list("kind", "key", "status", "last_error")
        return "\n".join([*map(str, rows), *(w.describe() for w in workers)])

    def both_scans():
        found = _scans(workers)
        return found if len(found) == 2 else None

    scans = wait_until(
        both_scans,
        timeout=DONE_WITHIN,
        what="both scans",
        details=details,
    )
    totals = sum((Counter(scan) for scan in scans), Counter())
    assert (totals["due"], totals["missed"], totals["escalations"]) == (1, 1, 1), scans
    for follow_up, status in ((coming, FollowUpStatus.DUE), (closed, FollowUpStatus.MISSED)):
        follow_up.refresh_from_db()
        assert follow_up.status == status

    # and the escalation the scan scheduled was woken at its commit and done once:
    # the lead is told once
    escalation = WorkItem.objects.get(kind=ESCALATE_KIND)
    assert escalation.key == f"followup:{closed.pk}:escalate:window"
    wait_until(
        lambda: WorkItem.objects.get(pk=escalation.pk).status == WorkStatus.DONE,
        timeout=DONE_WITHIN,
        what="the escalation",
        details=details,
    )
    notified = Notification.objects.filter(kind="followup.escalated")
    assert list(notified.values_list("recipient__username", flat=True)) == ["lead.austin"]
    # at most one digest for the day, whichever worker scheduled it
    digests = WorkItem.objects.filter(key__startswith=f"followup-digest:{users.alumni.pk}:")
    assert digests.count() <= 1
