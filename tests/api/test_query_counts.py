"""Lists cost a constant number of queries, however long they are.

Each test reads an endpoint with a few rows, adds many more, and reads it
again: the two counts must be equal (no query per row). Pages of 5 and of
50 must cost the same too. The data is built through the services, as the
product builds it.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.handoffs.models import ChecklistTemplate
from backend.network.models import LevelOfCare
from services import episodes, transfers
from tests.api.helpers import transfer_to
from tests.factories import (
    ProgramFactory,
    SiteFactory,
    UserFactory,
    finish_checklist,
    placed_client,
)

FEW, MANY = 2, 20


def queries_for(client, url, params=None) -> tuple[int, dict]:
    """The number of SQL queries one GET costs, and its JSON."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(captured), response.json()


def _rows(body) -> int:
    return len(body["results"]) if isinstance(body, dict) and "results" in body else len(body)


# --- building n rows of each kind -------------------------------------------


def _add_levels(n: int) -> None:
    """Levels are seeded; keep `n` of the seven (the unused ones), or add extras."""
    existing = LevelOfCare.objects.count()
    if n < existing:
        keep = list(LevelOfCare.objects.order_by("position").values_list("code", flat=True)[:n])
        ChecklistTemplate.objects.all().delete()  # they hold on to levels
        LevelOfCare.objects.exclude(code__in=keep).delete()
    for i in range(existing, n):
        LevelOfCare.objects.create(
            code=f"extra{i}",
            name=f"Extra {i}",
            position=100 + i,
            intensity=1,
            asam_reference="-",
            capacity_unit="slots",
        )


def _add_sites(n: int, network, users) -> None:
    for _ in range(n):
        SiteFactory()


def _add_programs(n: int, network, users) -> None:
    levels = list(LevelOfCare.objects.all())
    for i in range(n):
        if i % len(levels) == 0:
            site = SiteFactory()  # one program per level at each new site
        ProgramFactory(site=site, level=levels[i % len(levels)], capacity=5)


def _add_austin_stories(n: int, network, users) -> None:
    """n Austin clients, each with a closed episode (IOP), an open one (alumni),
    and a transfer out of alumni (to Austin or to Houston, in varied states)."""
    now = timezone.now()
    destinations = [network.austin_residential, network.houston_iop, network.houston_residential]
    states = ["requested", "cancelled", "declined"]
    for i in range(n):
        client = placed_client(
            network.austin_iop, users.austin, started_at=now - dt.timedelta(days=30)
        )
        episodes.episode_discharge(
            actor=users.austin,
            episode=client.episodes.get(),
            discharge_type="completed",
            discharged_at=now - dt.timedelta(days=20),
        )
        episodes.episode_admit(
            actor=users.austin,
            client=client,
            program=network.austin_alumni,
            admitted_at=now - dt.timedelta(days=10),
        )
        transfer_to(
            destinations[i % 3],
            client=client,
            sender=users.austin,
            receiver=users.admin,
            status=states[i % 3],
        )


LIST_BUILDERS = {
    "/api/v1/sites/": _add_sites,
    "/api/v1/programs/": _add_programs,
    "/api/v1/clients/": _add_austin_stories,
    "/api/v1/episodes/": _add_austin_stories,
    "/api/v1/placements/": _add_austin_stories,
    "/api/v1/transfers/": _add_austin_stories,
}


@pytest.mark.parametrize("url", LIST_BUILDERS)
def test_a_list_costs_the_same_queries_for_2_rows_as_for_20(api, network, users, url):
    # given an Austin coordinator and a few rows
    build = LIST_BUILDERS[url]
    austin = api.as_user(users.austin)
    build(FEW, network, users)
    few, few_body = queries_for(austin, url)

    # when many more rows are added
    build(MANY - FEW, network, users)
    many, many_body = queries_for(austin, url)

    # then the list grew and its cost did not
    assert many_body["count"] >= few_body["count"] + MANY - FEW
    assert many == few


@pytest.mark.parametrize("url", LIST_BUILDERS)
def test_a_page_of_5_costs_the_same_queries_as_a_page_of_50(api, network, users, url):
    # given many rows
    LIST_BUILDERS[url](MANY, network, users)
    austin = api.as_user(users.austin)

    # when pages of 5 and of 50 are read
    small, small_body = queries_for(austin, url, {"page_size": 5})
    large, large_body = queries_for(austin, url, {"page_size": 50})

    # then the page sizes differ and the costs do not
    assert (_rows(small_body), _rows(large_body)) == (5, min(50, large_body["count"]))
    assert _rows(large_body) > 5
    assert small == large


def test_levels_of_care_cost_the_same_queries_for_2_as_for_20(api, db):
    # given a signed-in user and two levels of care
    user = UserFactory(username="reader")
    reader = api.as_user(user)
    _add_levels(FEW)
    few, few_body = queries_for(reader, "/api/v1/levels-of-care/")

    # when there are twenty
    _add_levels(MANY)
    many, many_body = queries_for(reader, "/api/v1/levels-of-care/")

    # then
    assert (few_body["count"], many_body["count"]) == (FEW, MANY)
    assert many == few


def _journey_of(network, users, moves: int):
    """A client moved `moves` times between Austin IOP and Houston IOP through
    completed transfers, after an earlier episode that ended in discharge."""
    start = timezone.now() - dt.timedelta(days=20)
    client = placed_client(network.austin_iop, users.admin, started_at=start - dt.timedelta(days=5))
    episodes.episode_discharge(
        actor=users.admin,
        episode=client.episodes.get(),
        discharge_type="completed",
        discharged_at=start - dt.timedelta(days=1),
    )
    episodes.episode_admit(
        actor=users.admin, client=client, program=network.austin_iop, admitted_at=start
    )
    programs = [network.houston_iop, network.austin_iop]
    for move in range(moves):
        # Requested and approved half an hour before each arrival.
        asked = start + dt.timedelta(hours=move, minutes=30)
        transfer = transfers.transfer_request(
            actor=users.admin, client=client, to_program=programs[move % 2], now=asked
        )
        transfers.transfer_approve(actor=users.admin, transfer=transfer, now=asked)
        finish_checklist(transfer, users.admin, now=asked)
        transfers.transfer_complete(
            actor=users.admin, transfer=transfer, arrived_at=start + dt.timedelta(hours=move + 1)
        )
    return client


def test_a_journey_costs_the_same_queries_for_2_stays_as_for_20(api, network, users):
    # given a client with a short journey and one with a long one
    short = _journey_of(network, users, moves=FEW - 1)
    long = _journey_of(network, users, moves=MANY - 1)
    admin = api.as_user(users.admin)

    # when each journey is read
    few, few_body = queries_for(admin, f"/api/v1/clients/{short.pk}/journey/")
    many, many_body = queries_for(admin, f"/api/v1/clients/{long.pk}/journey/")

    # then the long one lists every stay and costs no more
    assert (len(few_body["placements"]), len(many_body["placements"])) == (FEW + 1, MANY + 1)
    assert len(many_body["transfers"]) == MANY - 1
    assert many == few


@pytest.mark.parametrize("url", ["/api/v1/transfers/", "/api/v1/placements/", "/api/v1/clients/"])
def test_pages_read_in_two_steps_keep_the_lists_order_and_rows(api, network, users, url):
    # given seven stories and the whole list on one page
    _add_austin_stories(7, network, users)
    austin = api.as_user(users.austin)
    whole = austin.get(url, {"page_size": 200}).json()

    # when it is read three rows at a time
    pages = [austin.get(url, {"page_size": 3, "page": n}).json() for n in range(1, 4)]

    # then the pages are the list cut in order, each row as the whole list renders it
    assert whole["count"] >= 7
    shown = [row for page in pages for row in page["results"]]
    assert shown == whole["results"][:9]
    assert [page["count"] for page in pages] == [whole["count"]] * 3
