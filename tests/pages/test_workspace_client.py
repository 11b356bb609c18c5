"""/clients/<id>/ with Django's test client: the journey as a timeline (stays,
transfers with their events and hand-off, the discharge, the aftercare year),
a 404 for a client of another site, audited reads, constant queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.aftercare.models import FollowUp
from backend.audit.models import AuditAction, AuditEvent
from services import episodes, transfers
from tests.api.helpers import transfer_to
from tests.factories import placed_client
from tests.pages.html import parse

pytestmark = pytest.mark.django_db


def url(client) -> str:
    return f"/clients/{client.pk}/"


def _journey(network, users):
    """Detox, a completed step-down to residential, then discharge: aftercare opens."""
    now = timezone.now()
    client = placed_client(
        network.austin_detox, users.austin, started_at=now - dt.timedelta(days=20)
    )
    transfer = transfer_to(
        network.austin_residential,
        client=client,
        sender=users.austin,
        receiver=users.austin,
        status="completed",
    )
    episodes.episode_discharge(
        actor=users.austin, episode=client.episodes.get(), discharge_type="completed"
    )
    return client, transfer


def test_the_client_page_tells_the_journey_in_order(session_as, network, users):
    client, transfer = _journey(network, users)

    response = session_as(users.austin).get(url(client))

    assert response.status_code == 200
    page = parse(response.content)
    timeline = page.find("ol", class_="timeline").find_all("li", data_kind=True)
    kinds = [entry.attrs["data-kind"] for entry in timeline]
    assert kinds[:5] == ["admission", "stay", "transfer", "stay", "discharge"]
    assert set(kinds[5:]) == {"follow_up"}
    assert len(kinds[5:]) == FollowUp.objects.filter(client=client).count() > 0
    card = page.find("article", data_transfer=str(transfer.pk))
    assert card.attrs["data-status"] == "completed"
    assert len(card.find("ol", class_="events").find_all("li")) == 3  # requested, approved, done
    assert card.find(data_handoff=str(transfer.handoff.pk)).attrs["data-handoff-status"] == "closed"
    assert page.find(data_current_program="") is not None  # not in care any more
    assert page.find("form", id="admit") is not None  # so they may be admitted again
    rows = page.find("section", aria_labelledby="aftercare-title").find_all(
        "tr", data_follow_up=True
    )
    assert len(rows) == len(kinds[5:])


def test_a_coordinator_of_another_site_gets_a_404(session_as, network, users):
    client, _ = _journey(network, users)

    response = session_as(users.houston).get(url(client))

    assert response.status_code == 404
    assert client.last_name.encode() not in response.content


def test_an_unknown_client_is_the_same_404(session_as, network, users):
    response = session_as(users.austin).get("/clients/00000000-0000-0000-0000-000000000000/")

    assert response.status_code == 404


def test_opening_the_page_is_an_audited_read_of_the_record(session_as, network, users):
    client, _ = _journey(network, users)
    before = AuditEvent.objects.count()

    session_as(users.austin).get(url(client))

    rows = list(AuditEvent.objects.order_by("at")[before:])
    by_type = {}
    for row in rows:
        by_type.setdefault((row.object_type, row.action), []).append(row)
    assert len(by_type[("client", AuditAction.VIEW)]) == 1
    assert len(by_type[("journey", AuditAction.VIEW)]) == 1
    follow_ups = FollowUp.objects.filter(client=client).count()
    assert len(by_type[("follow_up", AuditAction.LIST)]) == follow_ups
    assert {row.client_id for row in rows} == {client.pk}
    assert all(row.detail["path"] == url(client) for row in rows)


def test_the_alumni_team_sees_the_aftercare_year(session_as, network, users):
    client, _ = _journey(network, users)

    response = session_as(users.alumni).get(url(client))

    # the alumni coordinator sees the client (through their follow-ups) and the year
    assert response.status_code == 200
    page = parse(response.content)
    assert page.find_all("tr", data_follow_up=True)


def test_the_client_page_costs_the_same_queries_however_long_the_journey(
    session_as, network, users, django_assert_num_queries
):
    # given a client back in detox after a first episode, with a transfer requested
    client, _ = _journey(network, users)
    episodes.episode_admit(actor=users.austin, client=client, program=network.austin_detox)
    pending = transfer_to(
        network.austin_iop, client=client, sender=users.austin, receiver=users.austin
    )
    browser = session_as(users.austin)
    browser.get(url(client))
    with CaptureQueriesContext(connection) as short:
        assert browser.get(url(client)).status_code == 200

    # when that transfer is cancelled, two more moves complete, and a new one is requested
    transfers.transfer_cancel(actor=users.austin, transfer=pending, reason="Not yet.")
    for program in (network.austin_residential, network.austin_iop):
        transfer_to(
            program, client=client, sender=users.austin, receiver=users.austin, status="completed"
        )
    transfer_to(network.austin_detox, client=client, sender=users.austin, receiver=users.austin)

    with django_assert_num_queries(len(short.captured_queries)):
        assert browser.get(url(client)).status_code == 200
