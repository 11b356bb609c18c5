"""/dashboard/aftercare/ through Django's test client: who sees which site,
that every figure on the page is the API's, the totals, and the cost.

The story is tests/services/test_aftercare_metrics.py's, read on its day
(Friday 10 July 2026, 11:00 in Austin). The page shows the last 365 days by
default, so C0 (28 February) is in it: Austin residential has five courses.
"""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.network.models import LevelOfCare
from services.access import Role, role_grant
from services.aftercare_metrics import METRICS_COLUMNS
from tests.factories import ProgramFactory, SiteFactory, UserFactory
from tests.pages.html import parse
from tests.services.test_aftercare_metrics import NOW, Story, at, build_story

URL = "/dashboard/aftercare/"
API = "/api/v1/aftercare/metrics/"
FIGURES = [c for c in METRICS_COLUMNS if c not in {"site", "site_name", "level", "from", "to"}]


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def story(network, users):
    return build_story(network, users)


def shown(value) -> str:
    """A figure as the page writes it: a percent with one decimal, a dash for none."""
    if value is None:
        return "—"
    return f"{value:.1f}%" if isinstance(value, float) else str(value)


def page_rows(content) -> dict[tuple[str, str], dict[str, str]]:
    """(site id, level) -> the figures of its line, from every table of the page."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for body in parse(content).find_all("tbody", data_site=True):
        for line in body.find_all("tr", data_level=True):
            key = (body.attrs["data-site"], line.attrs["data-level"])
            rows.setdefault(key, {}).update(line.figures())
    return rows


def totals(content, kind: str) -> list[dict[str, str]]:
    """The figures of the total lines of one kind ("site" or "network"), merged across tables."""
    found: dict[int, dict[str, str]] = {}
    for table in parse(content).find_all("table", class_="outcomes"):
        for n, line in enumerate(table.find_all("tr", data_total=kind)):
            found.setdefault(n, {}).update(line.figures())
    return list(found.values())


def api_rows(client, page) -> list[dict]:
    """The API's answer for the page's range: the rows its CSV link downloads, as JSON."""
    href = parse(page.content).find("a", class_="csv").attrs["href"]
    response = client.get(href.replace("format=csv", "format=json"))
    assert response.status_code == 200, response.content[:300]
    return response.json()


def as_page(rows: list[dict]) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["site"], r["level"]): {k: shown(r[k]) for k in FIGURES} for r in rows}


# --- who sees what -------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client, network):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={URL}"


def test_user_without_a_role_gets_a_polite_refusal(session_as, users):
    response = session_as(users.nobody).get(URL)

    assert response.status_code == 403
    assert b"neither on the care team of a site nor on the alumni team" in response.content


def test_the_alumni_lead_reads_every_site_with_the_apis_figures(session_as, network, users, story):
    # when the alumni coordinator opens the page (every site: side by side)
    alumni = session_as(users.alumni)
    page = alumni.get(URL)

    # then each site and level has a line whose every figure is the API's
    assert page.status_code == 200
    rows = api_rows(alumni, page)
    assert {(r["from"], r["to"]) for r in rows} == {("2025-07-11", "2026-07-10")}
    assert page_rows(page.content) == as_page(rows)
    assert len(rows) == 4
    # with the sites in groups, Austin's levels on the continuum's order
    austin = parse(page.content).find("tbody", data_site=str(network.austin.pk))
    assert [tr.attrs["data-level"] for tr in austin.find_all("tr", data_level=True)][:3] == [
        "detox",
        "residential",
        "iop",
    ]


def test_totals_add_the_numerators_and_denominators_up(session_as, network, users, story):
    page = session_as(users.alumni).get(URL)

    # Austin, all levels: detox 1/2, residential 3/4 (C0 counts in a year), IOP 1/1
    (austin,) = totals(page.content, "site")
    assert austin["courses"] == "9"
    assert (austin["followup_7d_reached"], austin["followup_7d_eligible"]) == ("5", "7")
    assert austin["followup_7d_percent"] == "71.4%"
    # the network: Houston's 1/1 more; 90-day readmission: C0, C1, C2 and C3 measured
    (network_total,) = totals(page.content, "network")
    assert network_total["courses"] == "10"
    assert network_total["followup_7d_percent"] == "75.0%"
    assert (
        network_total["readmission_90d_readmitted"],
        network_total["readmission_90d_eligible"],
    ) == ("2", "4")
    assert network_total["recovery_365d_percent"] == "—"


def test_a_site_manager_sees_their_site_only(session_as, network, users, story):
    manager = session_as(users.manager)

    page = manager.get(URL)

    assert page.status_code == 200
    assert {site for site, _ in page_rows(page.content)} == {str(network.austin.pk)}
    assert parse(page.content).find("h1").text() == "Aftercare Austin"
    assert page_rows(page.content) == as_page(api_rows(manager, page))
    # one site: no totals of sites, a total of its levels
    assert totals(page.content, "network") == []
    assert len(totals(page.content, "site")) == 1


def test_a_site_that_is_not_yours_does_not_exist(session_as, network, users, story):
    houston = session_as(users.houston)

    assert houston.get(URL, {"site": str(network.austin.pk)}).status_code == 404
    assert houston.get(URL, {"site": "not-a-site"}).status_code == 404
    page = houston.get(URL, {"site": str(network.houston.pk)})
    assert page.status_code == 200
    assert list(page_rows(page.content)) == [(str(network.houston.pk), "residential")]


def test_picking_a_site_and_a_period(session_as, network, users, story):
    alumni = session_as(users.alumni)

    page = alumni.get(URL, {"site": str(network.houston.pk), "period": "90d"})

    assert page.status_code == 200
    html = parse(page.content)
    assert html.find("option", selected=True).text() == "Houston"
    assert html.find("a", aria_current="true").text() == "90 days"
    # 12 April to 10 July: Houston's course of 15 April
    rows = api_rows(alumni, page)
    assert [(r["from"], r["to"], r["courses"]) for r in rows] == [("2026-04-12", "2026-07-10", 1)]
    assert page_rows(page.content) == as_page(rows)
    # an unknown period is the default year
    assert b"11 Jul 2025" in alumni.get(URL, {"period": "forever"}).content


def test_days_without_courses_say_so(session_as, network, users):
    page = session_as(users.manager).get(URL)

    assert page.status_code == 200
    assert b"No client left treatment in these days." in page.content
    assert parse(page.content).find(data_figure="courses").text() == "0"


def test_the_csv_link_answers_the_same_rows_as_csv(session_as, users, story):
    alumni = session_as(users.alumni)
    page = alumni.get(URL)
    href = parse(page.content).find("a", class_="csv").attrs["href"]

    response = alumni.get(href)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {(r["site"], r["level"]): {k: r[k] for k in FIGURES} for r in lines} == {
        key: {k: "" if v == "—" else v.rstrip("%") for k, v in figures.items()}
        for key, figures in page_rows(page.content).items()
    }


def test_the_nav_links_the_page(session_as, users):
    page = parse(session_as(users.alumni).get(URL).content)

    link = page.find("nav", class_="topnav").find("a", href=URL)
    assert link.attrs.get("aria-current") == "page"


# --- cost ------------------------------------------------------------------------------


def test_the_page_costs_the_same_queries_for_few_and_many_sites(session_as, network, users, story):
    alumni, manager = session_as(users.alumni), session_as(users.manager)

    def queries(client) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    before = (queries(alumni), queries(manager))
    # given five more sites in three time zones, with programs, courses and their staff
    s = Story(network, users)
    for n, zone in enumerate(["America/New_York", "America/Los_Angeles", "America/Denver"] * 2):
        site = SiteFactory(code=f"more{n}", time_zone=zone)
        role_grant(user=UserFactory(), role=Role.SITE_MANAGER, site=site)
        for code in ("detox", "iop"):
            program = ProgramFactory(site=site, level=LevelOfCare.objects.get(code=code))
            s.complete(s.discharge(program, at(4, 10 + n)), "48h", at(4, 12 + n, 12), "in_recovery")

    assert (queries(alumni), queries(manager)) == before
    assert len(page_rows(alumni.get(URL).content)) == 4 + 12
