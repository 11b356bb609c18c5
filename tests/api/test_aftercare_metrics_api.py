"""GET /api/v1/aftercare/metrics/ over HTTP: the hand-computed story of
tests/services/test_aftercare_metrics.py read as JSON and as CSV, who reads
which site, the query's errors, and the cost.

The clock is that story's: Friday 10 July 2026, 11:00 in Austin.
"""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.network.models import LevelOfCare
from services.aftercare_metrics import METRICS_COLUMNS, aftercare_metrics
from tests.api.helpers import assert_problem, error_for
from tests.factories import ProgramFactory, SiteFactory
from tests.services.test_aftercare_metrics import (
    AUSTIN_DETOX,
    AUSTIN_IOP,
    AUSTIN_RESIDENTIAL,
    FROM,
    HOUSTON_RESIDENTIAL,
    NOW,
    TO,
    Story,
    at,
    build_story,
    figures_by_group,
)

URL = "/api/v1/aftercare/metrics/"
RANGE = {"from": FROM.isoformat(), "to": TO.isoformat()}


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    """The API reads the time from django.utils.timezone.now, as the services do."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def story(network, users):
    return build_story(network, users)


def as_json(rows: list[dict]) -> list[dict]:
    """Service rows as JSON renders them (ids and days as strings)."""
    return [
        {k: str(v) if k in {"site", "from", "to"} else v for k, v in row.items()} for row in rows
    ]


def read_csv(response) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(response.content.decode()))
    return reader.fieldnames, list(reader)


# --- the figures ---------------------------------------------------------------------------


def test_the_alumni_lead_reads_the_storys_figures(api, users, story):
    # when the alumni coordinator asks for March to July
    response = api.as_user(users.alumni).get(URL, RANGE)

    # then the rows are the service's, with the figures computed by hand
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    rows = response.json()
    assert rows == as_json(
        aftercare_metrics(user=users.alumni, date_from=FROM, date_to=TO, now=NOW)
    )
    assert figures_by_group(rows) == {
        ("Austin", "detox"): AUSTIN_DETOX,
        ("Austin", "residential"): AUSTIN_RESIDENTIAL,
        ("Austin", "iop"): AUSTIN_IOP,
        ("Houston", "residential"): HOUSTON_RESIDENTIAL,
    }
    assert [list(row) for row in rows] == [list(METRICS_COLUMNS)] * 4


@pytest.mark.parametrize("ask", [{"format": "csv"}, {"HTTP_ACCEPT": "text/csv"}], ids=str)
def test_the_csv_is_the_json_row_for_row(api, users, story, ask):
    client = api.as_user(users.alumni)
    rows = client.get(URL, RANGE).json()

    params = {**RANGE, **{k: v for k, v in ask.items() if k == "format"}}
    headers = {k: v for k, v in ask.items() if k != "format"}
    response = client.get(URL, params, **headers)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header, lines = read_csv(response)
    assert header == list(METRICS_COLUMNS)
    # every figure flat in its column; a null percent is an empty cell
    assert lines == [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


def test_an_empty_answer_is_the_header_alone_in_csv(api, users, story):
    response = api.as_user(users.alumni).get(
        URL, {"from": "2025-01-01", "to": "2025-06-30", "format": "csv"}
    )

    assert response.status_code == 200
    assert response.content.decode() == ",".join(METRICS_COLUMNS) + "\n"


def test_the_range_defaults_to_the_year_up_to_today_at_the_callers_sites(api, users, story):
    # when no days are given (today is 10 July in Austin and Houston)
    rows = api.as_user(users.alumni).get(URL).json()

    # then 365 days up to today: 11 July 2025 to 10 July 2026, C0 of 28 February included
    assert {(row["from"], row["to"]) for row in rows} == {("2025-07-11", "2026-07-10")}
    assert figures_by_group(rows)[("Austin", "residential")]["courses"] == 5
    # and `from` alone runs to today
    only_from = api.as_user(users.alumni).get(URL, {"from": "2026-07-01"}).json()
    assert [(r["level"], r["from"], r["to"], r["courses"]) for r in only_from] == [
        ("detox", "2026-07-01", "2026-07-10", 1)
    ]


# --- who reads what ------------------------------------------------------------------------


def test_anonymous_caller_must_authenticate(api, story):
    assert_problem(api.get(URL), 401, code="not_authenticated")


def test_staff_read_their_sites_and_alumni_coordinators_and_admins_every_site(
    api, network, users, story
):
    def groups(user, **params):
        response = api.as_user(user).get(URL, {**RANGE, **params})
        assert response.status_code == 200, response.content[:500]
        return sorted(figures_by_group(response.json()))

    everything = [
        ("Austin", "detox"),
        ("Austin", "iop"),
        ("Austin", "residential"),
        ("Houston", "residential"),
    ]
    assert groups(users.alumni) == everything
    assert groups(users.admin) == everything
    assert groups(users.manager) == everything[:3]
    assert groups(users.houston) == [("Houston", "residential")]
    assert groups(users.nobody) == []
    # a site and a level narrow the rows
    assert groups(users.alumni, site=str(network.houston.pk)) == [("Houston", "residential")]
    assert groups(users.admin, level="detox") == [("Austin", "detox")]


def test_a_site_that_is_not_yours_is_not_found(api, network, users, story, outsider):
    houston = api.as_user(users.houston)

    assert_problem(houston.get(URL, {"site": str(network.austin.pk)}), 404, code="not_found")
    assert_problem(houston.get(URL, {"site": "6f1c8a9e-2b7d-4c43-9a57-0e5a2f3d9b10"}), 404)
    # even when CSV was asked for, the error is a problem document
    assert_problem(houston.get(URL, {"site": str(network.austin.pk), "format": "csv"}), 404)
    # and a user with no role has no site at all
    assert_problem(api.as_user(users.nobody).get(URL, {"site": str(network.houston.pk)}), 404)


# --- the query's errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-07-10", "to": "2026-03-01"}, "to"),
        ({"from": "10/07/2026"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2025-01-01", "to": "2026-07-10"}, "from"),
        ({"from": "2026-08-01"}, "from"),
        ({"level": "rehab"}, "level"),
        ({"site": "austin"}, "site"),
    ],
    ids=[
        "from-after-to",
        "bad-from",
        "bad-to",
        "over-366-days",
        "from-after-today",
        "level",
        "site",
    ],
)
def test_a_bad_query_is_a_400_naming_the_field(api, users, params, field):
    response = api.as_user(users.alumni).get(URL, {**params, "format": "csv"})

    body = assert_problem(response, 400, fields={field})
    assert error_for(body, field)["message"]


# --- cost ----------------------------------------------------------------------------------


def test_the_answer_costs_the_same_queries_whatever_the_network(api, network, users, story):
    def queries(user) -> int:
        client = api.as_user(user)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL, RANGE)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    before = {user.username: queries(user) for user in (users.alumni, users.manager)}
    # given five more sites in three time zones, with programs and courses
    s = Story(network, users)
    for n, zone in enumerate(["America/New_York", "America/Los_Angeles", "America/Denver"] * 2):
        site = SiteFactory(code=f"more{n}", time_zone=zone)
        for code in ("detox", "iop"):
            program = ProgramFactory(site=site, level=LevelOfCare.objects.get(code=code))
            s.complete(s.discharge(program, at(4, 10 + n)), "48h", at(4, 12 + n, 12), "in_recovery")

    after = {user.username: queries(user) for user in (users.alumni, users.manager)}

    assert after == before
    # the token, the caller's roles (one), the time zones of their sites, and
    # the service's three (the zones, the follow-ups, the courses)
    assert before == {"alumni": 6, "manager.austin": 6}
