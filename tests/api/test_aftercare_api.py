"""Aftercare over HTTP: the alumni coordinator's morning queue, attempts and
outcomes, the referral back into care and its admission by the receiving
team, reassignment, the client's plan, who sees and does what, the 4xx that
name their fields, audit of reads, and the cost of the lists.

The clock is the real one (the API takes no `now`): dates are built from
today at Austin and Houston (both America/Chicago), with room on either side
so that a test run across midnight or a DST change still lands in the bucket.
"""

import datetime as dt
import uuid
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone

from backend.aftercare.models import (
    ContactAttempt,
    FollowUp,
    FollowUpStatus,
    Referral,
    ReferralStatus,
)
from backend.audit.models import AuditEvent
from backend.care.models import Episode
from services import episodes, transfers
from services.access import Role, role_grant
from services.aftercare import follow_ups, plans
from services.aftercare.follow_ups import (
    MSG_ASSIGNEE_NOT_ALUMNI,
    MSG_NO_CONSENT,
    MSG_NOT_REASSIGNER,
    MSG_NOT_YET_DUE,
    MSG_PROGRAM_REQUIRED,
    MSG_STATUS_REQUIRED,
    MSG_TOO_MANY,
)
from services.aftercare.plans import (
    MSG_CHANNEL_WITHOUT_CONSENT,
    MSG_CONSENT_NEEDS_CHANNEL,
    MSG_CONTACT_DAYS,
    MSG_HOURS_RANGE,
)
from services.errors import MSG_TIME_IN_FUTURE
from services.referrals.actions import MSG_REFER_TO_TREATMENT
from tests.api.helpers import assert_problem, error_for, transfer_to
from tests.api.test_errors import _payloads
from tests.api.test_query_counts import FEW, MANY, queries_for
from tests.audit_helpers import audit_trail_forget
from tests.factories import (
    ClientFactory,
    UserFactory,
    finish_checklist,
    follow_up_row,
    placed_client,
)

DAY = dt.timedelta(days=1)
FOLLOW_UPS = "/api/v1/follow-ups/"
REFERRALS = "/api/v1/referrals/"


def site_today(site) -> dt.date:
    return timezone.now().astimezone(site.zone).date()


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def plan_url(client) -> str:
    return f"/api/v1/clients/{client.pk}/aftercare-plan/"


def discharged(program, by, *, days_ago=8, consent=("phone",), plan=None):
    """A client of `program`, discharged `days_ago` days ago through the
    services, with a year of follow-ups: with the default 8, the 48-hour one is
    overdue and the 7-day one due today. `consent` are the channels of their plan."""
    now = timezone.now()
    client = placed_client(program, by, started_at=now - 40 * DAY)
    changes = dict(plan or {})
    if consent:
        changes |= {"consent_to_contact": True, **{f"consent_{c}": True for c in consent}}
    if changes:
        plans.aftercare_plan_upsert(actor=by, client=client, changes=changes)
    episode = episodes.episode_discharge(
        actor=by,
        episode=client.episodes.get(),
        discharge_type="completed",
        discharged_at=now - days_ago * DAY,
    )
    by_milestone = {f.milestone: f for f in FollowUp.objects.filter(episode=episode)}
    return SimpleNamespace(
        client=client, episode=episode, **{f"m{k}": v for k, v in by_milestone.items()}
    )


@pytest.fixture
def austin_alumnus(network, users):
    """Discharged from Austin residential eight days ago; consented to phone calls."""
    return discharged(network.austin_residential, users.austin)


@pytest.fixture
def houston_alumnus(network, users):
    """Discharged from Houston IOP eight days ago; consented to phone calls."""
    return discharged(network.houston_iop, users.houston)


# --- the morning queue story ---------------------------------------------------


def test_the_alumni_coordinators_morning_from_queue_to_readmission(api, network, users):
    # given a client in Austin residential whose care team writes the aftercare
    # plan before discharge (calls and texts, weekday afternoons), then
    # discharges them eight days ago
    client = placed_client(
        network.austin_residential, users.austin, started_at=timezone.now() - 40 * DAY
    )
    austin = api.as_user(users.austin)
    written = austin.put(
        plan_url(client),
        {
            "mutual_help_meetings": True,
            "mutual_help_meetings_details": "SMART Recovery, Tuesdays.",
            "consent_to_contact": True,
            "consent_phone": True,
            "consent_sms": True,
            "contact_hours_from": "13:00",
            "contact_hours_to": "18:00",
            "contact_days": [5, 1, 2, 3, 4],
        },
    )
    assert written.status_code == 200, written.content
    episode = client.episodes.get()
    discharge = austin.post(
        f"/api/v1/episodes/{episode.pk}/discharge/",
        {"discharge_type": "completed", "discharged_at": _iso(timezone.now() - 8 * DAY)},
    )
    assert discharge.status_code == 200, discharge.content

    # when the alumni coordinator opens their queue: due today, then overdue
    alumni = api.as_user(users.alumni)
    due = alumni.get(FOLLOW_UPS, {"assignee": "me"})
    overdue = alumni.get(FOLLOW_UPS, {"assignee": "me", "status": "overdue"})

    # then the 7-day call is due and the 48-hour one overdue, each showing
    # who to call, on which channels and when
    (row,) = due.json()["results"]
    assert row["milestone"] == "7d"
    assert [r["milestone"] for r in overdue.json()["results"]] == ["48h"]
    assert row["client"] == {
        "id": str(client.pk),
        "mrn": client.mrn,
        "first_name": client.first_name,
        "last_name": client.last_name,
        "preferred_name": client.preferred_name,
        "phone": client.phone,
        "email": client.email,
    }
    assert row["plan"]["consented_channels"] == ["phone", "sms"]
    assert (row["plan"]["contact_hours_from"], row["plan"]["contact_hours_to"]) == (
        "13:00:00",
        "18:00:00",
    )
    assert row["plan"]["contact_days"] == [1, 2, 3, 4, 5]
    assert row["plan"]["time_zone"] == "America/Chicago"
    assert row["site_today"] == str(site_today(network.austin))
    assert (row["assignee"], row["assignee_username"]) == (users.alumni.pk, "alumni")
    assert row["status"] == "scheduled"  # the scan has not run: the queue reads the dates

    # when they call twice, recording each attempt
    url = f"{FOLLOW_UPS}{row['id']}/"
    first = alumni.post(f"{url}attempts/", {"channel": "phone", "result": "no_answer"})
    second = alumni.post(
        f"{url}attempts/", {"channel": "phone", "result": "reached", "notes": "Called back."}
    )
    assert (first.status_code, second.status_code) == (201, 201), second.content
    assert second.json()["by"] == "alumni"

    # and the client says they are struggling: the outcome, and a referral to
    # Houston residential, in one request
    completed = alumni.post(
        f"{url}complete/",
        {
            "reached": True,
            "self_reported_status": "relapsed",
            "engaged_meetings": False,
            "needs_housing": True,
            "needs_readmission": True,
            "refer_to_program": str(network.houston_residential.pk),
            "referral_notes": "Drinking daily for a week; asks for residential.",
            "notes": "Lost their job.",
        },
    )

    # then the follow-up is completed, with its attempts and the open referral
    assert completed.status_code == 200, completed.content
    body = completed.json()
    assert (body["status"], body["reached"], body["self_reported_status"]) == (
        "completed",
        True,
        "relapsed",
    )
    assert body["completed_by"] == "alumni"
    assert [a["result"] for a in body["attempts"]] == ["no_answer", "reached"]
    referral = body["referral"]
    assert (referral["status"], referral["to_program"]) == (
        "open",
        str(network.houston_residential.pk),
    )
    assert referral["from_episode"] == str(episode.pk)

    # when the receiving coordinator at Houston lists the open referrals to their site
    houston = api.as_user(users.houston)
    incoming = houston.get(REFERRALS, {"status": "open", "to_site": str(network.houston.pk)})
    assert _ids(incoming) == [referral["id"]]
    assert incoming.json()["results"][0]["notes"] == (
        "Drinking daily for a week; asks for residential."
    )

    # and admits the client from it
    admitted = houston.post(f"{REFERRALS}{referral['id']}/admit/", {})

    # then the referral is admitted and names the new episode, which is linked
    # to the earlier one through it
    assert admitted.status_code == 200, admitted.content
    assert admitted.json()["status"] == "admitted"
    new_episode = Episode.objects.get(client=client, discharged_at__isnull=True)
    assert admitted.json()["new_episode"] == str(new_episode.pk)
    assert new_episode.referral_in.from_episode == episode
    journey = houston.get(f"/api/v1/clients/{client.pk}/journey/").json()
    assert [e["id"] for e in journey["episodes"]] == [str(episode.pk), str(new_episode.pk)]

    # and the rest of the year's follow-ups left the alumni coordinator's queue
    alumni = api.as_user(users.alumni)
    assert _ids(alumni.get(FOLLOW_UPS, {"assignee": "me", "status": "upcoming"})) == []
    thirty = FollowUp.objects.get(episode=episode, milestone="30d")
    detail = alumni.get(f"{FOLLOW_UPS}{thirty.pk}/").json()
    assert (detail["status"], detail["ended_reason"]) == ("cancelled", "readmitted")


# --- the queue: buckets and filters ---------------------------------------------


@pytest.fixture
def queue(network, users):
    """Austin follow-ups in each bucket, all the alumni coordinator's, and one
    at Houston given to another alumni coordinator."""
    other = UserFactory(username="alumni.other")
    role_grant(user=other, role=Role.ALUMNI_COORDINATOR)
    today = site_today(network.austin)
    row = lambda program, **fields: follow_up_row(program, users.austin, **fields)  # noqa: E731
    return SimpleNamespace(
        other=other,
        due=row(network.austin_iop, due_on=today - DAY, assignee=users.alumni),
        due_closing=row(
            network.austin_iop, due_on=today - DAY, window_days=1, assignee=users.alumni
        ),
        overdue=row(network.austin_iop, due_on=today - 10 * DAY, assignee=users.alumni),
        missed=row(
            network.austin_iop,
            due_on=today - 20 * DAY,
            status=FollowUpStatus.MISSED,
            assignee=users.alumni,
        ),
        upcoming=row(network.austin_iop, due_on=today + 5 * DAY, assignee=users.alumni),
        completed=row(
            network.austin_iop,
            due_on=today - 3 * DAY,
            status=FollowUpStatus.COMPLETED,
            completed_at=timezone.now() - DAY,
            completed_by=users.alumni,
            reached=False,
            assignee=users.alumni,
        ),
        cancelled=row(
            network.austin_iop,
            due_on=today - DAY,
            status=FollowUpStatus.CANCELLED,
            ended_at=timezone.now(),
            ended_reason="readmitted",
            assignee=users.alumni,
        ),
        houston=row(network.houston_iop, due_on=today, assignee=other),
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, ["due_closing", "due"]),
        ("due", ["due_closing", "due"]),
        ("overdue", ["missed", "overdue"]),
        ("upcoming", ["upcoming"]),
        ("completed", ["completed"]),
    ],
)
def test_each_bucket_lists_its_follow_ups_in_its_order(api, users, queue, status, expected):
    # when the alumni coordinator reads a bucket of their own queue (due by default)
    params = {"assignee": "me", **({"status": status} if status else {})}
    listed = _ids(api.as_user(users.alumni).get(FOLLOW_UPS, params))

    # then it holds exactly those follow-ups, closing windows (or oldest) first;
    # the cancelled one is in no bucket
    assert listed == [str(getattr(queue, name).pk) for name in expected]


def test_the_queue_narrows_to_an_assignee_and_a_site(api, network, users, queue):
    alumni = api.as_user(users.alumni)

    everyone = _ids(alumni.get(FOLLOW_UPS))
    others = _ids(alumni.get(FOLLOW_UPS, {"assignee": str(queue.other.pk)}))
    at_houston = _ids(alumni.get(FOLLOW_UPS, {"site": str(network.houston.pk)}))
    mine_at_houston = _ids(
        alumni.get(FOLLOW_UPS, {"assignee": "me", "site": str(network.houston.pk)})
    )

    # without an assignee, every due follow-up the caller sees, at every site
    assert set(everyone) == {str(queue.due.pk), str(queue.due_closing.pk), str(queue.houston.pk)}
    assert others == at_houston == [str(queue.houston.pk)]
    assert mine_at_houston == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "today"}, "status"),
        ({"status": "missed"}, "status"),
        ({"site": "not-a-uuid"}, "site"),
        ({"assignee": "them"}, "assignee"),
        ({"assignee": "999999"}, "assignee"),
        ({"assignee": "-1"}, "assignee"),
    ],
    ids=["status-today", "status-missed", "site", "assignee-word", "assignee-unknown", "negative"],
)
def test_a_bad_queue_parameter_is_a_400_naming_it(api, users, queue, params, field):
    response = api.as_user(users.alumni).get(FOLLOW_UPS, params)
    assert_problem(response, 400, code="invalid", fields={field})


def _in_digits(number: int, zero: str) -> str:
    """`number` written in the decimal digits that start at `zero`."""
    return "".join(chr(ord(zero) + int(digit)) for digit in str(number))


@pytest.mark.parametrize(
    "written",
    [
        lambda pk: "\u00b2",  # superscript two: a digit to str.isdigit, not to int()
        lambda pk: "\u2460",  # circled one: the same
        lambda pk: _in_digits(pk, "\u0660"),  # Arabic-Indic: int() reads them
        lambda pk: _in_digits(pk, "\uff10"),  # fullwidth: the same
    ],
    ids=["superscript", "circled", "arabic-indic", "fullwidth"],
)
def test_an_assignee_is_me_or_an_id_in_ascii_digits(api, users, queue, written):
    alumni = api.as_user(users.alumni)

    # the other coordinator's id in ASCII digits is theirs
    assert _ids(alumni.get(FOLLOW_UPS, {"assignee": str(queue.other.pk)})) == [
        str(queue.houston.pk)
    ]
    # but in other digits it is a 400 naming assignee, never a 500 or someone
    response = alumni.get(FOLLOW_UPS, {"assignee": written(queue.other.pk)})
    problem = assert_problem(response, 400, code="invalid", fields={"assignee"})
    assert error_for(problem, "assignee")["message"] == 'Must be "me" or a user id.'


def test_an_empty_parameter_is_a_400_naming_it(api, users, queue):
    # given the alumni coordinator
    alumni = api.as_user(users.alumni)

    # when the queue is asked for with empty parameters
    response = alumni.get(FOLLOW_UPS, {"status": "", "site": "", "assignee": ""})

    # then each is named: leaving a parameter out is how to have no filter
    assert_problem(response, 400, code="invalid", fields={"status", "site", "assignee"})


# --- who sees which follow-up, plan and referral ----------------------------------


@pytest.mark.parametrize(
    ("viewer", "sees_austin", "sees_houston"),
    [
        ("alumni", True, True),
        ("admin", True, True),
        ("austin", True, False),
        ("manager", True, False),
        ("houston", False, True),
        ("houston_manager", False, True),
        ("nobody", False, False),
    ],
)
def test_follow_ups_are_seen_by_the_alumni_team_everywhere_and_site_staff_at_their_sites(
    api, users, austin_alumnus, houston_alumnus, viewer, sees_austin, sees_houston
):
    # given a due 7-day follow-up at Austin and one at Houston
    client = api.as_user(getattr(users, viewer))

    # when the viewer lists the queue and opens each
    listed = set(_ids(client.get(FOLLOW_UPS)))
    for alumnus, sees in ((austin_alumnus, sees_austin), (houston_alumnus, sees_houston)):
        detail = client.get(f"{FOLLOW_UPS}{alumnus.m7d.pk}/")

        # then they see it, listed and in detail, exactly when it is theirs to see
        assert (str(alumnus.m7d.pk) in listed) is sees
        if sees:
            assert detail.status_code == 200, detail.content
        else:
            assert_problem(detail, 404, code="not_found")


def test_houston_never_sees_austins_follow_ups_plans_or_referrals(
    api, network, users, austin_alumnus
):
    # given an Austin alumnus referred back into Austin IOP from their 48-hour follow-up
    follow_ups.follow_up_complete(
        actor=users.alumni,
        follow_up=austin_alumnus.m48h,
        reached=True,
        self_reported_status="relapsed",
        needs_readmission=True,
        refer_to_program=network.austin_iop,
    )
    referral = Referral.objects.get(client=austin_alumnus.client)
    houston = api.as_user(users.houston)
    follow_up = f"{FOLLOW_UPS}{austin_alumnus.m7d.pk}/"

    # when Houston's coordinator reads, writes and acts on each
    responses = {
        "follow-up": houston.get(follow_up),
        "attempt": houston.post(f"{follow_up}attempts/", {"channel": "phone", "result": "reached"}),
        "complete": houston.post(f"{follow_up}complete/", {"reached": False}),
        "reassign": houston.post(f"{follow_up}reassign/", {"assignee": None}),
        "plan": houston.get(plan_url(austin_alumnus.client)),
        "plan-put": houston.put(plan_url(austin_alumnus.client), {}),
        "plan-patch": houston.patch(plan_url(austin_alumnus.client), {"consent_sms": True}),
        "referral": houston.get(f"{REFERRALS}{referral.pk}/"),
        "admit": houston.post(f"{REFERRALS}{referral.pk}/admit/", {}),
        "cancel": houston.post(f"{REFERRALS}{referral.pk}/cancel/", {"reason": "x"}),
    }

    # then none of it exists for them, and none of it is listed
    for name, response in responses.items():
        assert response.status_code == 404, name
        assert_problem(response, 404, code="not_found")
    assert _ids(houston.get(FOLLOW_UPS, {"status": "overdue"})) == []
    assert _ids(houston.get(REFERRALS)) == []
    assert ContactAttempt.objects.count() == 0


def test_site_staff_work_their_sites_follow_ups_but_only_managers_reassign(
    api, users, austin_alumnus
):
    # given Austin's coordinator and manager, and the alumni coordinator's 7-day follow-up
    url = f"{FOLLOW_UPS}{austin_alumnus.m7d.pk}/"
    coordinator, manager = users.austin, users.manager

    # when the coordinator records an attempt and tries to reassign the follow-up
    attempt = api.as_user(coordinator).post(
        f"{url}attempts/", {"channel": "in_person", "result": "reached"}
    )
    refused = api.as_user(coordinator).post(f"{url}reassign/", {"assignee": None})
    # and the site manager unassigns it
    unassigned = api.as_user(manager).post(f"{url}reassign/", {"assignee": None})

    # then the coordinator may work it, not share it out; the manager may
    assert attempt.status_code == 201, attempt.content
    body = assert_problem(refused, 403, code="not_permitted")
    assert body["detail"] == MSG_NOT_REASSIGNER
    assert unassigned.status_code == 200, unassigned.content
    assert (unassigned.json()["assignee"], unassigned.json()["assignee_username"]) == (None, None)


def test_a_user_without_a_role_sees_no_follow_ups_referrals_or_plans(api, users, austin_record):
    nobody = api.as_user(users.nobody)
    assert nobody.get(FOLLOW_UPS).json()["count"] == 0
    assert nobody.get(REFERRALS).json()["count"] == 0
    assert_problem(nobody.get(plan_url(austin_record.alumnus)), 404)


def test_the_receiving_team_sees_a_referral_to_its_program_and_others_do_not(
    api, network, users, austin_alumnus, outsider
):
    # given an Austin alumnus referred to Houston residential
    follow_ups.follow_up_complete(
        actor=users.alumni,
        follow_up=austin_alumnus.m7d,
        reached=True,
        self_reported_status="relapsed",
        needs_readmission=True,
        refer_to_program=network.houston_residential,
    )
    referral = str(Referral.objects.get().pk)

    # when each one lists referrals
    seen = {
        name: referral in _ids(api.as_user(user).get(REFERRALS))
        for name, user in {
            "houston": users.houston,
            "austin": users.austin,
            "alumni": users.alumni,
            "admin": users.admin,
            "dallas": outsider,
        }.items()
    }

    # then the receiving and the sending sites, the alumni team and admins see it
    assert seen == {"houston": True, "austin": True, "alumni": True, "admin": True, "dallas": False}
    assert_problem(api.as_user(outsider).get(f"{REFERRALS}{referral}/"), 404)


# --- attempts and outcomes: errors that name their field ---------------------------


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"channel": "fax", "result": "reached"}, "channel", None),
        ({"channel": "sms", "result": "reached"}, "channel", MSG_NO_CONSENT.format(channel="SMS")),
        (
            {"channel": "email", "result": "no_answer"},
            "channel",
            MSG_NO_CONSENT.format(channel="Email"),
        ),
        ({"channel": "phone", "result": "hung_up"}, "result", None),
        ({"channel": "phone"}, "result", "This field is required."),
        ({"channel": "phone", "result": "reached", "at": "soon"}, "at", None),
        ("future", "at", MSG_TIME_IN_FUTURE),
    ],
    ids=[
        "unknown-channel",
        "sms-no-consent",
        "email-no-consent",
        "result",
        "no-result",
        "at",
        "future",
    ],
)
def test_an_attempt_that_breaks_a_rule_is_a_400_naming_its_field(
    api, users, austin_alumnus, body, field, message
):
    # given a client who consented to phone calls only
    if body == "future":
        body = {"channel": "phone", "result": "reached", "at": _iso(timezone.now() + DAY)}

    # when an attempt is recorded that the rules refuse
    response = api.as_user(users.alumni).post(
        f"{FOLLOW_UPS}{austin_alumnus.m7d.pk}/attempts/", body
    )

    # then the field is named, and nothing was recorded
    problem = assert_problem(response, 400, code="invalid", fields={field})
    if message:
        assert error_for(problem, field)["message"] == message
    assert not ContactAttempt.objects.exists()


def test_in_person_needs_no_consent(api, network, users):
    alumnus = discharged(network.austin_iop, users.austin, consent=())
    response = api.as_user(users.alumni).post(
        f"{FOLLOW_UPS}{alumnus.m7d.pk}/attempts/", {"channel": "in_person", "result": "reached"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "in_person"


def test_a_follow_up_not_yet_due_is_a_409(api, users, austin_alumnus):
    # when the 30-day follow-up is worked three weeks early
    url = f"{FOLLOW_UPS}{austin_alumnus.m30d.pk}/"
    alumni = api.as_user(users.alumni)
    attempt = alumni.post(f"{url}attempts/", {"channel": "phone", "result": "reached"})
    outcome = alumni.post(f"{url}complete/", {"reached": False})

    # then the state forbids it
    assert assert_problem(attempt, 409, code="illegal_transition")["detail"] == MSG_NOT_YET_DUE
    assert assert_problem(outcome, 409, code="illegal_transition")["detail"] == MSG_NOT_YET_DUE


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "reached", "This field is required."),
        ({"reached": True}, "self_reported_status", MSG_STATUS_REQUIRED),
        ({"reached": True, "self_reported_status": "sober"}, "self_reported_status", None),
        ({"reached": False, "self_reported_status": "using"}, "self_reported_status", None),
        ({"reached": False, "engaged_therapy": True}, "engaged_therapy", None),
        (
            {"reached": True, "self_reported_status": "relapsed", "needs_readmission": True},
            "refer_to_program",
            MSG_PROGRAM_REQUIRED,
        ),
        (
            {"reached": True, "self_reported_status": "relapsed", "refer_to_program": "DETOX"},
            "refer_to_program",
            None,
        ),
        (
            {
                "reached": True,
                "self_reported_status": "relapsed",
                "needs_readmission": True,
                "refer_to_program": "ALUMNI",
            },
            "refer_to_program",
            MSG_REFER_TO_TREATMENT,
        ),
        (
            {
                "reached": True,
                "self_reported_status": "relapsed",
                "needs_readmission": True,
                "refer_to_program": "00000000-0000-4000-8000-000000000000",
            },
            "refer_to_program",
            "Program not found.",
        ),
    ],
    ids=[
        "reached-required",
        "status-required",
        "unknown-status",
        "status-unreached",
        "engagement-unreached",
        "no-program",
        "program-without-need",
        "alumni-program",
        "unknown-program",
    ],
)
def test_an_outcome_that_breaks_a_rule_is_a_400_naming_its_field(
    api, network, users, austin_alumnus, body, field, message
):
    # given the due 7-day follow-up
    programs = {"DETOX": network.austin_detox.pk, "ALUMNI": network.austin_alumni.pk}
    if body.get("refer_to_program") in programs:
        body = {**body, "refer_to_program": str(programs[body["refer_to_program"]])}
    audit_rows = AuditEvent.objects.count()

    # when an outcome the rules refuse is recorded
    response = api.as_user(users.alumni).post(
        f"{FOLLOW_UPS}{austin_alumnus.m7d.pk}/complete/", body
    )

    # then its field is named and nothing was written
    problem = assert_problem(response, 400, code="invalid", fields={field})
    if message:
        assert error_for(problem, field)["message"] == message
    austin_alumnus.m7d.refresh_from_db()
    assert austin_alumnus.m7d.status == FollowUpStatus.SCHEDULED
    assert not Referral.objects.exists()
    assert AuditEvent.objects.count() == audit_rows


def test_a_second_open_referral_is_a_409_and_leaves_the_follow_up_open(
    api, network, users, austin_alumnus
):
    # given the client was already referred from the 48-hour follow-up
    refer = {
        "reached": True,
        "self_reported_status": "relapsed",
        "needs_readmission": True,
        "refer_to_program": str(network.austin_detox.pk),
    }
    alumni = api.as_user(users.alumni)
    first = alumni.post(f"{FOLLOW_UPS}{austin_alumnus.m48h.pk}/complete/", refer)
    assert first.status_code == 200, first.content
    audit_rows = AuditEvent.objects.count()

    # when the 7-day one refers them again
    second = alumni.post(f"{FOLLOW_UPS}{austin_alumnus.m7d.pk}/complete/", refer)

    # then it is refused naming the program, and the outcome was not half-written
    assert_problem(second, 409, code="referral_open", fields={"refer_to_program"})
    austin_alumnus.m7d.refresh_from_db()
    assert (austin_alumnus.m7d.status, austin_alumnus.m7d.completed_at) == ("scheduled", None)
    assert Referral.objects.count() == 1
    assert AuditEvent.objects.count() == audit_rows


def test_completing_twice_is_a_409(api, users, austin_alumnus):
    url = f"{FOLLOW_UPS}{austin_alumnus.m7d.pk}/complete/"
    alumni = api.as_user(users.alumni)
    assert alumni.post(url, {"reached": False}).status_code == 200
    assert_problem(alumni.post(url, {"reached": False}), 409, code="illegal_transition")


def test_an_overdue_follow_up_may_be_completed_late(api, users, austin_alumnus):
    response = api.as_user(users.alumni).post(
        f"{FOLLOW_UPS}{austin_alumnus.m48h.pk}/complete/",
        {"reached": False, "notes": "Number disconnected."},
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["reached"]) == ("completed", False)


def test_a_client_in_the_alumni_program_is_referred_by_a_step_up_transfer(api, network, users):
    # given a client who stepped down from Austin IOP to Austin alumni eight days ago
    now = timezone.now()
    client = placed_client(network.austin_iop, users.austin, started_at=now - 40 * DAY)
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.austin_alumni, now=now - 8 * DAY
    )
    transfer = transfers.transfer_approve(actor=users.alumni, transfer=transfer, now=now - 8 * DAY)
    finish_checklist(transfer, users.alumni, now=now - 8 * DAY)
    transfers.transfer_complete(
        actor=users.alumni, transfer=transfer, arrived_at=now - 8 * DAY, now=now - 8 * DAY
    )
    seven = FollowUp.objects.get(client=client, milestone="7d")

    # when the alumni coordinator refers them to Austin residential
    response = api.as_user(users.alumni).post(
        f"{FOLLOW_UPS}{seven.pk}/complete/",
        {
            "reached": True,
            "self_reported_status": "relapsed",
            "needs_readmission": True,
            "refer_to_program": str(network.austin_residential.pk),
        },
    )

    # then the referral carries a requested step-up transfer, which is how it is admitted
    assert response.status_code == 200, response.content
    referral = response.json()["referral"]
    assert referral["status"] == "open"
    assert referral["transfer"] is not None
    admit = api.as_user(users.austin).post(f"{REFERRALS}{referral['id']}/admit/", {})
    assert_problem(admit, 409, code="illegal_transition")


# --- reassignment -----------------------------------------------------------------


def test_an_alumni_coordinator_reassigns_one_and_then_many(api, network, users, queue):
    alumni = api.as_user(users.alumni)

    # when one follow-up goes to the other coordinator
    one = alumni.post(f"{FOLLOW_UPS}{queue.due.pk}/reassign/", {"assignee": queue.other.pk})
    # and then two more at once
    many = alumni.post(
        f"{FOLLOW_UPS}reassign/",
        {"follow_ups": [str(queue.overdue.pk), str(queue.upcoming.pk)], "assignee": queue.other.pk},
    )

    # then each is theirs, and their queue shows them
    assert one.status_code == 200, one.content
    assert one.json()["assignee_username"] == "alumni.other"
    assert many.status_code == 200, many.content
    assert [row["id"] for row in many.json()] == [str(queue.overdue.pk), str(queue.upcoming.pk)]
    assert {row["assignee"] for row in many.json()} == {queue.other.pk}
    theirs = _ids(alumni.get(FOLLOW_UPS, {"assignee": str(queue.other.pk)}))
    assert set(theirs) == {str(queue.due.pk), str(queue.houston.pk)}
    assert (
        AuditEvent.objects.filter(
            object_type="follow_up", action="update", detail__event="reassigned"
        ).count()
        == 3
    )


@pytest.mark.parametrize(
    ("assignee", "message"),
    [("austin", MSG_ASSIGNEE_NOT_ALUMNI), (987654, "User not found."), (True, None), ("me", None)],
    ids=["not-alumni", "unknown", "boolean", "me"],
)
def test_reassigning_to_someone_who_cannot_take_it_is_a_400_naming_assignee(
    api, users, queue, assignee, message
):
    value = users.austin.pk if assignee == "austin" else assignee
    response = api.as_user(users.alumni).post(
        f"{FOLLOW_UPS}{queue.due.pk}/reassign/", {"assignee": value}
    )
    problem = assert_problem(response, 400, fields={"assignee"})
    if message:
        assert error_for(problem, "assignee")["message"] == message
    queue.due.refresh_from_db()
    assert queue.due.assignee == users.alumni


def test_a_bulk_reassignment_with_an_id_the_caller_cannot_see_moves_nothing(api, users, queue):
    # given Austin's manager, who cannot see the Houston follow-up
    body = {"follow_ups": [str(queue.due.pk), str(queue.houston.pk)], "assignee": queue.other.pk}

    # when they reassign it together with an Austin one
    response = api.as_user(users.manager).post(f"{FOLLOW_UPS}reassign/", body)

    # then the unknown one is named, and nothing moved
    assert_problem(response, 404, code="not_found", fields={"follow_ups"})
    queue.due.refresh_from_db()
    assert queue.due.assignee == users.alumni


@pytest.mark.parametrize(
    ("follow_ups", "field", "message"),
    [
        (["not-a-uuid"], "follow_ups.0", "Must be a valid UUID."),
        ([], "follow_ups", None),
        ("many", "follow_ups", MSG_TOO_MANY),
    ],
    ids=["malformed", "empty", "too-many"],
)
def test_a_bad_bulk_reassignment_is_a_400_naming_follow_ups(
    api, users, queue, follow_ups, field, message
):
    if follow_ups == "many":
        follow_ups = [f"00000000-0000-4000-8000-{n:012d}" for n in range(501)]
    response = api.as_user(users.alumni).post(
        f"{FOLLOW_UPS}reassign/", {"follow_ups": follow_ups, "assignee": None}
    )
    problem = assert_problem(response, 400, code="invalid", fields={field})
    if message:
        assert error_for(problem, field)["message"] == message


def test_finished_work_is_not_reassigned(api, users, queue):
    response = api.as_user(users.alumni).post(
        f"{FOLLOW_UPS}{queue.completed.pk}/reassign/", {"assignee": queue.other.pk}
    )
    assert_problem(response, 409, code="illegal_transition")


def _audit_rows():
    """Every audit row: (actor, action, object type, object, client, detail)."""
    return sorted(
        (e.actor_id, e.action, e.object_type, e.object_id, e.client_id, e.detail)
        for e in AuditEvent.objects.all()
    )


def test_reassigning_to_whoever_has_it_already_is_audited_as_a_read(api, users, queue):
    audit_trail_forget()

    # when the alumni coordinator gives their own follow-up to themselves
    response = api.as_user(users.alumni).post(
        f"{FOLLOW_UPS}{queue.due.pk}/reassign/", {"assignee": users.alumni.pk}
    )

    # then it comes back, with the client's contact details, and that read is audited
    assert response.status_code == 200, response.content
    assert response.json()["client"]["id"] == str(queue.due.client_id)
    assert response.json()["assignee"] == users.alumni.pk
    assert _audit_rows() == [
        (users.alumni.pk, "view", "follow_up", queue.due.pk, queue.due.client_id, {})
    ]


def test_a_bulk_reassignment_audits_what_moved_as_changed_and_the_rest_as_read(api, users, queue):
    alumni = api.as_user(users.alumni)
    audit_trail_forget()

    # when the Houston follow-up (already the other's) and an Austin one go to the other
    some = alumni.post(
        f"{FOLLOW_UPS}reassign/",
        {"follow_ups": [str(queue.houston.pk), str(queue.due.pk)], "assignee": queue.other.pk},
    )

    # then both come back; the one that moved is audited as changed, the other as read
    assert some.status_code == 200, some.content
    assert {row["id"] for row in some.json()} == {str(queue.houston.pk), str(queue.due.pk)}
    moved = {"event": "reassigned", "from": str(users.alumni.pk), "to": str(queue.other.pk)}
    assert _audit_rows() == sorted(
        [
            (users.alumni.pk, "update", "follow_up", queue.due.pk, queue.due.client_id, moved),
            (users.alumni.pk, "view", "follow_up", queue.houston.pk, queue.houston.client_id, {}),
        ]
    )

    # and when none of them moves, each is audited as read
    audit_trail_forget()
    none = alumni.post(
        f"{FOLLOW_UPS}reassign/",
        {"follow_ups": [str(queue.houston.pk), str(queue.due.pk)], "assignee": queue.other.pk},
    )
    assert none.status_code == 200, none.content
    assert len(none.json()) == 2
    assert _audit_rows() == sorted(
        (users.alumni.pk, "view", "follow_up", f.pk, f.client_id, {})
        for f in (queue.houston, queue.due)
    )


# --- referrals --------------------------------------------------------------------


@pytest.fixture
def referred(network, users, austin_alumnus):
    """The Austin alumnus, referred to Austin detox from their 7-day follow-up."""
    follow_ups.follow_up_complete(
        actor=users.alumni,
        follow_up=austin_alumnus.m7d,
        reached=True,
        self_reported_status="relapsed",
        needs_readmission=True,
        refer_to_program=network.austin_detox,
        referral_notes="Wants detox.",
    )
    return Referral.objects.get(client=austin_alumnus.client)


def test_referrals_filter_by_status_site_program_and_client(api, network, users, referred):
    alumni = api.as_user(users.alumni)
    one = [str(referred.pk)]
    assert _ids(alumni.get(REFERRALS, {"status": "open"})) == one
    assert _ids(alumni.get(REFERRALS, {"status": ["admitted", "cancelled"]})) == []
    assert _ids(alumni.get(REFERRALS, {"to_site": str(network.austin.pk)})) == one
    assert _ids(alumni.get(REFERRALS, {"to_site": str(network.houston.pk)})) == []
    assert _ids(alumni.get(REFERRALS, {"to_program": str(network.austin_detox.pk)})) == one
    assert _ids(alumni.get(REFERRALS, {"client": str(referred.client_id)})) == one


@pytest.mark.parametrize(
    ("param", "value"),
    [("status", "lost"), ("to_site", "x"), ("to_program", "x"), ("client", "x")],
)
def test_a_bad_referral_filter_is_a_400_naming_it(api, users, referred, param, value):
    response = api.as_user(users.alumni).get(REFERRALS, {param: value})
    assert_problem(response, 400, fields={param})


def test_the_alumni_team_cannot_admit_into_a_treatment_program(api, users, referred):
    # the alumni coordinator referred them, but is not on detox's care team
    response = api.as_user(users.alumni).post(f"{REFERRALS}{referred.pk}/admit/", {})
    assert_problem(response, 403, code="not_permitted")
    referred.refresh_from_db()
    assert referred.status == ReferralStatus.OPEN


def test_admitting_into_a_full_program_is_a_409_and_a_manager_may_override(
    api, network, users, referred
):
    # given Austin detox full
    for _ in range(network.austin_detox.capacity):
        placed_client(network.austin_detox, users.austin)
    url = f"{REFERRALS}{referred.pk}/admit/"

    # when the coordinator admits, then the manager with a reason
    full = api.as_user(users.austin).post(url, {})
    override = api.as_user(users.manager).post(
        url, {"capacity_override_reason": "Medical priority."}
    )

    # then the first is refused, the second admits
    assert_problem(full, 409, code="capacity_exceeded")
    assert override.status_code == 200, override.content
    assert override.json()["status"] == "admitted"


def test_the_receiving_team_declines_a_referral_with_a_reason(api, users, referred):
    url = f"{REFERRALS}{referred.pk}/"
    austin = api.as_user(users.austin)

    without = austin.post(f"{url}cancel/", {})
    blank = austin.post(f"{url}cancel/", {"reason": "   "})
    too_long = austin.post(f"{url}cancel/", {"reason": "x" * 201})
    declined = austin.post(f"{url}cancel/", {"reason": "Needs a hospital detox."})
    again = austin.post(f"{url}admit/", {})

    assert_problem(without, 400, fields={"reason"})
    assert_problem(blank, 400, fields={"reason"})
    assert_problem(too_long, 400, fields={"reason"})
    assert declined.status_code == 200, declined.content
    assert (declined.json()["status"], declined.json()["cancelled_reason"]) == (
        "cancelled",
        "Needs a hospital detox.",
    )
    assert_problem(again, 409, code="illegal_transition")


def test_admitted_at_in_the_future_is_a_400(api, users, referred):
    response = api.as_user(users.austin).post(
        f"{REFERRALS}{referred.pk}/admit/", {"admitted_at": _iso(timezone.now() + DAY)}
    )
    assert_problem(response, 400, fields={"admitted_at"})


# --- the plan ---------------------------------------------------------------------


def test_a_plan_not_written_yet_reads_as_the_empty_plan(api, network, users):
    # given a client in Austin detox, whose plan nobody wrote
    client = placed_client(network.austin_detox, users.austin)

    # when their care team opens the plan
    response = api.as_user(users.austin).get(plan_url(client))

    # then it is the empty plan: not written, no supports, no consent
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["episode"], body["created_by"]) == (None, None, None)
    assert body["client"] == str(client.pk)
    assert (body["consent_to_contact"], body["consented_channels"]) == (False, [])
    assert (body["contact_hours_from"], body["contact_days"]) == (None, [])


def test_put_replaces_the_plan_and_patch_changes_only_what_it_names(api, network, users):
    client = placed_client(network.austin_residential, users.austin)
    austin = api.as_user(users.austin)
    full = {
        "sober_living": True,
        "sober_living_details": "Oak House.",
        "emergency_contact_name": "Sam Rivera",
        "consent_to_contact": True,
        "consent_email": True,
        "contact_days": [6, 7],
    }

    created = austin.put(plan_url(client), full)
    patched = austin.patch(plan_url(client), {"consent_sms": True})
    replaced = austin.put(plan_url(client), {"consent_to_contact": True, "consent_phone": True})

    assert created.status_code == 200, created.content
    assert created.json()["episode"] == str(client.episodes.get().pk)
    assert created.json()["created_by"] == "coordinator.austin"
    assert patched.json()["consented_channels"] == ["sms", "email"]
    assert patched.json()["sober_living_details"] == "Oak House."
    # what the PUT left out is reset: no sober living, no emergency contact, any day
    body = replaced.json()
    assert (body["sober_living"], body["sober_living_details"]) == (False, "")
    assert (body["emergency_contact_name"], body["contact_days"]) == ("", [])
    assert body["consented_channels"] == ["phone"]
    assert body["id"] == created.json()["id"]
    # and each write was audited with the names of the fields it changed
    audit = AuditEvent.objects.filter(object_type="aftercare_plan", client_id=client.pk)
    assert [(a.action, a.detail["fields"]) for a in audit.order_by("at", "id")] == [
        ("create", sorted(full)),
        ("update", ["consent_sms"]),
        (
            "update",
            sorted(
                [
                    "consent_email",
                    "consent_phone",
                    "consent_sms",
                    "contact_days",
                    "emergency_contact_name",
                    "sober_living",
                    "sober_living_details",
                ]
            ),
        ),
    ]


def test_a_plan_write_that_changes_nothing_is_audited_as_a_read(api, network, users):
    # given a written plan
    client = placed_client(network.austin_residential, users.austin)
    austin = api.as_user(users.austin)
    whole = {"sober_living": True, "consent_to_contact": True, "consent_email": True}
    written = austin.put(plan_url(client), whole)
    assert written.status_code == 200, written.content
    plan_id = written.json()["id"]
    audit_trail_forget()

    # when its care team patches nothing, then puts it again as it is
    patched = austin.patch(plan_url(client), {})
    put_again = austin.put(plan_url(client), whole)

    # then the whole plan comes back unchanged, and each answer is audited as a read
    assert patched.status_code == put_again.status_code == 200
    assert patched.json() == put_again.json() == written.json()
    read = (users.austin.pk, "view", "aftercare_plan", uuid.UUID(plan_id), client.pk, {})
    assert _audit_rows() == [read, read]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"consent_sms": True}, "consent_sms", MSG_CHANNEL_WITHOUT_CONSENT),
        ({"consent_to_contact": True}, "consent_to_contact", MSG_CONSENT_NEEDS_CHANNEL),
        (
            {"contact_hours_from": "18:00", "contact_hours_to": "09:00"},
            "contact_hours_to",
            MSG_HOURS_RANGE,
        ),
        ({"contact_hours_from": "09:00"}, "contact_hours_to", MSG_HOURS_RANGE),
        ({"contact_hours_from": "25:00"}, "contact_hours_from", None),
        ({"contact_days": [1, 8]}, "contact_days", MSG_CONTACT_DAYS),
        ({"contact_days": "weekdays"}, "contact_days", None),
        ({"consent_phone": "perhaps"}, "consent_phone", None),
        ({"emergency_contact_phone": "5" * 41}, "emergency_contact_phone", None),
    ],
    ids=[
        "channel-without-consent",
        "consent-without-channel",
        "hours-reversed",
        "hours-half",
        "hour-25",
        "day-8",
        "days-word",
        "boolean",
        "phone-too-long",
    ],
)
@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_plan_that_breaks_a_rule_is_a_400_naming_its_field(
    api, network, users, method, body, field, message
):
    # given a client whose plan is not written yet
    client = placed_client(network.austin_residential, users.austin)

    # when a plan the rules refuse is written
    response = getattr(api.as_user(users.austin), method)(plan_url(client), body)

    # then the field is named, and no plan was written
    problem = assert_problem(response, 400, code="invalid", fields={field})
    if message:
        assert error_for(problem, field)["message"] == message
    assert not client.aftercare_plans.exists()


@pytest.mark.parametrize(
    ("writer", "status"),
    [
        ("austin", 200),
        ("manager", 200),
        ("admin", 200),
        ("alumni", 404),  # the client is in detox: not the alumni team's yet
        ("houston", 403),  # sees the client through a declined transfer, does not treat them
        ("nobody", 404),
    ],
)
def test_before_discharge_the_clients_care_team_writes_the_plan(
    api, network, users, writer, status
):
    # given an Austin detox client whose transfer to Houston was declined
    client = placed_client(network.austin_detox, users.austin)
    transfer_to(
        network.houston_residential,
        client=client,
        sender=users.austin,
        receiver=users.houston,
        status="declined",
    )

    # when a member of staff writes their plan
    response = api.as_user(getattr(users, writer)).put(
        plan_url(client), {"consent_to_contact": True, "consent_phone": True}
    )

    # then only Austin's team (and admins) may
    assert response.status_code == status, response.content
    if status != 200:
        assert_problem(response, status)
        assert not client.aftercare_plans.exists()


def test_after_discharge_the_alumni_team_reads_and_writes_the_plan(api, users, austin_alumnus):
    alumni = api.as_user(users.alumni)

    read = alumni.get(plan_url(austin_alumnus.client))
    written = alumni.patch(plan_url(austin_alumnus.client), {"consent_email": True})

    assert read.status_code == 200, read.content
    assert read.json()["episode"] == str(austin_alumnus.episode.pk)
    assert written.status_code == 200, written.content
    assert written.json()["consented_channels"] == ["phone", "email"]
    assert (
        AuditEvent.objects.filter(
            object_type="aftercare_plan", action="view", actor=users.alumni
        ).count()
        == 1
    )


def test_a_client_never_admitted_has_no_plan_to_write(api, network, users):
    client = ClientFactory(registered_site=network.austin)
    austin = api.as_user(users.austin)
    assert austin.get(plan_url(client)).json()["id"] is None
    assert_problem(
        austin.put(plan_url(client), {"consent_to_contact": False}), 409, code="client_not_in_care"
    )


def test_an_unknown_client_has_no_plan(api, users):
    response = api.as_user(users.admin).get(
        "/api/v1/clients/00000000-0000-4000-8000-000000000000/aftercare-plan/"
    )
    assert_problem(response, 404, code="not_found")


def test_a_method_the_plan_does_not_offer_is_a_405(api, users, austin_alumnus):
    for method in ("post", "delete"):
        response = getattr(api.as_user(users.alumni), method)(plan_url(austin_alumnus.client))
        assert_problem(response, 405, code="method_not_allowed")


# --- audit of reads ---------------------------------------------------------------


def test_every_follow_up_and_referral_read_is_audited_once_per_record(
    api, network, users, queue, referred
):
    alumni = api.as_user(users.alumni)

    page = alumni.get(FOLLOW_UPS, {"assignee": "me", "status": "overdue"})
    one = alumni.get(f"{FOLLOW_UPS}{queue.upcoming.pk}/")
    referrals = alumni.get(REFERRALS)
    one_referral = alumni.get(f"{REFERRALS}{referred.pk}/")

    assert page.status_code == one.status_code == referrals.status_code == 200
    assert one_referral.status_code == 200
    assert (one.json()["id"], one_referral.json()["id"]) == (
        str(queue.upcoming.pk),
        str(referred.pk),
    )
    assert one.json()["site_today"] == str(site_today(queue.upcoming.site))
    audit = AuditEvent.objects.filter(actor=users.alumni)
    listed = audit.filter(object_type="follow_up", action="list")
    rows = page.json()["results"]
    assert {str(queue.overdue.pk), str(queue.missed.pk)} <= {row["id"] for row in rows}
    assert sorted((str(a.object_id), str(a.client_id)) for a in listed) == sorted(
        (row["id"], row["client"]["id"]) for row in rows
    )
    assert audit.get(object_type="follow_up", action="view").object_id == queue.upcoming.pk
    assert audit.get(object_type="referral", action="list").object_id == referred.pk
    opened = audit.get(object_type="referral", action="view")
    assert (opened.object_id, opened.client_id) == (referred.pk, referred.client_id)


# --- the cost of the lists --------------------------------------------------------


def _add_follow_ups(n, network, users):
    """n due Austin follow-ups of the alumni coordinator, each with two attempts."""
    today = site_today(network.austin)
    for _ in range(n):
        follow_up = follow_up_row(
            network.austin_iop, users.austin, due_on=today - DAY, assignee=users.alumni
        )
        for result in ("no_answer", "reached"):
            follow_ups.attempt_record(
                actor=users.alumni, follow_up=follow_up, channel="in_person", result=result
            )


def _add_referrals(n, network, users):
    """n referrals to Austin detox, each from its own client's due follow-up."""
    today = site_today(network.austin)
    for _ in range(n):
        follow_up = follow_up_row(
            network.austin_iop, users.austin, due_on=today - DAY, assignee=users.alumni
        )
        follow_ups.follow_up_complete(
            actor=users.alumni,
            follow_up=follow_up,
            reached=True,
            self_reported_status="relapsed",
            needs_readmission=True,
            refer_to_program=network.austin_detox,
        )


# name: (URL, query, builder, viewer); "ALUMNI" stands for the alumni coordinator's id.
LISTS = {
    "follow-ups-due": (FOLLOW_UPS, {}, _add_follow_ups, "alumni"),
    "follow-ups-mine": (FOLLOW_UPS, {"assignee": "me"}, _add_follow_ups, "alumni"),
    "follow-ups-by-id-at-a-site": (FOLLOW_UPS, {"assignee": "ALUMNI"}, _add_follow_ups, "manager"),
    "follow-ups-completed": (FOLLOW_UPS, {"status": "completed"}, _add_referrals, "alumni"),
    "referrals": (REFERRALS, {}, _add_referrals, "alumni"),
    "referrals-at-a-site": (REFERRALS, {"status": "open"}, _add_referrals, "austin"),
}


def _list(name, users):
    url, params, build, viewer = LISTS[name]
    params = {k: (str(users.alumni.pk) if v == "ALUMNI" else v) for k, v in params.items()}
    return url, params, build, getattr(users, viewer)


@pytest.mark.parametrize("name", LISTS)
def test_a_list_costs_the_same_queries_for_2_rows_as_for_20(api, network, users, name):
    # given a few rows
    url, params, build, viewer = _list(name, users)
    client = api.as_user(viewer)
    build(FEW, network, users)
    few, few_body = queries_for(client, url, params)

    # when many more are added
    build(MANY - FEW, network, users)
    many, many_body = queries_for(client, url, params)

    # then the page grew and its cost did not
    assert (few_body["count"], many_body["count"]) == (FEW, MANY)
    assert many == few


@pytest.mark.parametrize("name", LISTS)
def test_a_page_of_2_costs_the_same_queries_as_a_page_of_20(api, network, users, name):
    # given many rows
    url, params, build, viewer = _list(name, users)
    build(MANY, network, users)
    client = api.as_user(viewer)

    # when pages of 2 and of 20 are read
    small, small_body = queries_for(client, url, {**params, "page_size": FEW})
    large, large_body = queries_for(client, url, {**params, "page_size": MANY})

    # then the page sizes differ and the costs do not
    assert (len(small_body["results"]), len(large_body["results"])) == (FEW, MANY)
    assert small == large


# --- garbage never makes a 500 ----------------------------------------------------


@pytest.mark.parametrize(
    "value",  # as sent, percent-encoded: %ED%A0%80 is a lone surrogate, not UTF-8
    ["9" * 30, "0", "1e3", "%00", "%ED%A0%80", "%FF", "me%20", "%20", "x" * 10_000, "a&b"],
)
@pytest.mark.parametrize("param", ["status", "assignee", "site"])
def test_garbage_in_the_queues_query_never_makes_a_500(api, users, queue, param, value):
    response = api.as_user(users.alumni).get(f"{FOLLOW_UPS}?{param}={value}")
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert_problem(response, 400, fields={param})


def test_garbage_put_as_the_plan_never_makes_a_500(api, network, users):
    # given a valid whole plan (the PATCH is fuzzed with every write route in test_errors)
    client = placed_client(network.austin_residential, users.austin)
    austin = api.as_user(users.austin)
    valid = {
        "outpatient_therapist": True,
        "outpatient_therapist_details": "Dr. Ortiz.",
        "relapse_prevention_notes": "Payday.",
        "emergency_contact_phone": "512-555-0177",
        "consent_to_contact": True,
        "consent_phone": True,
        "contact_hours_from": "09:00",
        "contact_hours_to": "17:30",
        "contact_days": [1, 5],
    }

    for body, content_type in _payloads(valid):
        # when a garbled version of it is put (each against the same state)
        with transaction.atomic():
            response = austin.generic("PUT", plan_url(client), body, content_type=content_type)
            transaction.set_rollback(True)

        # then never a server error, and every error is a problem document
        assert response.status_code < 500, (body[:200], response.content[:300])
        if response.status_code >= 400:
            assert_problem(response, response.status_code)


def test_a_self_reported_status_not_said_yet_is_null_not_an_empty_string(api, users, austin_record):
    # given an alumnus whose 48-hour follow-up was completed (relapsed) and whose
    # 7-day one has no outcome yet
    alumni = api.as_user(users.alumni)
    done = FollowUp.objects.get(client=austin_record.alumnus, milestone="48h")

    # when both are read
    pending = alumni.get(f"/api/v1/follow-ups/{austin_record.follow_up.pk}/").json()
    completed = alumni.get(f"/api/v1/follow-ups/{done.pk}/").json()

    # then the one not said is null (outside the enum, "" would break a generated client)
    assert pending["self_reported_status"] is None
    assert completed["self_reported_status"] == "relapsed"
