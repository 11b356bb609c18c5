"""GET /api/v1/census/?totals=true: each site's totals and each level's across
the sites asked for, beside the program rows, in JSON and CSV."""

import csv
import io

import pytest

from services.access import Role, role_grant
from tests.api.helpers import transfer_to
from tests.factories import placed_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sites(network, users):
    """Austin: 2 in detox (full), 1 in residential with a bed reserved for a
    Houston client; Houston: that client in residential, 3 in IOP."""
    for _ in range(2):
        placed_client(network.austin_detox, users.austin)
    placed_client(network.austin_residential, users.austin)
    moving = placed_client(network.houston_residential, users.houston)
    transfer_to(
        network.austin_residential,
        client=moving,
        sender=users.houston,
        receiver=users.austin,
        status="approved",
    )
    for _ in range(3):
        placed_client(network.houston_iop, users.houston)
    role_grant(user=users.manager, role=Role.CARE_COORDINATOR, site=network.houston)
    return network


def test_totals_per_site_and_per_level_across_the_sites(api, users, two_sites):
    body = api.as_user(users.manager).get("/api/v1/census/", {"totals": "true"}).json()

    assert len(body["programs"]) == 6
    sites = {s["site_name"]: s for s in body["sites"]}
    # Austin: detox 2 + residential 2 + IOP 15 + alumni 500 places
    assert sites["Austin"]["capacity"] == 519
    assert sites["Austin"]["occupied"] == 3
    assert sites["Austin"]["reserved"] == 1
    assert sites["Austin"]["available"] == 515
    assert sites["Houston"] == {
        "site": str(two_sites.houston.pk),
        "site_name": "Houston",
        "capacity": 17,
        "occupied": 4,
        "reserved": 0,
        "available": 13,
        "occupancy_percent": 23.5,
        "over_capacity": False,
    }
    levels = {level["level"]: level for level in body["levels"]}
    assert [level["level"] for level in body["levels"]] == ["detox", "residential", "iop", "alumni"]
    assert levels["residential"]["capacity"] == 4  # Austin's 2 and Houston's 2
    assert levels["residential"]["occupied"] == 2
    assert levels["residential"]["reserved"] == 1
    assert levels["iop"]["occupied"] == 3
    assert body["all"]["occupied"] == 7


def test_a_site_asked_for_gives_its_levels_only(api, users, two_sites):
    body = (
        api.as_user(users.manager)
        .get("/api/v1/census/", {"totals": "true", "site": str(two_sites.houston.pk)})
        .json()
    )

    assert [s["site_name"] for s in body["sites"]] == ["Houston"]
    assert {level["level"]: level["capacity"] for level in body["levels"]} == {
        "residential": 2,
        "iop": 15,
    }


def test_without_totals_the_answer_is_the_rows_as_before(api, users, two_sites):
    body = api.as_user(users.manager).get("/api/v1/census/").json()

    assert isinstance(body, list) and len(body) == 6


def test_the_csv_lists_the_rows_then_the_totals(api, users, two_sites):
    response = api.as_user(users.manager).get(
        "/api/v1/census/", {"totals": "true", "format": "csv"}
    )

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["total"] for r in rows] == [""] * 6 + ["site"] * 2 + ["level"] * 4
    houston = next(r for r in rows if r["total"] == "site" and r["site_name"] == "Houston")
    assert (houston["capacity"], houston["occupied"], houston["program"]) == ("17", "4", "")
    residential = next(r for r in rows if r["total"] == "level" and r["level"] == "residential")
    assert (residential["capacity"], residential["reserved"], residential["site"]) == ("4", "1", "")
