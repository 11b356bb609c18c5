"""The actions of the board, the client page and /transfers/, through Django's
test client: each calls the service the API calls, a refusal (400, 403, 409)
is the API's status with the service's message in words beside the field it
names, and a form sent twice acts once."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from backend.audit.models import AuditAction, AuditEvent
from backend.care.models import Client, Episode, Transfer, TransferStatus
from backend.handoffs.models import HandoffStatus
from services import transfers
from services.errors import MSG_NOT_YOUR_PROGRAM, MSG_REASON_REQUIRED
from services.handoffs import MSG_OPEN_MANDATORY_ITEMS
from tests.factories import ClientFactory, placed_client
from tests.pages.html import parse

pytestmark = pytest.mark.django_db


def send(browser, url, data=None, *, once=None, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    body = {"once": once or uuid.uuid4().hex, **(data or {})}
    return browser.post(url, body, headers=headers)


def error_beside(response, form_id: str, field: str) -> str:
    page = parse(response.content)
    return page.find(id=f"{form_id}-{field}_error").text()


def form_errors(response, form_id: str) -> str:
    return parse(response.content).find(id=f"{form_id}-errors").text()


# --- register ------------------------------------------------------------------------


NEW = {"first_name": "Ana", "last_name": "Reyes", "date_of_birth": "1990-04-02"}


def test_registering_a_client_opens_their_page(session_as, network, users):
    response = send(session_as(users.austin), "/clients/new/", NEW)

    client = Client.objects.get(first_name="Ana", last_name="Reyes")
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{client.pk}/"
    assert client.registered_site == network.austin
    assert AuditEvent.objects.filter(client_id=client.pk, action=AuditAction.CREATE).exists()


def test_a_likely_duplicate_is_shown_before_registering(session_as, network, users):
    existing = ClientFactory(registered_site=network.austin, **{**NEW, "first_name": "ana"})
    browser = session_as(users.austin)

    response = send(browser, "/clients/new/", NEW)

    # then nothing is written, and the existing record is offered
    assert response.status_code == 200
    assert Client.objects.count() == 1
    page = parse(response.content)
    assert page.find("li", data_duplicate=str(existing.pk))
    confirm = page.find("form", id="register")
    assert confirm.find("input", name="not_a_duplicate").attrs["value"] == "on"
    assert confirm.find("button").text() == "Register anyway"

    # when the coordinator says it is someone else, the client is registered
    response = send(browser, "/clients/new/", {**NEW, "not_a_duplicate": "on"})
    assert response.status_code == 302
    assert Client.objects.count() == 2


def test_no_duplicate_hint_tells_of_a_client_one_may_not_see(session_as, network, users):
    ClientFactory(registered_site=network.houston, **NEW)

    response = send(session_as(users.austin), "/clients/new/", NEW)

    assert response.status_code == 302  # registered: Houston's client is not Austin's to see


def test_a_date_of_birth_in_the_future_is_refused_beside_the_field(session_as, network, users):
    tomorrow = (timezone.now() + dt.timedelta(days=2)).date().isoformat()

    response = send(session_as(users.austin), "/clients/new/", {**NEW, "date_of_birth": tomorrow})

    assert response.status_code == 400
    assert "between 1900-01-01 and today" in error_beside(response, "register", "date_of_birth")


def test_a_form_sent_twice_acts_once(session_as, network, users):
    browser = session_as(users.austin)
    token = uuid.uuid4().hex

    first = send(browser, "/clients/new/", NEW, once=token)
    second = send(browser, "/clients/new/", NEW, once=token)

    # then the second lands on the first one's result, the new client's page
    client = Client.objects.get(last_name="Reyes")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/clients/{client.pk}/"


def test_a_transition_sent_twice_acts_once(session_as, network, users):
    client = placed_client(network.austin_residential, users.austin)
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.houston_residential
    )
    houston = session_as(users.houston)
    token = uuid.uuid4().hex

    first = send(houston, f"/transfers/{transfer.pk}/approve/", once=token)
    second = send(houston, f"/transfers/{transfer.pk}/approve/", once=token)

    # then no "cannot be approved" refusal: the second is the first's answer
    assert first.status_code == second.status_code == 302
    assert transfer.events.filter(to_status=TransferStatus.APPROVED).count() == 1


# --- admit -----------------------------------------------------------------------------


def test_admitting_into_a_program_with_room(session_as, network, users):
    client = ClientFactory(registered_site=network.austin)

    response = send(
        session_as(users.austin),
        f"/clients/{client.pk}/admit/",
        {"program": str(network.austin_detox.pk)},
    )

    assert response.status_code == 302
    assert client.placements.get().program == network.austin_detox


def test_a_full_program_says_so_and_refuses_a_coordinator(session_as, network, users):
    for _ in range(2):
        placed_client(network.austin_detox, users.austin)
    client = ClientFactory(registered_site=network.austin)
    browser = session_as(users.austin)

    page = parse(browser.get(f"/clients/{client.pk}/").content)
    option = page.find("option", value=str(network.austin_detox.pk))
    assert "no room" in option.text()
    assert not page.find_all(id="admit-capacity_override_reason")  # a coordinator has none

    response = send(
        browser, f"/clients/{client.pk}/admit/", {"program": str(network.austin_detox.pk)}
    )
    assert response.status_code == 409
    assert "is full" in form_errors(response, "admit")
    assert not Episode.objects.filter(client=client).exists()


def test_a_manager_overrides_capacity_with_a_reason(session_as, network, users):
    for _ in range(2):
        placed_client(network.austin_detox, users.austin)
    client = ClientFactory(registered_site=network.austin)

    response = send(
        session_as(users.manager),
        f"/clients/{client.pk}/admit/",
        {"program": str(network.austin_detox.pk), "capacity_override_reason": "Medical urgency."},
    )

    assert response.status_code == 302
    admit = AuditEvent.objects.get(client_id=client.pk, action=AuditAction.ADMIT)
    assert admit.detail["capacity_override_reason"] == "Medical urgency."


def test_a_refusal_over_htmx_swaps_the_form_with_its_message(session_as, network, users):
    for _ in range(2):
        placed_client(network.austin_detox, users.austin)
    client = ClientFactory(registered_site=network.austin)

    response = send(
        session_as(users.austin),
        f"/clients/{client.pk}/admit/",
        {"program": str(network.austin_detox.pk)},
        htmx=True,
    )

    assert response.status_code == 409
    assert response["HX-Retarget"] == "#admit"
    assert response["HX-Reselect"] == "#admit"
    page = parse(response.content)
    assert page.find(id="admit-errors").attrs["role"] == "alert"


def test_a_success_over_htmx_swaps_the_workspace_in_place(session_as, network, users):
    client = ClientFactory(registered_site=network.austin)

    response = send(
        session_as(users.austin),
        f"/clients/{client.pk}/admit/",
        {"program": str(network.austin_iop.pk)},
        htmx=True,
    )

    assert response.status_code == 200
    assert f'"path": "/clients/{client.pk}/"' in response["HX-Location"]
    assert '"target": "#workspace"' in response["HX-Location"]


# --- transfers: request, approve, acknowledge, tick, complete ---------------------------------


def test_a_move_across_two_sites_from_request_to_arrival(session_as, network, users):
    client = placed_client(network.austin_residential, users.austin)
    austin, houston = session_as(users.austin), session_as(users.houston)

    # the sending coordinator requests the move
    response = send(
        austin,
        f"/clients/{client.pk}/transfer/",
        {"to_program": str(network.houston_residential.pk), "reason": "Closer to family."},
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get(client=client)

    # the receiving coordinator approves it from /transfers/
    page = parse(houston.get("/transfers/").content)
    assert page.find("form", id=f"approve-{transfer.pk}")
    response = send(houston, f"/transfers/{transfer.pk}/approve/", {"back": "/transfers/"})
    assert response.status_code == 302
    assert response["Location"] == "/transfers/"
    transfer.refresh_from_db()
    handoff = transfer.handoff
    assert transfer.status == TransferStatus.APPROVED

    # completing with the checklist open is refused, with the reason beside the field
    response = send(houston, f"/transfers/{transfer.pk}/complete/")
    assert response.status_code == 409
    beside = error_beside(response, f"complete-{transfer.pk}", "handoff_override_reason")
    assert MSG_OPEN_MANDATORY_ITEMS in beside

    # they acknowledge the hand-off and tick its checklist
    assert send(houston, f"/handoffs/{handoff.pk}/acknowledge/").status_code == 302
    for item in handoff.items.all():
        response = send(houston, f"/handoffs/{handoff.pk}/items/{item.pk}/tick/", {"note": "ok"})
        assert response.status_code == 302
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ACKNOWLEDGED
    assert not handoff.items.filter(completed_at__isnull=True).exists()

    # and complete the move when the client arrives
    assert send(houston, f"/transfers/{transfer.pk}/complete/").status_code == 302
    assert client.placements.get(ended_at__isnull=True).program == network.houston_residential
    actions = set(AuditEvent.objects.filter(client_id=client.pk).values_list("action", flat=True))
    assert {"transfer_request", "transfer_approve", "handoff_acknowledge"} <= actions
    assert {"handoff_item_complete", "transfer_complete"} <= actions


def test_the_sending_side_may_not_approve_and_is_told_why(session_as, network, users):
    client = placed_client(network.austin_residential, users.austin)
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.houston_residential
    )

    response = send(session_as(users.austin), f"/transfers/{transfer.pk}/approve/")

    assert response.status_code == 403
    assert MSG_NOT_YOUR_PROGRAM in form_errors(response, f"approve-{transfer.pk}")
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REQUESTED


def test_declining_needs_a_reason_beside_the_field(session_as, network, users):
    client = placed_client(network.austin_residential, users.austin)
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.houston_residential
    )
    houston = session_as(users.houston)

    response = send(houston, f"/transfers/{transfer.pk}/decline/", {"reason": " "})
    assert response.status_code == 400
    assert error_beside(response, f"decline-{transfer.pk}", "reason") == MSG_REASON_REQUIRED

    response = send(houston, f"/transfers/{transfer.pk}/decline/", {"reason": "No bed."})
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.DECLINED


def test_the_sending_side_cancels(session_as, network, users):
    client = placed_client(network.austin_residential, users.austin)
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.houston_residential
    )

    response = send(
        session_as(users.austin), f"/transfers/{transfer.pk}/cancel/", {"reason": "Plan changed."}
    )

    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED


def test_a_transfer_of_another_site_is_a_404(session_as, network, users, outsider):
    client = placed_client(network.austin_residential, users.austin)
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.austin_iop
    )

    response = send(session_as(outsider), f"/transfers/{transfer.pk}/approve/")

    assert response.status_code == 404


# --- discharge ---------------------------------------------------------------------------


def test_discharging_with_a_type(session_as, network, users):
    client = placed_client(network.austin_iop, users.austin)

    response = send(
        session_as(users.austin),
        f"/clients/{client.pk}/discharge/",
        {"discharge_type": "against_medical_advice", "notes": "Left."},
    )

    assert response.status_code == 302
    episode = client.episodes.get()
    assert episode.discharge_type == "against_medical_advice"
    assert AuditEvent.objects.filter(client_id=client.pk, action=AuditAction.DISCHARGE).exists()


def test_every_form_posts_with_a_csrf_token(network, users):
    from django.test import Client as Browser

    browser = Browser(enforce_csrf_checks=True)
    browser.force_login(users.austin)
    client = ClientFactory(registered_site=network.austin)
    page = browser.get(f"/clients/{client.pk}/")
    forms = parse(page.content).find_all("form", class_="action")
    assert forms
    for form in forms:
        assert form.find("input", name="csrfmiddlewaretoken")

    response = browser.post(f"/clients/{client.pk}/admit/", {"program": str(network.austin_iop.pk)})
    assert response.status_code == 403  # no token: refused before anything happens
    assert not Episode.objects.filter(client=client).exists()
