"""GET /api/v1/census/daily/, /census/movement/ and /census/length-of-stay/: the HTTP layer.

What the services compute is checked against hand-computed fixtures elsewhere;
here: who sees which rows, JSON and CSV saying the same thing, problem
documents naming the bad field, the default ranges, stored snapshots being
what the daily census answers, and a query count that does not grow with the
network (nor, for stored days, with the range).

The clock is fixed at NOW, 03:00 UTC on Saturday 21 November 2026: still Friday
20 November, 21:00, at the Central-time sites, so a site-local day and a UTC
day differ and a mix-up shows.
"""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.census.models import CensusSnapshot
from backend.network.models import LevelOfCare
from services import census, episodes, transfers
from tests.api.helpers import assert_problem
from tests.factories import (
    ClientFactory,
    ProgramFactory,
    SiteFactory,
    finish_checklist,
    placed_client,
)

DAILY = "/api/v1/census/daily/"
MOVEMENT = "/api/v1/census/movement/"
STAY = "/api/v1/census/length-of-stay/"
ENDPOINTS = [DAILY, MOVEMENT, STAY]

NOW = dt.datetime(2026, 11, 21, 3, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 20)  # at the sites (America/Chicago), at NOW
YESTERDAY = TODAY - dt.timedelta(days=1)
UNKNOWN_SITE = "5d0c9a4e-0000-4000-8000-000000000000"


def utc(day: int, hour: int = 16) -> dt.datetime:
    """An instant in November 2026 (16:00 UTC is 10:00 in Austin and Houston)."""
    return dt.datetime(2026, 11, day, hour, tzinfo=dt.UTC)


def days(first: dt.date, last: dt.date) -> list[str]:
    return [str(first + dt.timedelta(days=n)) for n in range((last - first).days + 1)]


@pytest.fixture
def clock(monkeypatch):
    """Every reader of django.utils.timezone.now (views, services) sees NOW."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def story(clock, network, users):
    """Made through the services, in order of time (instants in UTC):
    - A enters Austin detox on 10 Nov 15:00; a step-down to Austin residential is
      requested and approved on 17 Nov, and A arrives there on 18 Nov 16:00;
    - H enters Houston residential on 12 Nov;
    - B enters Austin detox on 15 Nov, discharged (completed) on 19 Nov;
    - C enters Austin detox on 20 Nov 16:00: today at the sites, yesterday in UTC.
    """

    def admit(program, actor, at):
        client = ClientFactory(registered_site=program.site)
        episodes.episode_admit(actor=actor, client=client, program=program, admitted_at=at, now=at)
        return client

    a = admit(network.austin_detox, users.austin, utc(10, 15))
    admit(network.houston_residential, users.houston, utc(12))
    b = admit(network.austin_detox, users.austin, utc(15))
    move = transfers.transfer_request(
        actor=users.austin, client=a, to_program=network.austin_residential, now=utc(17)
    )
    transfers.transfer_approve(actor=users.austin, transfer=move, now=utc(17))
    finish_checklist(move, users.austin, now=utc(17))
    transfers.transfer_complete(actor=users.austin, transfer=move, arrived_at=utc(18), now=utc(18))
    episodes.episode_discharge(
        actor=users.austin,
        episode=b.episodes.get(),
        discharge_type="completed",
        discharged_at=utc(19),
        now=utc(19),
    )
    admit(network.austin_detox, users.austin, utc(20))


def get(api, user, endpoint, **params):
    return api.as_user(user).get(endpoint, params)


def row_of(rows, program, **match):
    found = [
        r
        for r in rows
        if r["program"] == str(program.pk) and all(r[k] == v for k, v in match.items())
    ]
    assert len(found) == 1, (program, match, rows)
    return found[0]


# --- 200 JSON, and only your sites -------------------------------------------------


def test_daily_lists_the_midnight_census_of_each_ended_day(api, network, users, story):
    response = get(api, users.austin, DAILY, **{"from": "2026-11-16", "to": "2026-11-20"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    rows = response.json()
    assert {r["site"] for r in rows} == {str(network.austin.pk)}
    # 20 November has not ended at the sites: only 16..19, for the four Austin programs
    assert [r["day"] for r in rows] == [
        d for d in days(TODAY - dt.timedelta(4), YESTERDAY) for _ in range(4)
    ]
    detox = [(r["occupied"], r["reserved"]) for r in rows if r["level"] == "detox"]
    assert detox == [(2, 0), (2, 0), (1, 0), (0, 0)]  # A and B; B (A left); nobody
    residential = [
        (r["occupied"], r["reserved"])
        for r in rows
        if r["program"] == str(network.austin_residential.pk)
    ]
    assert residential == [(0, 0), (0, 1), (1, 0), (1, 0)]  # A's bed held, then A
    sample = row_of(rows, network.austin_detox, day="2026-11-17")
    assert sample == {
        "day": "2026-11-17",
        "program": str(network.austin_detox.pk),
        "program_name": network.austin_detox.name,
        "site": str(network.austin.pk),
        "site_name": "Austin",
        "level": "detox",
        "capacity_unit": network.austin_detox.level.capacity_unit,
        "capacity": 2,
        "occupied": 2,
        "reserved": 0,
        "available": 0,
        "occupancy_percent": 100.0,
        "over_capacity": False,
        "stored": False,
    }
    # today alone: its midnight has not passed at the sites, so no row yet
    today = get(api, users.austin, DAILY, **{"from": str(TODAY), "to": str(TODAY)})
    assert (today.status_code, today.json()) == (200, [])


def test_movement_counts_what_moved_in_the_range(api, network, users, story):
    response = get(api, users.austin, MOVEMENT, **{"from": "2026-11-10", "to": "2026-11-20"})
    assert response.status_code == 200
    rows = response.json()
    assert {r["site"] for r in rows} == {str(network.austin.pk)}
    detox = row_of(rows, network.austin_detox)
    assert (detox["from"], detox["to"]) == ("2026-11-10", "2026-11-20")
    assert {
        k: detox[k]
        for k in (
            "admissions",
            "discharges",
            "discharges_completed",
            "transfers_in",
            "transfers_out",
            "step_downs",
            "step_ups",
            "lateral",
            "site_changes",
        )
    } == {
        "admissions": 3,
        "discharges": 1,
        "discharges_completed": 1,
        "transfers_in": 0,
        "transfers_out": 1,
        "step_downs": 1,
        "step_ups": 0,
        "lateral": 0,
        "site_changes": 0,
    }
    residential = row_of(rows, network.austin_residential)
    assert (residential["admissions"], residential["transfers_in"]) == (0, 1)


def test_length_of_stay_per_program_and_per_level(api, network, users, story):
    params = {"from": "2026-11-10", "to": "2026-11-20"}
    response = get(api, users.austin, STAY, **params)
    assert response.status_code == 200
    rows = response.json()
    assert {r["site"] for r in rows} == {str(network.austin.pk)}
    detox = row_of(rows, network.austin_detox)
    # completed: A 8.04 days, B 4 days; open: C for 11 hours
    assert (detox["completed_count"], detox["completed_avg_days"]) == (2, 6.0)
    assert (detox["completed_median_days"], detox["open_count"]) == (6.0, 1)
    assert (detox["open_avg_days"], detox["open_median_days"]) == (0.5, 0.5)

    by_level = get(api, users.austin, STAY, by="level", **params)
    assert by_level.status_code == 200
    levels = by_level.json()
    assert sorted(r["level"] for r in levels) == ["alumni", "detox", "iop", "residential"]
    assert {(r["program"], r["program_name"]) for r in levels} == {(None, "")}
    detox_level = next(r for r in levels if r["level"] == "detox")
    assert detox_level["completed_count"] == 2


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_houston_never_sees_austin(api, network, users, story, endpoint):
    params = {"from": "2026-11-10", "to": "2026-11-20"}
    response = get(api, users.houston, endpoint, **params)
    assert response.status_code == 200
    rows = response.json()
    assert rows
    assert {r["site"] for r in rows} == {str(network.houston.pk)}
    assert {r["site"] for r in get(api, users.houston, endpoint).json()} == {
        str(network.houston.pk)
    }
    mine = get(api, users.houston, endpoint, site=str(network.houston.pk), **params)
    assert mine.json() == rows


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_another_sites_figures_do_not_exist_for_you(api, network, users, story, endpoint):
    assert_problem(get(api, users.houston, endpoint, site=str(network.austin.pk)), 404)
    for user in (users.houston, users.admin):
        assert_problem(get(api, user, endpoint, site=UNKNOWN_SITE), 404)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_org_admin_sees_every_site(api, network, users, story, endpoint):
    rows = get(api, users.admin, endpoint, **{"from": "2026-11-10", "to": "2026-11-20"}).json()
    assert {r["site"] for r in rows} == {str(network.austin.pk), str(network.houston.pk)}
    houston = get(api, users.admin, endpoint, site=str(network.houston.pk))
    assert houston.status_code == 200
    assert {r["site"] for r in houston.json()} == {str(network.houston.pk)}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_level_narrows_the_rows(api, network, users, story, endpoint):
    rows = get(api, users.admin, endpoint, level="residential").json()
    assert rows
    assert {r["level"] for r in rows} == {"residential"}
    assert {r["site"] for r in rows} == {str(network.austin.pk), str(network.houston.pk)}
    # Houston has no detox: your site, no rows
    none = get(api, users.houston, endpoint, site=str(network.houston.pk), level="detox")
    assert (none.status_code, none.json()) == (200, [])


# --- CSV -----------------------------------------------------------------------------


def as_text(value) -> str:
    """A JSON value as the csv module writes it."""
    return "" if value is None else str(value)


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        (DAILY, {"from": "2026-11-16", "to": "2026-11-19"}),
        (MOVEMENT, {"from": "2026-11-10", "to": "2026-11-20"}),
        (MOVEMENT, {"days": "7"}),
        (STAY, {"from": "2026-11-10", "to": "2026-11-20"}),
        (STAY, {"from": "2026-11-10", "to": "2026-11-20", "by": "level"}),
    ],
)
def test_csv_says_what_json_says(api, network, users, story, endpoint, params):
    as_json = get(api, users.admin, endpoint, **params).json()
    assert as_json
    as_csv = get(api, users.admin, endpoint, format="csv", **params)
    assert as_csv.status_code == 200
    assert as_csv["Content-Type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(as_csv.content.decode()))
    rows = list(reader)
    assert reader.fieldnames == list(as_json[0])
    assert rows == [{k: as_text(v) for k, v in row.items()} for row in as_json]
    by_accept = api.as_user(users.admin).get(endpoint, params, HTTP_ACCEPT="text/csv")
    assert by_accept.status_code == 200
    assert by_accept["Content-Type"].startswith("text/csv")
    assert by_accept.content == as_csv.content


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_empty_csv_answer_is_still_csv(api, network, users, story, endpoint):
    params = {"site": str(network.houston.pk), "level": "detox", "format": "csv"}
    response = get(api, users.houston, endpoint, **params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header = response.content.decode().splitlines()
    assert (len(header) == 1 and header[0].startswith("program,")) or header[0].startswith("day,")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("ask", ["format", "accept"])
def test_an_error_is_a_problem_document_even_when_csv_is_asked_for(
    api, network, users, story, endpoint, ask
):
    client = api.as_user(users.houston)
    if ask == "format":
        response = client.get(endpoint, {"site": str(network.austin.pk), "format": "csv"})
        assert_problem(response, 404)
    else:
        response = client.get(endpoint, {"from": "2026-02-30"}, HTTP_ACCEPT="text/csv")
        assert_problem(response, 400, fields={"from"})


# --- 400: the problem document names the field -----------------------------------


BAD_QUERIES = [
    ({"from": "2026-02-30"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"to": "2026-13-01"}, "to"),
    ({"from": "2026-11-19", "to": "2026-11-18"}, "to"),
    ({"from": "2025-11-18", "to": "2026-11-19"}, "from"),  # 367 days
    ({"from": "2025-01-01"}, "from"),  # to today: more than 366 days
    ({"from": "2026-12-01"}, "from"),  # after today, the default `to`
    ({"level": "spa"}, "level"),
    ({"site": "not-a-uuid"}, "site"),
    # days whose arithmetic would overflow
    ({"to": "9999-12-31"}, "to"),
    ({"to": "0001-01-05"}, "to"),
    ({"from": "0001-01-01"}, "from"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("params", "field"), BAD_QUERIES)
def test_a_bad_query_is_a_400_naming_the_field(api, network, users, clock, endpoint, params, field):
    response = get(api, users.austin, endpoint, **params)
    assert_problem(response, 400, fields={field})


def test_a_bad_grouping_is_a_400_naming_by(api, network, users, clock):
    assert_problem(get(api, users.austin, STAY, by="site"), 400, fields={"by"})


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_366_days_is_the_longest_range(api, network, users, clock, endpoint):
    response = get(
        api,
        users.austin,
        endpoint,
        site=str(network.austin.pk),
        level="detox",
        **{"from": "2025-11-19", "to": "2026-11-19"},
    )
    assert response.status_code == 200
    rows = response.json()
    if endpoint == DAILY:
        assert len(rows) == 366
    else:
        assert [(r["from"], r["to"]) for r in rows] == [("2025-11-19", "2026-11-19")]


# --- default ranges ------------------------------------------------------------------


def test_daily_defaults_to_the_ended_days_of_the_last_30(api, network, users, story):
    response = get(api, users.austin, DAILY, site=str(network.austin.pk))
    assert response.status_code == 200
    rows = response.json()
    # `to` is today at the site, `from` 29 days before: today has not ended, 29 days remain
    expected = days(TODAY - dt.timedelta(days=29), YESTERDAY)
    assert len(expected) == 29
    for program in (network.austin_detox, network.austin_residential, network.austin_iop):
        assert [r["day"] for r in rows if r["program"] == str(program.pk)] == expected
    assert len(rows) == 4 * 29
    assert row_of(rows, network.austin_detox, day=str(YESTERDAY))["occupied"] == 0
    assert row_of(rows, network.austin_detox, day="2026-11-17")["occupied"] == 2


def test_movement_defaults_to_today_at_the_site(api, network, users, story):
    rows = get(api, users.austin, MOVEMENT, site=str(network.austin.pk)).json()
    assert {(r["from"], r["to"]) for r in rows} == {(str(TODAY), str(TODAY))}
    detox = row_of(rows, network.austin_detox)
    assert (detox["admissions"], detox["discharges"]) == (1, 0)  # C, this morning there
    assert row_of(rows, network.austin_residential)["transfers_in"] == 0


def test_without_a_site_today_is_the_callers_sites_today(api, network, users, story):
    # given NOW is already 21 Nov in UTC but still 20 Nov at every site of the caller
    rows = get(api, users.austin, MOVEMENT).json()
    assert {(r["from"], r["to"]) for r in rows} == {(str(TODAY), str(TODAY))}
    assert row_of(rows, network.austin_detox)["admissions"] == 1  # C, this morning there


def test_length_of_stay_defaults_to_90_days(api, network, users, story):
    rows = get(api, users.austin, STAY, site=str(network.austin.pk)).json()
    assert rows
    first = TODAY - dt.timedelta(days=89)
    assert {(r["from"], r["to"]) for r in rows} == {(str(first), str(TODAY))}
    assert row_of(rows, network.austin_detox)["completed_count"] == 2


def test_only_from_given_runs_to_today(api, network, users, story):
    rows = get(
        api, users.austin, MOVEMENT, site=str(network.austin.pk), **{"from": "2026-11-18"}
    ).json()
    assert {(r["from"], r["to"]) for r in rows} == {("2026-11-18", str(TODAY))}
    assert row_of(rows, network.austin_detox)["admissions"] == 1


# --- daily: stored figures -----------------------------------------------------------


def test_daily_answers_the_stored_figures(api, network, users, story):
    params = {"site": str(network.austin.pk), "from": "2026-11-08", "to": "2026-11-19"}
    before = get(api, users.austin, DAILY, **params).json()
    assert len(before) == 4 * 12
    assert not any(r["stored"] for r in before)

    assert census.census_snapshot_fill(now=NOW) > 0

    after = get(api, users.austin, DAILY, **params).json()
    assert all(r["stored"] for r in after)
    assert [{**r, "stored": False} for r in after] == before

    # the stored figure is the answer, whatever the history says now
    CensusSnapshot.objects.filter(program=network.austin_detox, day=dt.date(2026, 11, 15)).update(
        occupied=7
    )
    changed = row_of(
        get(api, users.austin, DAILY, **params).json(), network.austin_detox, day="2026-11-15"
    )
    assert (changed["occupied"], changed["available"], changed["over_capacity"]) == (7, -5, True)
    assert changed["stored"] is True


def test_a_discharge_entered_late_makes_the_stored_days_it_changes_computed(
    api, network, users, story
):
    # given the days to 19 Nov recorded (A in Austin residential since 18 Nov)
    params = {"site": str(network.austin.pk), "from": "2026-11-08", "to": "2026-11-19"}
    census.census_snapshot_fill(now=NOW)
    residential = row_of(
        get(api, users.austin, DAILY, **params).json(),
        network.austin_residential,
        day="2026-11-18",
    )
    assert (residential["occupied"], residential["stored"]) == (1, True)

    # when A's discharge is entered now, dated 18 Nov 20:00 UTC (14:00 in Austin)
    episode = network.austin_residential.placements.get(ended_at=None).episode
    discharged = api.as_user(users.austin).post(
        f"/api/v1/episodes/{episode.pk}/discharge/",
        {"discharge_type": "completed", "discharged_at": "2026-11-18T20:00:00Z"},
    )
    assert discharged.status_code == 200, discharged.content

    # then residential's 18 and 19 Nov are computed from the history, the other
    # programs' days and residential's earlier days are still the stored ones
    rows = get(api, users.austin, DAILY, **params).json()
    for day in ("2026-11-18", "2026-11-19"):
        row = row_of(rows, network.austin_residential, day=day)
        assert (row["occupied"], row["stored"]) == (0, False)
    assert row_of(rows, network.austin_residential, day="2026-11-17")["stored"] is True
    assert all(r["stored"] for r in rows if r["program"] != str(network.austin_residential.pk))
    # and once the next run has recorded them again, they are stored, with the same figures
    census.census_snapshot_fill(now=NOW)
    again = get(api, users.austin, DAILY, **params).json()
    assert all(r["stored"] for r in again)
    assert [{**r, "stored": False} for r in again] == [{**r, "stored": False} for r in rows]


# --- a constant number of queries --------------------------------------------------


def _queries(client, endpoint, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(endpoint, params)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


def _grow_network(network, users) -> None:
    """Five more sites (in three time zones), each with detox and IOP and a client."""
    zones = ["America/Chicago", "America/New_York", "America/Los_Angeles"]
    detox = LevelOfCare.objects.get(code="detox")
    iop = LevelOfCare.objects.get(code="iop")
    for n in range(5):
        site = SiteFactory(time_zone=zones[n % 3])
        for level in (detox, iop):
            program = ProgramFactory(site=site, level=level, capacity=4)
            placed_client(program, users.admin, started_at=NOW - dt.timedelta(days=8))


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        (DAILY, {"from": "2026-11-12", "to": "2026-11-16"}),
        (DAILY, {}),
        (MOVEMENT, {"from": "2026-11-10", "to": "2026-11-20"}),
        (MOVEMENT, {}),
        (MOVEMENT, {"days": 7}),
        (STAY, {"from": "2026-11-10", "to": "2026-11-20"}),
        (STAY, {"by": "level"}),
    ],
)
def test_the_queries_do_not_grow_with_the_network(api, network, users, story, endpoint, params):
    admin = api.as_user(users.admin)
    few = _queries(admin, endpoint, params)
    _grow_network(network, users)
    rows = admin.get(endpoint, params).json()
    assert len({r["site"] for r in rows}) == 7
    assert _queries(admin, endpoint, params) == few


def test_stored_days_cost_the_same_queries_for_a_short_and_a_long_range(api, network, users, story):
    _grow_network(network, users)
    census.census_snapshot_fill(now=NOW, date_from=dt.date(2026, 8, 1))
    admin = api.as_user(users.admin)
    short = {"from": "2026-11-17", "to": "2026-11-19"}
    long = {"from": "2026-08-01", "to": "2026-11-19"}
    rows = admin.get(DAILY, long).json()
    assert len(rows) == 16 * len(days(dt.date(2026, 8, 1), YESTERDAY))
    assert all(r["stored"] for r in rows)
    assert _queries(admin, DAILY, short) == _queries(admin, DAILY, long)


# --- movement: each site's own last days -------------------------------------------


@pytest.fixture
def tokyo(story, network, users):
    """A Tokyo site, where NOW is already Saturday 21 Nov, 12:00: a detox program with
    an admission at 00:30 on 21 Nov Tokyo time (15:30 UTC on 20 Nov, 09:30 in Austin)
    and one at 23:00 on 20 Nov Tokyo time (14:00 UTC on 20 Nov)."""
    site = SiteFactory(code="tokyo", name="Tokyo", time_zone="Asia/Tokyo")
    detox = ProgramFactory(site=site, level=LevelOfCare.objects.get(code="detox"), capacity=5)
    for at in (utc(20, 14), dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)):
        client = ClientFactory(registered_site=site)
        episodes.episode_admit(
            actor=users.admin, client=client, program=detox, admitted_at=at, now=at
        )
    return detox


def test_days_counts_the_last_days_at_each_site(api, network, users, tokyo):
    rows = get(api, users.admin, MOVEMENT, days=1).json()
    # Austin's today is 20 Nov: C, this morning there; Tokyo's is 21 Nov: the 00:30 admission
    austin, far = row_of(rows, network.austin_detox), row_of(rows, tokyo)
    assert (austin["from"], austin["to"], austin["admissions"]) == (str(TODAY), str(TODAY), 1)
    assert (far["from"], far["to"], far["admissions"]) == ("2026-11-21", "2026-11-21", 1)
    # without a range, the same: today at each site (not UTC's 21 Nov for Austin)
    assert get(api, users.admin, MOVEMENT).json() == rows

    week = get(api, users.admin, MOVEMENT, days=7).json()
    austin, far = row_of(week, network.austin_detox), row_of(week, tokyo)
    # Austin 14-20 Nov: B (15 Nov) and C admitted, B discharged, A stepped down
    assert (austin["from"], austin["to"]) == ("2026-11-14", str(TODAY))
    assert (austin["admissions"], austin["discharges"], austin["step_downs"]) == (2, 1, 1)
    assert (far["from"], far["to"], far["admissions"]) == ("2026-11-15", "2026-11-21", 2)


def test_days_with_a_site_is_that_sites_last_days(api, network, users, story):
    rows = get(api, users.austin, MOVEMENT, site=str(network.austin.pk), days=3).json()
    assert {(r["from"], r["to"]) for r in rows} == {("2026-11-18", str(TODAY))}
    detox = row_of(rows, network.austin_detox)
    assert (detox["admissions"], detox["discharges"], detox["transfers_out"]) == (1, 1, 1)


@pytest.mark.parametrize(
    "params",
    [
        {"days": 0},
        {"days": 367},
        {"days": "a week"},
        {"days": 7, "from": "2026-11-14"},
        {"days": 7, "to": "2026-11-20"},
        {"days": 7, "from": "2026-11-14", "to": "2026-11-20"},
    ],
)
def test_a_bad_days_is_a_400_naming_days(api, network, users, clock, params):
    assert_problem(get(api, users.austin, MOVEMENT, **params), 400, fields={"days"})


def test_366_days_is_the_most_days(api, network, users, story):
    rows = get(api, users.austin, MOVEMENT, site=str(network.austin.pk), days=366).json()
    assert {(r["from"], r["to"]) for r in rows} == {("2025-11-20", str(TODAY))}
