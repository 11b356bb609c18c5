"""A client's whole course, through the API as staff and partners use it, leaves none of
their identifiers in a log line (production's JSON logs, at DEBUG), an email or a
notification.

Register, admit, a partner's read (its API and FHIR), a transfer requested, approved and
completed, discharge, the follow-up's SMS (the console channel) and a contact recorded,
a partner's referral of the same person. Every line the production logging config
writes, every email in mail.outbox and every notification row is then searched for the
client's names, phone, email, date of birth and MRN.
"""

import copy
import datetime as dt
import importlib
import io
import json
import logging
import logging.config

import pytest
import time_machine
from django.core import mail
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from backend.aftercare.models import FollowUp, FollowUpNudge
from backend.care.models import Client
from backend.notifications.models import Notification
from backend.partners.models import PartnerKind
from workers import app

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PERSON = {
    "first_name": "Zephyrine",
    "last_name": "Quillfeather",
    "date_of_birth": "1987-03-29",
    "phone": "+15125557319",
    "email": "zephyrine.quillfeather@example.org",
}
# Every way these may be written down.
NEEDLES = [
    "Zephyrine",
    "Quillfeather",
    "5557319",
    "555-7319",
    "zephyrine.quillfeather",
    "1987-03-29",
    "03/29/1987",
    "1987-3-29",
]


@pytest.fixture
def production_logs(monkeypatch):
    """Production's LOGGING (JSON lines with the request id), at DEBUG, written to a
    buffer for the duration of the test; the test's own logging is put back after."""
    monkeypatch.setenv("ALLOWED_HOSTS", "continuum.example.org")
    production = importlib.import_module("backend.settings.production")
    config = copy.deepcopy(production.LOGGING)
    buffer = io.StringIO()
    config["handlers"]["console"]["stream"] = buffer
    config["root"]["level"] = "DEBUG"
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logging.config.dictConfig(config)
    yield buffer
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def signed_in(user) -> APIClient:
    """An API client holding a token issued to `user` now (after a clock move, too)."""
    Token.objects.filter(user=user).delete()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def test_a_whole_course_leaves_no_identifier_in_logs_emails_or_notifications(
    network, users, make_partner, make_consent, eager, production_logs
):
    austin, houston = signed_in(users.austin), signed_in(users.houston)
    for user in (users.austin, users.houston, users.houston_manager, users.admin):
        user.email = f"{user.username}@staff.example.org"
        user.save()
    hospital = make_partner(
        "St. Example Hospital",
        scopes=["clients:read", "episodes:read", "fhir:read", "referrals:write"],
        kind=PartnerKind.TREATING_PROVIDER,
    )

    # given Zephyrine Quillfeather registered at Austin, searched for, and admitted
    client = ok(
        austin.post("/api/v1/clients/", {**PERSON, "registered_site": str(network.austin.pk)}),
        201,
    )
    client_id, mrn = client["id"], client["mrn"]
    ok(austin.get("/api/v1/clients/", {"search": "Quillfeather"}))
    ok(
        austin.post(
            "/api/v1/episodes/",
            {"client": client_id, "program": str(network.austin_residential.pk)},
        ),
        201,
    )

    # and the hospital reads her record under her consent, through its API and FHIR
    make_consent(Client.objects.get(pk=client_id), partner=hospital.partner, purpose="treatment")
    ok(hospital.api.get(f"/api/v1/partner/clients/{client_id}/", {"purpose": "treatment"}))
    ok(hospital.api.get(f"/api/v1/partner/clients/{client_id}/episodes/", {"purpose": "treatment"}))
    ok(hospital.api.get(f"/fhir/Patient/{client_id}", {"_purpose": "treatment"}))

    # and her move to Houston requested, approved (the receiving team is told) and completed
    transfer = ok(
        austin.post(
            "/api/v1/transfers/",
            {
                "client": client_id,
                "to_program": str(network.houston_residential.pk),
                "reason": "Zephyrine wants to be near her sister.",
                "handoff_notes": "Quillfeather family will drive her.",
            },
        ),
        201,
    )
    ok(houston.post(f"/api/v1/transfers/{transfer['id']}/approve/", {}))
    ok(
        houston.post(
            f"/api/v1/transfers/{transfer['id']}/complete/",
            {"handoff_override_reason": "Arrived with her records."},
        )
    )

    # and her discharge, with an aftercare plan that consents to SMS
    ok(
        houston.patch(
            f"/api/v1/clients/{client_id}/aftercare-plan/",
            {"consent_to_contact": True, "consent_sms": True},
        )
    )
    [episode] = ok(houston.get("/api/v1/episodes/", {"client": client_id}))["results"][:1]
    ok(
        houston.post(
            f"/api/v1/episodes/{episode['id']}/discharge/",
            {"discharge_type": "completed", "notes": "Zephyrine finished the program."},
        )
    )

    # and, on the first follow-up's day, the sweep texts her and the alumni team reaches her
    first = FollowUp.objects.filter(client_id=client_id).order_by("due_on").first()
    noon = dt.datetime.combine(first.due_on, dt.time(12), tzinfo=first.site.zone)
    with time_machine.travel(noon, tick=True):
        app.tasks["workers.scan_follow_ups"].apply()
        assert FollowUpNudge.objects.filter(follow_up=first, channel="sms").exists()
        alumni = signed_in(users.alumni)
        ok(
            alumni.post(
                f"/api/v1/follow-ups/{first.pk}/attempts/",
                {"channel": "sms", "result": "reached", "notes": "Zephyrine is doing well."},
            ),
            201,
        )

    # and the hospital refers the same person again
    ok(
        hospital.api.post(
            "/api/v1/partner/referrals/",
            {
                "first_name": PERSON["first_name"],
                "last_name": PERSON["last_name"],
                "date_of_birth": PERSON["date_of_birth"],
                "phone": PERSON["phone"],
                "requested_level": "iop",
                "urgency": "routine",
                "clinical_summary": "Zephyrine Quillfeather asks to come back to IOP.",
                "referrer_name": "Dana Planner, RN",
                "site": str(network.austin.pk),
            },
            format="json",
        ),
        201,
    )

    # then the logs were written (JSON, each with a request id) and name none of it
    lines = production_logs.getvalue().splitlines()
    assert lines, "nothing was logged: the capture is not working"
    entries = [json.loads(line) for line in lines]
    assert any(e["request_id"] != "-" for e in entries)
    assert any("sms" in e["message"].lower() for e in entries), "the console SMS logged nothing"
    needles = [*NEEDLES, mrn]
    leaks = [(n, line) for line in lines for n in needles if n.lower() in line.lower()]
    assert leaks == []
    # and no email (the staff's notifications) names any of it
    assert mail.outbox, "no email was sent: the scenario did not notify anyone"
    for email in mail.outbox:
        text = " ".join([email.subject, email.body, *(c for c, _ in email.alternatives)])
        assert [n for n in needles if n.lower() in text.lower()] == [], text
    # and no notification does
    notifications = list(Notification.objects.values_list("kind", "title", "body"))
    assert notifications, "nobody was notified"
    for kind, title, body in notifications:
        text = f"{title} {body}"
        assert [n for n in needles if n.lower() in text.lower()] == [], (kind, text)
