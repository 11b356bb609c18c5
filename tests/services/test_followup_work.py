"""The scheduled work of follow-ups through the services: the scan at each
site's local midnight, nudges on consented channels inside the client's hours,
the morning digest, and escalation to the alumni lead, each once.

The clock: SCAN_NOW is 05:30 UTC on Wednesday 4 November 2026, 00:30 on the
4th in Brooklyn (Eastern) and still 23:30 on the 3rd in Austin (Central). Work
items are run by `run_work` with work_run, as a worker would; only the SMS
gateway, outside our system, is replaced (RecordingSMS).
"""

import datetime as dt
from typing import ClassVar

import pytest
from django.core import mail

from backend.aftercare.models import (
    AftercarePlan,
    AlumniTeamMembership,
    FollowUp,
    FollowUpNudge,
    FollowUpStatus,
)
from backend.care.models import Client
from backend.network.models import LevelOfCare
from backend.notifications.models import Notification
from backend.work.models import WorkItem, WorkStatus
from services.access import Role, role_grant, role_revoke
from services.aftercare import follow_ups
from services.client_contact import SMSBackend
from services.followup_work import (
    DIGEST_KIND,
    ESCALATE_KIND,
    NUDGE_KIND,
    contact_slot,
    follow_up_scan,
)
from services.notifications import EMAIL_SUBJECT as STAFF_EMAIL_SUBJECT
from services.work import queue_for, work_run
from tests.factories import ProgramFactory, SiteFactory, UserFactory, follow_up_row

UTC = dt.UTC
SCAN_NOW = dt.datetime(2026, 11, 4, 5, 30, tzinfo=UTC)
AUSTIN_MIDNIGHT_PASSED = dt.datetime(2026, 11, 4, 6, 30, tzinfo=UTC)  # 00:30 Central
NOV = {day: dt.date(2026, 11, day) for day in range(1, 31)}
OCT = {day: dt.date(2026, 10, day) for day in range(1, 32)}
HOUR = dt.timedelta(hours=1)
EMPTY_SCAN = {"missed": 0, "due": 0, "escalations": 0, "nudges": 0, "digests": 0}


class RecordingSMS(SMSBackend):
    """The SMS gateway's boundary: records what would have been sent."""

    sent: ClassVar[list[tuple[str, str]]] = []

    def send(self, to: str, body: str) -> str:
        self.sent.append((to, body))
        return f"test-{len(self.sent)}"


@pytest.fixture(autouse=True)
def sms(settings):
    settings.CLIENT_CONTACT_CHANNELS = {
        "email": "services.client_contact.EmailNudge",
        "sms": f"{__name__}.RecordingSMS",
    }
    settings.CLIENT_CONTACT_SENDER = "Continuum"
    RecordingSMS.sent.clear()
    return RecordingSMS.sent


@pytest.fixture
def brooklyn(network):
    site = SiteFactory(
        code="brooklyn", name="Brooklyn", time_zone="America/New_York", phone="718-555-0100"
    )
    return ProgramFactory(
        site=site, level=LevelOfCare.objects.get(code="residential"), name="Brooklyn Residential"
    )


@pytest.fixture
def lead(network):
    """Austin's alumni lead: an alumni coordinator on its team, marked lead."""
    user = UserFactory(username="lead.austin", email="lead@example.org")
    role_grant(user=user, role=Role.ALUMNI_COORDINATOR)
    AlumniTeamMembership.objects.create(user=user, site=network.austin, is_lead=True)
    return user


def row(program, users, *, due_on, **fields):
    fields.setdefault("assignee", users.alumni)
    return follow_up_row(program, users.austin, due_on=due_on, **fields)


def consent(follow_up, *, sms=False, email=False, phone=False, hours=None, days=()):
    """The client's plan: consent on these channels, at these hours and days."""
    AftercarePlan.objects.filter(pk=follow_up.plan_id).update(
        consent_to_contact=sms or email or phone,
        consent_sms=sms,
        consent_email=email,
        consent_phone=phone,
        contact_hours_from=hours[0] if hours else None,
        contact_hours_to=hours[1] if hours else None,
        contact_days=list(days),
    )
    Client.objects.filter(pk=follow_up.client_id).update(
        first_name="Samantha",
        last_name="Rivera",
        preferred_name="Sam",
        phone="512-555-0199",
        email="sam@example.org",
    )


def run_work(now) -> list[str]:
    """Run every pending item due at `now`, as workers woken by the sweep would
    (and what that work schedules for now, such as staff emails); their kinds."""
    ran = []
    while due := list(
        WorkItem.objects.filter(status=WorkStatus.PENDING, due_at__lte=now).order_by("created_at")
    ):
        for item in due:
            work_run(item.pk, now=now)
            ran.append(item.kind)
    return ran


def status_of(follow_up) -> str:
    follow_up.refresh_from_db()
    return follow_up.status


def keys(kind) -> list[str]:
    return sorted(WorkItem.objects.filter(kind=kind).values_list("key", flat=True))


def client_emails():
    return [m for m in mail.outbox if m.subject != STAFF_EMAIL_SUBJECT]


# --- the scan: due and missed at each site's local day ---------------------------------


def test_the_scan_moves_follow_ups_on_the_day_at_their_own_site(network, users, brooklyn):
    # given follow-ups at Austin (still 3 November) and Brooklyn (4 November already)
    austin = network.austin_residential
    rows = {
        "austin_due_tomorrow": row(austin, users, due_on=NOV[4]),
        "austin_last_day_today": row(austin, users, due_on=OCT[31]),
        "austin_window_closed": row(austin, users, due_on=OCT[30], status=FollowUpStatus.DUE),
        "brooklyn_due_today": row(brooklyn, users, due_on=NOV[4]),
        "brooklyn_window_closed": row(brooklyn, users, due_on=OCT[31]),
        "brooklyn_upcoming": row(brooklyn, users, due_on=NOV[5]),
    }

    # when the scan runs at 05:30 UTC
    counts = follow_up_scan(now=SCAN_NOW)

    # then each moved by its own site's day
    assert {name: status_of(f) for name, f in rows.items()} == {
        "austin_due_tomorrow": FollowUpStatus.SCHEDULED,
        "austin_last_day_today": FollowUpStatus.DUE,
        "austin_window_closed": FollowUpStatus.MISSED,
        "brooklyn_due_today": FollowUpStatus.DUE,
        "brooklyn_window_closed": FollowUpStatus.MISSED,
        "brooklyn_upcoming": FollowUpStatus.SCHEDULED,
    }
    assert (counts["due"], counts["missed"]) == (2, 2)
    assert rows["brooklyn_due_today"].updated_at == SCAN_NOW

    # and once Austin's midnight has passed, Austin's day moves too
    follow_up_scan(now=AUSTIN_MIDNIGHT_PASSED)
    assert status_of(rows["austin_due_tomorrow"]) == FollowUpStatus.DUE
    assert status_of(rows["austin_last_day_today"]) == FollowUpStatus.MISSED


def test_a_window_that_passed_unseen_goes_straight_to_missed_without_a_nudge(network, users):
    # given a scheduled follow-up whose whole window passed while no scan ran
    follow_up = row(network.austin_residential, users, due_on=OCT[20])
    consent(follow_up, sms=True)

    # when the scan runs
    follow_up_scan(now=SCAN_NOW)

    # then it is missed, escalated, and the client is not nudged about it
    assert status_of(follow_up) == FollowUpStatus.MISSED
    assert keys(NUDGE_KIND) == []
    assert keys(ESCALATE_KIND) == [f"followup:{follow_up.pk}:escalate:window"]


def test_the_scan_run_twice_acts_once(network, users, brooklyn, lead, sms):
    # given a follow-up coming due and one whose window closed, with consent to SMS
    coming = row(brooklyn, users, due_on=NOV[4])
    closing = row(network.austin_residential, users, due_on=OCT[30], status=FollowUpStatus.DUE)
    consent(coming, sms=True)

    # when the scan runs twice at the same instant, and once more later
    first = follow_up_scan(now=SCAN_NOW)
    second = follow_up_scan(now=SCAN_NOW)
    follow_up_scan(now=SCAN_NOW + HOUR)

    # then the first moved both and scheduled their work; the others found nothing
    assert first == {"missed": 1, "due": 1, "escalations": 1, "nudges": 1, "digests": 1}
    assert second == EMPTY_SCAN
    assert keys(NUDGE_KIND) == [f"followup:{coming.pk}:nudge:sms"]
    assert keys(ESCALATE_KIND) == [f"followup:{closing.pk}:escalate:window"]
    assert len(keys(DIGEST_KIND)) == 1

    # and when all the work is run, and the scan runs again after it, once each
    run_work(SCAN_NOW + 12 * HOUR)
    follow_up_scan(now=SCAN_NOW + 12 * HOUR)
    run_work(SCAN_NOW + 12 * HOUR)
    assert len(sms) == 1
    assert Notification.objects.filter(kind="followup.escalated").count() == 1
    assert Notification.objects.filter(kind="followup.digest").count() == 1


def test_completed_and_cancelled_follow_ups_are_never_touched(network, users):
    # given a follow-up completed late and one cancelled, both with past dates
    earlier = SCAN_NOW - dt.timedelta(days=30)
    completed = row(
        network.austin_residential,
        users,
        due_on=OCT[1],
        status=FollowUpStatus.COMPLETED,
        completed_at=earlier,
        completed_by=users.alumni,
        reached=True,
        self_reported_status="in_recovery",
    )
    cancelled = row(
        network.austin_residential,
        users,
        due_on=NOV[2],
        status=FollowUpStatus.CANCELLED,
        ended_at=earlier,
        ended_reason="readmitted",
    )
    before = {f.pk: f.updated_at for f in (completed, cancelled)}

    # when the scan runs
    assert follow_up_scan(now=SCAN_NOW) == EMPTY_SCAN

    # then neither changed, and no work is scheduled for them
    for follow_up in (completed, cancelled):
        follow_up.refresh_from_db()
        assert follow_up.updated_at == before[follow_up.pk]
    assert status_of(completed) == FollowUpStatus.COMPLETED
    assert status_of(cancelled) == FollowUpStatus.CANCELLED
    assert not WorkItem.objects.exists()


def test_the_scan_works_in_batches(network, users):
    # given more follow-ups coming due than one batch
    follow_ups = [row(network.austin_residential, users, due_on=NOV[3]) for _ in range(5)]

    # when the scan moves them two at a time
    counts = follow_up_scan(now=SCAN_NOW, batch=2)

    # then every one is due
    assert counts["due"] == 5
    assert {status_of(f) for f in follow_ups} == {FollowUpStatus.DUE}


def test_a_closed_window_the_missed_pass_could_not_take_is_missed_by_the_due_pass(
    network, users, monkeypatch
):
    # given three follow-ups whose windows closed, which the missed pass did not
    # get (a coordinator was recording an attempt on each: their rows were locked)
    from services import followup_work

    follow_ups = [row(network.austin_residential, users, due_on=OCT[20]) for _ in range(3)]
    for follow_up in follow_ups:
        consent(follow_up, sms=True)
    monkeypatch.setattr(followup_work, "windows_closed", lambda *args: FollowUp.objects.none())

    # when the due pass takes them, one per batch
    counts = follow_up_scan(now=SCAN_NOW, batch=1)

    # then they are missed and escalated, not due and nudged, and the scan ended
    assert {status_of(f) for f in follow_ups} == {FollowUpStatus.MISSED}
    assert (counts["due"], counts["missed"], counts["escalations"]) == (0, 3, 3)
    assert keys(NUDGE_KIND) == []


# --- nudges: consent per channel, inside the client's hours ---------------------------


@pytest.mark.parametrize(
    ("given", "sent_on"),
    [
        ({}, set()),  # no consent: no nudge at all
        ({"phone": True}, set()),  # a phone call is a person's job, not a nudge
        ({"sms": True}, {"sms"}),
        ({"email": True}, {"email"}),
        ({"sms": True, "email": True, "phone": True}, {"sms", "email"}),
    ],
    ids=["no-consent", "phone-only", "sms-only", "email-only", "all"],
)
def test_a_nudge_goes_only_through_the_channels_the_client_consented_to(
    brooklyn, users, sms, given, sent_on
):
    # given a Brooklyn follow-up coming due and the client's consent
    follow_up = row(brooklyn, users, due_on=NOV[4])
    consent(follow_up, **given)

    # when the scan makes it due and the day's work runs
    follow_up_scan(now=SCAN_NOW)
    run_work(SCAN_NOW + 12 * HOUR)

    # then the client was nudged on exactly the consented, automatable channels
    channels = set(
        FollowUpNudge.objects.filter(follow_up=follow_up).values_list("channel", flat=True)
    )
    assert channels == sent_on
    assert [to for to, _ in sms] == (["512-555-0199"] if "sms" in sent_on else [])
    assert [m.to for m in client_emails()] == ([["sam@example.org"]] if "email" in sent_on else [])


def test_the_nudge_names_no_program_and_no_treatment(brooklyn, users, sms):
    # given a client who consented to SMS and email
    follow_up = row(brooklyn, users, due_on=NOV[4])
    consent(follow_up, sms=True, email=True)

    # when they are nudged
    follow_up_scan(now=SCAN_NOW)
    run_work(SCAN_NOW + 12 * HOUR)

    # then each message is a plain check-in: their preferred name, the sender, the site's phone
    text = "Hi Sam, this is Continuum checking in. Reply or call 718-555-0100."
    assert sms == [("512-555-0199", text)]
    [email] = client_emails()
    assert (email.subject, email.body) == ("Checking in", text)
    client = Client.objects.get(pk=follow_up.client_id)
    for message in (text, email.subject):
        assert client.mrn not in message and "Rivera" not in message
        assert "Brooklyn" not in message and "Residential" not in message


def test_the_nudge_waits_for_the_clients_contact_days_and_hours(brooklyn, users, sms):
    # given a client who may be texted on Thursdays between 17:00 and 19:00
    follow_up = row(brooklyn, users, due_on=NOV[4])
    consent(follow_up, sms=True, hours=(dt.time(17), dt.time(19)), days=[4])

    # when the scan makes it due at 00:30 on Wednesday in Brooklyn
    follow_up_scan(now=SCAN_NOW)

    # then the nudge is due at 17:00 on Thursday there (22:00 UTC), not before
    nudge = WorkItem.objects.get(kind=NUDGE_KIND)
    thursday_five_pm = dt.datetime(2026, 11, 5, 22, 0, tzinfo=UTC)
    assert nudge.due_at == thursday_five_pm
    assert queue_for(nudge.kind) == "followups"
    run_work(thursday_five_pm - dt.timedelta(minutes=1))
    assert sms == []
    run_work(thursday_five_pm)
    assert len(sms) == 1


def test_without_hours_in_the_plan_a_nudge_waits_for_the_daytime(brooklyn, users):
    # given a client who gave no hours
    follow_up = row(brooklyn, users, due_on=NOV[4])
    consent(follow_up, sms=True)

    # when the scan makes it due just after midnight
    follow_up_scan(now=SCAN_NOW)

    # then the nudge waits for 09:00 at the site (14:00 UTC)
    assert WorkItem.objects.get(kind=NUDGE_KIND).due_at == dt.datetime(2026, 11, 4, 14, tzinfo=UTC)


def test_a_late_nudge_outside_the_clients_hours_waits_for_their_next_hours(brooklyn, users, sms):
    # given a nudge due at 09:00 that no worker ran until 21:00 (the system was down)
    follow_up = row(brooklyn, users, due_on=NOV[4])
    consent(follow_up, sms=True, hours=(dt.time(9), dt.time(17)))
    follow_up_scan(now=SCAN_NOW)
    nine_pm = dt.datetime(2026, 11, 5, 2, 0, tzinfo=UTC)  # 21:00 on the 4th in Brooklyn

    # when it runs at 21:00
    run_work(nine_pm)

    # then nothing is sent tonight; it is rescheduled for 09:00 tomorrow, and sent then
    assert sms == []
    later = WorkItem.objects.get(kind=NUDGE_KIND, status=WorkStatus.PENDING)
    assert later.key == f"followup:{follow_up.pk}:nudge:sms:2026-11-05"
    assert later.due_at == dt.datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
    run_work(later.due_at)
    run_work(later.due_at + HOUR)
    assert len(sms) == 1


def test_no_nudge_after_consent_is_withdrawn_or_the_follow_up_is_done(brooklyn, users, sms):
    # given two clients whose nudges wait for 09:00
    withdrawn = row(brooklyn, users, due_on=NOV[4])
    completed = row(brooklyn, users, due_on=NOV[4])
    for follow_up in (withdrawn, completed):
        consent(follow_up, sms=True)
    follow_up_scan(now=SCAN_NOW)

    # when one withdraws consent and the other is reached before 09:00
    AftercarePlan.objects.filter(pk=withdrawn.plan_id).update(
        consent_to_contact=False, consent_sms=False
    )
    follow_ups.follow_up_complete(
        actor=users.alumni,
        follow_up=completed,
        reached=True,
        self_reported_status="in_recovery",
        now=SCAN_NOW + HOUR,
    )
    run_work(SCAN_NOW + 12 * HOUR)

    # then neither is texted, and their nudges are done with
    assert sms == []
    assert not FollowUpNudge.objects.exists()
    assert set(WorkItem.objects.filter(kind=NUDGE_KIND).values_list("status", flat=True)) == {
        WorkStatus.DONE
    }


def test_a_gateway_that_fails_is_tried_again_and_the_client_texted_once(
    brooklyn, users, sms, monkeypatch
):
    # given a due follow-up with consent to SMS, and a gateway that fails once
    follow_up = row(brooklyn, users, due_on=NOV[4])
    consent(follow_up, sms=True)
    follow_up_scan(now=SCAN_NOW)
    send = RecordingSMS.send
    failures = ["gateway timeout"]

    def flaky(self, to, body):
        if failures:
            raise ConnectionError(failures.pop())
        return send(self, to, body)

    monkeypatch.setattr(RecordingSMS, "send", flaky)
    nine_am = dt.datetime(2026, 11, 4, 14, 0, tzinfo=UTC)

    # when the nudge runs at 09:00, and again after its backoff
    run_work(nine_am)
    nudge = WorkItem.objects.get(kind=NUDGE_KIND)
    assert (nudge.status, nudge.last_error) == (
        WorkStatus.PENDING,
        "ConnectionError: gateway timeout",
    )
    assert not FollowUpNudge.objects.exists()
    run_work(nine_am + 5 * dt.timedelta(minutes=1))
    run_work(nine_am + HOUR)

    # then the client was texted once, and the nudge is recorded
    assert len(sms) == 1
    assert FollowUpNudge.objects.get().reference == "test-1"


def test_no_nudge_without_an_address_on_the_channel(brooklyn, users, sms):
    # given consent to SMS but no phone number
    follow_up = row(brooklyn, users, due_on=NOV[4])
    consent(follow_up, sms=True)
    Client.objects.filter(pk=follow_up.client_id).update(phone="")

    # when the nudge runs
    follow_up_scan(now=SCAN_NOW)
    run_work(SCAN_NOW + 12 * HOUR)

    # then nothing is sent, and the work is done with
    assert sms == []
    assert WorkItem.objects.get(kind=NUDGE_KIND).status == WorkStatus.DONE


def test_no_nudge_when_the_clients_days_miss_the_window(brooklyn, users):
    # given a client who may be contacted on Sundays only, and a window from Wednesday to Saturday
    follow_up = row(brooklyn, users, due_on=NOV[4])
    consent(follow_up, sms=True, days=[7])

    # when the scan makes it due
    follow_up_scan(now=SCAN_NOW)

    # then no nudge is scheduled: the team calls
    assert status_of(follow_up) == FollowUpStatus.DUE
    assert keys(NUDGE_KIND) == []


def test_contact_slot_across_the_end_of_daylight_saving(network, users):
    # given a plan of 08:00 to 10:00 and Sunday 1 November 2026, when Central time falls back
    follow_up = row(network.austin_residential, users, due_on=NOV[1])
    consent(follow_up, sms=True, hours=(dt.time(8), dt.time(10)))
    plan = AftercarePlan.objects.get(pk=follow_up.plan_id)
    saturday_noon = dt.datetime(2026, 10, 31, 17, 0, tzinfo=UTC)

    # when the next slot after Saturday noon is asked
    slot = contact_slot(plan, network.austin.zone, after=saturday_noon, last_day=NOV[4])

    # then it is 08:00 CST on Sunday, 14:00 UTC (it was 13:00 UTC the day before)
    assert slot == dt.datetime(2026, 11, 1, 14, 0, tzinfo=UTC)


# --- the morning digest -------------------------------------------------------------------


def test_each_assignee_gets_one_digest_a_day_at_seven_with_their_counts(network, users):
    # given Austin follow-ups of the alumni coordinator: two in their window today,
    # one whose window closed, one done and one not due yet; and another coordinator's
    austin = network.austin_residential
    users.alumni.email = "alumni@example.org"
    users.alumni.save()
    other = UserFactory(username="alumni2")
    role_grant(user=other, role=Role.ALUMNI_COORDINATOR)
    row(austin, users, due_on=NOV[4])
    row(austin, users, due_on=NOV[2])
    row(austin, users, due_on=OCT[20])
    row(
        austin,
        users,
        due_on=NOV[1],
        status=FollowUpStatus.COMPLETED,
        completed_at=SCAN_NOW,
        completed_by=users.alumni,
        reached=True,
        self_reported_status="in_recovery",
    )
    row(austin, users, due_on=NOV[10])
    row(austin, users, due_on=NOV[3], assignee=other)

    # when the scan runs every quarter hour through the morning after Austin's midnight
    for minutes in range(0, 6 * 60, 15):
        follow_up_scan(now=AUSTIN_MIDNIGHT_PASSED + dt.timedelta(minutes=minutes))

    # then each assignee has one digest for the 4th, due at 07:00 Central (13:00 UTC)
    seven_am = dt.datetime(2026, 11, 4, 13, 0, tzinfo=UTC)
    digests = WorkItem.objects.filter(kind=DIGEST_KIND)
    assert sorted(digests.values_list("key", flat=True)) == sorted(
        f"followup-digest:{user.pk}:2026-11-04" for user in (users.alumni, other)
    )
    assert {d.due_at for d in digests} == {seven_am}
    run_work(seven_am - dt.timedelta(minutes=1))
    assert not Notification.objects.filter(kind="followup.digest").exists()

    # and at 07:00 they are told their counts in-app, and by email with only a link
    run_work(seven_am)
    mine = Notification.objects.get(kind="followup.digest", recipient=users.alumni)
    assert mine.title == "Your follow-ups today: 2 due, 1 overdue"
    theirs = Notification.objects.get(kind="followup.digest", recipient=other)
    assert theirs.title == "Your follow-ups today: 1 due, 0 overdue"
    [email] = mail.outbox
    assert email.to == ["alumni@example.org"]
    assert email.subject == STAFF_EMAIL_SUBJECT
    assert f"/api/v1/notifications/{mine.pk}/" in email.body
    for client in Client.objects.all():
        assert client.mrn not in email.body and client.last_name not in email.body

    # and the next day brings the next digest, once
    follow_up_scan(now=AUSTIN_MIDNIGHT_PASSED + dt.timedelta(days=1))
    follow_up_scan(now=AUSTIN_MIDNIGHT_PASSED + dt.timedelta(days=1, minutes=15))
    assert WorkItem.objects.filter(kind=DIGEST_KIND, key__endswith="2026-11-05").count() == 2


def test_an_assignee_working_two_zones_gets_the_digest_at_the_first_seven_oclock(
    network, users, brooklyn
):
    # given one coordinator with work due today at Brooklyn (Eastern) and at Austin (Central)
    row(brooklyn, users, due_on=NOV[4])
    row(network.austin_residential, users, due_on=NOV[4])

    # when the scan runs past both midnights
    follow_up_scan(now=SCAN_NOW)
    follow_up_scan(now=AUSTIN_MIDNIGHT_PASSED)

    # then one digest for the 4th, at 07:00 in Brooklyn (12:00 UTC), counting both sites
    [digest] = WorkItem.objects.filter(kind=DIGEST_KIND)
    assert digest.due_at == dt.datetime(2026, 11, 4, 12, 0, tzinfo=UTC)
    run_work(digest.due_at)
    assert Notification.objects.get(kind="followup.digest").title == (
        "Your follow-ups today: 2 due, 0 overdue"
    )


def test_no_digest_when_everything_was_done_before_seven(network, users):
    # given one follow-up due today, completed at 06:00
    follow_up = row(network.austin_residential, users, due_on=NOV[4])
    follow_up_scan(now=AUSTIN_MIDNIGHT_PASSED)
    follow_ups.follow_up_complete(
        actor=users.alumni,
        follow_up=follow_up,
        reached=True,
        self_reported_status="in_recovery",
        now=AUSTIN_MIDNIGHT_PASSED + 5 * HOUR,
    )

    # when the digest runs
    run_work(AUSTIN_MIDNIGHT_PASSED + 7 * HOUR)

    # then there is nothing to tell
    assert not Notification.objects.filter(kind="followup.digest").exists()


# --- escalation to the alumni lead ----------------------------------------------------------


def _attempt(users, follow_up, result="no_answer", at=None):
    return follow_ups.attempt_record(
        actor=users.alumni,
        follow_up=follow_up,
        channel="phone",
        result=result,
        now=at or AUSTIN_MIDNIGHT_PASSED + 10 * HOUR,
    )


def escalations() -> list[tuple[str, str]]:
    return sorted(
        Notification.objects.filter(kind="followup.escalated").values_list(
            "recipient__username", "key"
        )
    )


def test_the_third_failed_attempt_escalates_to_the_sites_lead_once(network, users, lead):
    # given a due follow-up at Austin, with a team member who is not a lead
    member = UserFactory(username="member.austin")
    role_grant(user=member, role=Role.ALUMNI_COORDINATOR)
    AlumniTeamMembership.objects.create(user=member, site=network.austin)
    follow_up = row(network.austin_residential, users, due_on=NOV[4])
    consent(follow_up, phone=True)

    # when two attempts fail, and a reached attempt is recorded, nothing escalates
    _attempt(users, follow_up, "no_answer")
    _attempt(users, follow_up, "left_message")
    _attempt(users, follow_up, "reached")
    assert keys(ESCALATE_KIND) == []

    # when the third failed attempt is recorded, and a fourth
    _attempt(users, follow_up, "wrong_number")
    _attempt(users, follow_up, "no_answer")
    run_work(AUSTIN_MIDNIGHT_PASSED + 11 * HOUR)
    run_work(AUSTIN_MIDNIGHT_PASSED + 12 * HOUR)

    # then the lead, and only the lead, was told once
    assert keys(ESCALATE_KIND) == [f"followup:{follow_up.pk}:escalate:attempts"]
    key = f"followup:{follow_up.pk}:escalated:attempts"
    assert escalations() == [("lead.austin", key)]
    notification = Notification.objects.get(key=key)
    client = Client.objects.get(pk=follow_up.client_id)
    assert client.mrn not in notification.title + notification.body
    assert notification.title == f"Follow-up needs attention: {follow_up.milestone_name}"
    assert "3 contact attempts" in notification.body
    assert f"/api/v1/follow-ups/{follow_up.pk}/" in notification.body


def test_a_window_closing_escalates_once(network, users, lead):
    # given a due follow-up whose window closes on the 3rd at Austin
    follow_up = row(network.austin_residential, users, due_on=OCT[31], status=FollowUpStatus.DUE)

    # when the scan runs after Austin's midnight, twice, and the work runs, twice
    follow_up_scan(now=AUSTIN_MIDNIGHT_PASSED)
    follow_up_scan(now=AUSTIN_MIDNIGHT_PASSED)
    run_work(AUSTIN_MIDNIGHT_PASSED)
    follow_up_scan(now=AUSTIN_MIDNIGHT_PASSED + HOUR)
    run_work(AUSTIN_MIDNIGHT_PASSED + HOUR)

    # then it is missed and the lead was told once
    assert status_of(follow_up) == FollowUpStatus.MISSED
    assert escalations() == [("lead.austin", f"followup:{follow_up.pk}:escalated:window")]
    assert "window closed on 2026-11-03" in Notification.objects.get(kind="followup.escalated").body


def test_without_a_lead_the_organisation_admins_are_told(network, users, lead):
    # given Austin's lead lost the alumni role, and Houston never had a lead
    role_revoke(user=lead, role=Role.ALUMNI_COORDINATOR)
    austin = row(network.austin_residential, users, due_on=OCT[30], status=FollowUpStatus.DUE)
    houston = row(network.houston_residential, users, due_on=OCT[30], status=FollowUpStatus.DUE)

    # when their windows close
    follow_up_scan(now=AUSTIN_MIDNIGHT_PASSED)
    run_work(AUSTIN_MIDNIGHT_PASSED)

    # then the organisation admin hears of both
    assert escalations() == sorted(
        ("orgadmin", f"followup:{f.pk}:escalated:window") for f in (austin, houston)
    )


def test_no_escalation_when_the_follow_up_was_completed_meanwhile(network, users, lead):
    # given a third failed attempt, whose escalation has not run yet
    follow_up = row(network.austin_residential, users, due_on=NOV[4])
    consent(follow_up, phone=True)
    at = AUSTIN_MIDNIGHT_PASSED + 10 * HOUR
    for _ in range(3):
        _attempt(users, follow_up, at=at)

    # when the client calls back and the follow-up is completed first
    follow_ups.follow_up_complete(
        actor=users.alumni,
        follow_up=follow_up,
        reached=True,
        self_reported_status="in_recovery",
        now=at,
    )
    run_work(at)

    # then nobody is escalated to
    assert escalations() == []
    assert WorkItem.objects.get(kind=ESCALATE_KIND).status == WorkStatus.DONE


def test_the_escalation_commits_with_the_third_attempt_or_not_at_all(
    network, users, lead, monkeypatch
):
    # given a follow-up with two failed attempts
    follow_up = row(network.austin_residential, users, due_on=NOV[4])
    consent(follow_up, phone=True)
    _attempt(users, follow_up)
    _attempt(users, follow_up)

    # when recording the third fails after the escalation was scheduled (its audit row)
    def audit_fails(**kwargs):
        raise RuntimeError("the audit table is full")

    monkeypatch.setattr(follow_ups, "audit_record", audit_fails)
    with pytest.raises(RuntimeError):
        _attempt(users, follow_up)

    # then neither the attempt nor its escalation exists
    assert FollowUp.objects.get(pk=follow_up.pk).attempts.count() == 2
    assert keys(ESCALATE_KIND) == []


# --- the scan's cost: the partial indexes on open statuses (PostgreSQL) -------------------


def _completed_history(program, users, count: int) -> None:
    """`count` completed follow-ups with dates in the past, as years of work leave."""
    template = row(program, users, due_on=OCT[1])
    batch = FollowUp.objects.count()
    FollowUp.objects.bulk_create(
        FollowUp(
            client_id=template.client_id,
            episode_id=template.episode_id,
            plan_id=template.plan_id,
            protocol_id=template.protocol_id,
            milestone=f"h{batch}-{n}",
            milestone_name="history",
            from_program=program,
            site=program.site,
            anchor_at=template.anchor_at,
            due_on=OCT[1] - dt.timedelta(days=n % 700),
            window_ends_on=OCT[4] - dt.timedelta(days=n % 700),
            assignee=users.alumni,
            status=FollowUpStatus.COMPLETED,
            completed_at=template.anchor_at,
            completed_by=users.alumni,
            reached=True,
            self_reported_status="in_recovery",
            created_at=template.anchor_at,
            updated_at=template.anchor_at,
        )
        for n in range(count)
    )
    FollowUp.objects.filter(pk=template.pk).delete()


# The partial indexes of FollowUp: open statuses, or actionable (open, or missed
# and not ended). None holds a completed or cancelled follow-up.
PARTIAL_INDEXES = {
    "followup_open_due_on",
    "followup_open_window_ends",
    "followup_actionable_site",
    "followup_actionable_assignee",
}


def _plan_facts(queryset) -> tuple[int, set[str], set[str]]:
    """From EXPLAIN ANALYZE (what the read costs, whatever the machine's speed):
    the rows of aftercare_followup it fetched (kept plus filtered out), the
    scan types it used on the table, and the indexes."""
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        [[plan]] = cursor.fetchall()
    fetched, scans, indexes = 0, set(), set()

    def walk(node):
        nonlocal fetched
        if "Index Name" in node:
            indexes.add(node["Index Name"])
        if node.get("Relation Name") == "aftercare_followup":
            scans.add(node["Node Type"])
            fetched += node.get("Actual Loops", 1) * (
                node.get("Actual Rows", 0)
                + node.get("Rows Removed by Filter", 0)
                + node.get("Rows Removed by Index Recheck", 0)
            )
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return fetched, scans, indexes


@pytest.mark.postgres
def test_the_scans_reads_do_not_grow_with_completed_history(network, users, brooklyn):
    # given eight open follow-ups at two sites: coming due, window closed, upcoming
    from django.db import connection

    from services.followup_work import days_come, due_or_overdue_assignees, windows_closed

    austin = network.austin_residential
    for due_on in (NOV[3], NOV[4], OCT[20], NOV[20]):
        row(austin, users, due_on=due_on)
        row(brooklyn, users, due_on=due_on)
    today, site_ids = NOV[4], [network.austin.pk, brooklyn.site.pk]
    reads = {
        "windows_closed": windows_closed(today, site_ids).values_list("pk"),
        "days_come": days_come(today, site_ids).values_list("pk"),
        "digest_assignees": due_or_overdue_assignees(today, site_ids),
    }

    def measure():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE aftercare_followup")
        return {name: _plan_facts(queryset) for name, queryset in reads.items()}

    # when years of completed follow-ups pile up, with dates that match every
    # read's date condition: 2,000 of them, then 10,000
    _completed_history(austin, users, 2_000)
    small = measure()
    _completed_history(austin, users, 8_000)
    large = measure()

    # then every read goes through a partial index, never the table or a full
    # index, and fetches at most the eight open rows, however long the history
    for facts in (small, large):
        for name, (fetched, scans, indexes) in facts.items():
            assert "Seq Scan" not in scans, (name, scans)
            assert indexes and indexes <= PARTIAL_INDEXES, (name, indexes)
            assert fetched <= 8, (name, fetched)


# --- the back office ---------------------------------------------------------------------------


def test_the_admin_marks_leads_and_shows_the_nudges_sent(client, brooklyn, users, sms):
    # given an organisation admin in the back office, and a client nudged by SMS
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    follow_up = row(brooklyn, users, due_on=NOV[4])
    consent(follow_up, sms=True)
    follow_up_scan(now=SCAN_NOW)
    run_work(SCAN_NOW + 12 * HOUR)

    # when they mark Brooklyn's alumni coordinator as its lead
    response = client.post(
        "/admin/aftercare/alumniteammembership/add/",
        {"user": users.alumni.pk, "site": brooklyn.site.pk, "is_lead": "on"},
    )

    # then the membership is a lead's, and the follow-up's page lists the nudge
    assert response.status_code == 302
    assert AlumniTeamMembership.objects.get(site=brooklyn.site).is_lead
    page = client.get(f"/admin/aftercare/followup/{follow_up.pk}/change/").content.decode()
    assert "sms 2026-11-04 17:30 UTC" in page
