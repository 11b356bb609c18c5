"""/dashboard/census/ through Django's test client: who sees which site, what
each panel says, and that its numbers are the API's.

The Austin site manager opens the census dashboard and sees, for each level
of care at Austin, how many clients are there against capacity, the beds
reserved by incoming transfers, the last 30 days, the day's movement and the
length of stay; a user with several sites sees them side by side.
"""

import csv
import datetime as dt
import io
from collections import defaultdict
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.audit.models import AuditAction, AuditEvent
from backend.network.models import LevelOfCare
from services.access import Role, role_grant
from tests.api.helpers import transfer_to
from tests.factories import ProgramFactory, SiteFactory, UserFactory, placed_client
from tests.pages.html import parse

URL = "/dashboard/census/"
PASSWORD = "pw-for-tests-only"  # tests/factories.py UserFactory
FIGURES = ("occupied", "capacity", "reserved", "available")


def level(code: str) -> LevelOfCare:
    return LevelOfCare.objects.get(code=code)


def tiles(content) -> dict[str, dict]:
    """The tiles of a site's page by level: their colour class and their figures."""
    return {
        tile.attrs["data-level"]: {"classes": tile.classes, **tile.figures()}
        for tile in parse(content).find_all("article", data_level=True)
    }


def api_by_level(client, site) -> dict[str, dict]:
    """GET /api/v1/census/?site= added up per level, as the tiles show it."""
    response = client.get("/api/v1/census/", {"site": str(site.pk)})
    assert response.status_code == 200
    totals = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for row in response.json():
        for figure in totals[row["level"]]:
            totals[row["level"]][figure] += row[figure]
    return {code: {k: str(v) for k, v in figures.items()} for code, figures in totals.items()}


# --- who sees what -------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client, network):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={URL}"


def test_austin_manager_sees_austin_levels_with_the_apis_numbers(session_as, network, users):
    # given clients at Austin detox and residential, and one approved transfer into residential
    moving = placed_client(network.austin_detox, users.manager)
    placed_client(network.austin_residential, users.manager)
    transfer_to(
        network.austin_residential,
        client=moving,
        sender=users.manager,
        receiver=users.manager,
        status="approved",
    )
    manager = session_as(users.manager)

    # when the manager opens the dashboard (one site: its page at once)
    response = manager.get(URL)

    # then each level of Austin has a tile whose numbers are the API's
    assert response.status_code == 200
    shown = tiles(response.content)
    assert list(shown) == ["detox", "residential", "iop", "alumni"]
    assert {code: {k: t[k] for k in FIGURES} for code, t in shown.items()} == api_by_level(
        manager, network.austin
    )
    assert shown["residential"]["reserved"] == "1"
    assert shown["detox"]["occupancy_percent"] == "50.0%"


def test_a_site_that_is_not_yours_does_not_exist(session_as, network, users):
    manager = session_as(users.manager)

    assert manager.get(URL, {"site": str(network.houston.pk)}).status_code == 404
    assert manager.get(URL, {"site": "not-a-site"}).status_code == 404
    assert manager.get(URL, {"site": str(network.austin.pk)}).status_code == 200


def test_user_without_a_role_gets_a_polite_refusal(session_as, users):
    response = session_as(users.nobody).get(URL)

    assert response.status_code == 403
    assert b"not on the care team of any site" in response.content


def test_a_regional_director_sees_their_sites_side_by_side(session_as, network, users):
    # given a manager of Austin who also coordinates Houston, with a client at Houston
    role_grant(user=users.manager, role=Role.CARE_COORDINATOR, site=network.houston)
    placed_client(network.houston_residential, users.houston)
    director = session_as(users.manager)

    # when they open the dashboard
    page = parse(director.get(URL).content)

    # then a column per site, a row per level, occupied against capacity in each cell
    header = [th.text() for th in page.find("table", class_="data side-by-side").find_all("th")]
    assert header[:3] == ["Level of care", "Austin", "Houston"]
    residential = {
        cell.attrs["data-site"]: cell.figures()
        for cell in page.find_all("td", data_level="residential")
    }
    assert residential == {
        str(network.austin.pk): {"occupied": "0", "capacity": "2"},
        str(network.houston.pk): {"occupied": "1", "capacity": "2"},
    }
    # Detox is offered at Austin only: Houston's cell says so.
    detox = page.find("tr", data_level="detox")
    assert [td.text() for td in detox.find_all("td")][1] == "—"
    # and the picker offers all their sites, and each one
    options = [o.text() for o in page.find("select", id="site-picker").find_all("option")]
    assert options == ["All my sites", "Austin", "Houston"]


def test_picking_a_site_shows_that_sites_tiles(session_as, network, users):
    role_grant(user=users.manager, role=Role.CARE_COORDINATOR, site=network.houston)
    director = session_as(users.manager)

    shown = tiles(director.get(URL, {"site": str(network.houston.pk)}).content)

    assert list(shown) == ["residential", "iop"]


# --- colours ---------------------------------------------------------------------------


@pytest.fixture
def dallas(db):
    """Dallas, hand-built for the colour thresholds: every program has 10 places."""
    site = SiteFactory(code="dallas", name="Dallas")
    manager = UserFactory(username="manager.dallas")
    role_grant(user=manager, role=Role.SITE_MANAGER, site=site)
    programs = {
        code: ProgramFactory(site=site, level=level(code), capacity=10)
        for code in ("detox", "residential", "php", "iop", "sober_living")
    }

    def fill(code, count):
        return [placed_client(programs[code], manager) for _ in range(count)]

    fill("residential", 7)  # 80% with the client below
    fill("detox", 9)  # 90%
    fill("iop", 10)  # 100%, full but not over
    fill("php", 9)
    moving = placed_client(programs["residential"], manager)
    transfer_to(programs["php"], client=moving, sender=manager, receiver=manager, status="approved")
    fill("php", 1)  # 10 occupied and 1 reserved: over capacity
    fill("sober_living", 11)  # 110%: a manager's override
    return SimpleNamespace(site=site, manager=manager)


def test_tiles_turn_amber_at_90_percent_and_red_over_capacity(session_as, dallas):
    shown = tiles(session_as(dallas.manager).get(URL).content)

    def colour(code):
        return shown[code]["classes"] & {"ok", "warn", "over"}

    assert colour("residential") == {"ok"}
    assert colour("detox") == {"warn"}
    assert colour("iop") == {"warn"}
    assert colour("php") == {"over"}
    assert colour("sober_living") == {"over"}
    assert shown["sober_living"]["occupancy_percent"] == "110.0%"
    assert shown["php"]["available"] == "-1"


def test_side_by_side_cells_take_the_same_colours(session_as, network, users, dallas):
    role_grant(user=dallas.manager, role=Role.CARE_COORDINATOR, site=network.houston)

    page = parse(session_as(dallas.manager).get(URL).content)

    cells = {
        c.attrs["data-level"]: c.classes for c in page.find_all("td", data_site=str(dallas.site.pk))
    }
    assert "warn" in cells["detox"]
    assert "over" in cells["php"]
    assert "ok" in cells["residential"]


# --- the other panels ------------------------------------------------------------------


def test_movement_counts_today_or_the_last_seven_days(session_as, network, users):
    # given an admission to Austin detox three days ago
    placed_client(
        network.austin_detox, users.manager, started_at=timezone.now() - dt.timedelta(days=3)
    )
    manager = session_as(users.manager)

    def admissions(period):
        page = parse(manager.get(URL, {"period": period}).content)
        table = page.find("table", class_="data movement")
        row = next(tr for tr in table.find_all("tr") if tr.text().startswith("Detox"))
        return row.figures()["admissions"]

    # then today's movement has none, the last seven days have it
    assert admissions("today") == "0"
    assert admissions("7d") == "1"


def test_the_trend_draws_a_line_per_level_with_its_figures_in_a_table(session_as, network, users):
    placed_client(
        network.austin_detox, users.manager, started_at=timezone.now() - dt.timedelta(days=5)
    )

    page = parse(session_as(users.manager).get(URL).content)

    chart = page.find("figure", data_level="detox")
    assert chart.find("polyline", class_="occupied").attrs["points"]
    assert "capacity 2 beds" in chart.find("svg").attrs["aria-label"]
    table = page.find("details", class_="figures-table").find("table")
    days = table.find("tbody").find_all("tr")
    assert len(days) == 30
    # The last day (yesterday) had the client: 1 of 2 in detox.
    assert days[-1].find_all("td")[0].text() == "1 / 2"


def test_length_of_stay_per_level(session_as, network, users):
    placed_client(
        network.austin_residential, users.manager, started_at=timezone.now() - dt.timedelta(days=4)
    )

    page = parse(session_as(users.manager).get(URL).content)

    row = page.find("table", class_="data los").find("tr", data_level="residential")
    cells = [td.text() for td in row.find_all("td")]
    assert cells[0] == "0"  # none completed
    assert cells[3] == "1"  # one open
    assert cells[4] == "4.0"  # four days so far


def test_incoming_transfers_are_listed_and_their_reading_audited(session_as, network, users):
    # given a transfer into Austin residential, and one into Houston the manager cannot see
    coming = placed_client(network.austin_detox, users.manager)
    transfer = transfer_to(
        network.austin_residential, client=coming, sender=users.manager, receiver=users.manager
    )
    elsewhere = placed_client(network.houston_iop, users.houston)
    transfer_to(
        network.houston_residential, client=elsewhere, sender=users.houston, receiver=users.houston
    )
    before = set(AuditEvent.objects.values_list("pk", flat=True))

    # when the Austin manager opens the dashboard
    page = parse(session_as(users.manager).get(URL).content)

    # then the Austin transfer is listed with the client's MRN, and only it
    rows = page.find("table", class_="data incoming").find("tbody").find_all("tr")
    assert [row.attrs["data-transfer"] for row in rows] == [str(transfer.pk)]
    assert coming.mrn in rows[0].text()
    # and that read of the client's record is in the audit trail
    audit = list(AuditEvent.objects.exclude(pk__in=before))
    assert [(a.action, a.object_type, a.object_id, a.client_id, a.actor) for a in audit] == [
        (AuditAction.LIST, "transfer", transfer.pk, coming.pk, users.manager)
    ]
    assert audit[0].detail == {"path": URL}


def test_every_csv_link_answers_csv_to_the_signed_in_user(session_as, network, users):
    role_grant(user=users.manager, role=Role.CARE_COORDINATOR, site=network.houston)
    manager = session_as(users.manager)

    for query in ({}, {"site": str(network.austin.pk)}):
        page = parse(manager.get(URL, query).content)
        links = [a.attrs["href"] for a in page.find_all("a", class_="csv")]
        assert links
        for link in links:
            response = manager.get(link)
            assert response.status_code == 200, link
            assert response["Content-Type"].startswith("text/csv"), link


EXTRA_ZONES = ("Asia/Tokyo", "Europe/London", "America/New_York", "Australia/Sydney")


@pytest.mark.parametrize("period", ["today", "7d"])
def test_the_page_costs_the_same_queries_for_few_and_many_programs(
    session_as, network, users, period
):
    manager = session_as(users.manager)
    admin = session_as(users.admin)

    def queries(client, query=None):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL, {"period": period, **(query or {})}).status_code == 200
        return len(ctx.captured_queries)

    queries(manager)  # the first request of a process also reads the content types once
    # (every site of the network fixture keeps Central time: one time zone)
    austin, everything = queries(manager), queries(admin)
    # given more programs at Austin, more sites in four more time zones, and clients in them
    for code in ("intervention", "php", "sober_living"):
        program = ProgramFactory(site=network.austin, level=level(code), capacity=5)
        placed_client(program, users.manager)
    for n, zone in enumerate(EXTRA_ZONES):
        site = SiteFactory(code=f"extra{n}", time_zone=zone)
        for code in ("residential", "iop"):
            placed_client(ProgramFactory(site=site, level=level(code)), users.admin)

    assert queries(manager) == austin
    assert queries(admin) == everything
    assert queries(admin, {"site": str(network.austin.pk)}) == queries(
        admin, {"site": str(site.pk)}
    )


def test_the_movement_csv_of_all_sites_says_what_the_page_says_in_two_time_zones(
    session_as, network, users, monkeypatch
):
    # given a fixed instant, 17:00 UTC: 11:00 or 12:00 in Austin, already 02:00 the next
    # day in Tokyo
    real = timezone.now()
    now = real.replace(hour=17, minute=0, second=0, microsecond=0)
    if now > real:
        now -= dt.timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: now)
    austin_today = now.astimezone(ZoneInfo("America/Chicago")).date()
    tokyo_today = now.astimezone(ZoneInfo("Asia/Tokyo")).date()
    assert tokyo_today == austin_today + dt.timedelta(days=1)
    # and a manager of Austin who also coordinates Tokyo, where a client was admitted at
    # 00:30 today Tokyo time (a date that is still tomorrow in Austin), and one at 23:00
    # the day before yesterday, Tokyo time
    tokyo = SiteFactory(code="tokyo", name="Tokyo", time_zone="Asia/Tokyo")
    role_grant(user=users.manager, role=Role.CARE_COORDINATOR, site=tokyo)
    tokyo_detox = ProgramFactory(site=tokyo, level=level("detox"), capacity=5)
    midnight = dt.datetime.combine(tokyo_today, dt.time(0), tzinfo=ZoneInfo("Asia/Tokyo"))
    placed_client(tokyo_detox, users.manager, started_at=midnight + dt.timedelta(minutes=30))
    placed_client(tokyo_detox, users.manager, started_at=midnight - dt.timedelta(hours=25))
    # and an admission at Austin this morning
    placed_client(network.austin_detox, users.manager, started_at=now - dt.timedelta(hours=1))
    manager = session_as(users.manager)

    for period, tokyo_admissions in (("today", "1"), ("7d", "2")):
        # when the manager opens all their sites
        page = parse(manager.get(URL, {"period": period}).content)
        table = page.find("table", class_="data movement")
        shown = {tr.find("th").text(): tr.figures() for tr in table.find("tbody").find_all("tr")}
        # then each site counts its own days
        assert shown["Tokyo"]["admissions"] == tokyo_admissions
        assert shown["Austin"]["admissions"] == "1"
        note = page.find("p", class_="period-note").text()
        assert note.startswith("Today at each site" if period == "today" else "The last 7 days")
        assert "(Tokyo)" in note and "(Austin)" in note
        # and the movement CSV link answers the same figures, site by site
        link = next(
            a.attrs["href"]
            for a in page.find_all("a", class_="csv")
            if "movement" in a.attrs["href"]
        )
        assert f"days={1 if period == 'today' else 7}" in link
        response = manager.get(link)
        assert response.status_code == 200
        from_csv = defaultdict(lambda: defaultdict(int))
        spans = {}
        for row in csv.DictReader(io.StringIO(response.content.decode())):
            spans[row["site_name"]] = (row["from"], row["to"])
            for figure in shown["Total"]:
                from_csv[row["site_name"]][figure] += int(row[figure])
        for site_name in ("Austin", "Tokyo"):
            assert {k: str(v) for k, v in from_csv[site_name].items()} == shown[site_name]
        days = 1 if period == "today" else 7
        assert spans["Tokyo"] == (
            str(tokyo_today - dt.timedelta(days=days - 1)),
            str(tokyo_today),
        )
        assert spans["Austin"][1] == str(austin_today)


# --- signing in ------------------------------------------------------------------------


def test_staff_sign_in_on_the_sites_own_form_and_reach_the_census(client, users):
    # given a care coordinator, not a Django staff user
    assert not users.austin.is_staff

    response = client.post(
        "/accounts/login/", {"username": "coordinator.austin", "password": PASSWORD}
    )

    # then `/` takes them on to their workspace (tests/pages/test_workspace_board.py)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get(URL).status_code == 200


def test_a_wrong_password_is_refused_politely(client, users):
    response = client.post("/accounts/login/", {"username": "coordinator.austin", "password": "x"})

    assert response.status_code == 200
    assert b"did not match" in response.content


def test_signing_out_returns_to_the_sign_in_page(session_as, users):
    coordinator = session_as(users.austin)

    response = coordinator.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert coordinator.get(URL).status_code == 302
