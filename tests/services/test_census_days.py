"""Midnight census, snapshots, movement and length of stay against a hand-computed
history (services/census.py). Definitions: docs/census.md.

The history sits around the end of daylight saving time in Austin
(America/Chicago): Sunday 1 November 2026 lasts 25 hours there. Times are
written in site-local time; UTC appears where the day boundary is the point.
"""

import contextlib
import datetime as dt
import threading
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from backend.care.models import Placement
from backend.census.models import CensusSnapshot
from backend.network.models import LevelCode, LevelOfCare, Program
from services import episodes, transfers
from services.census import census_at, census_daily, census_snapshot_fill
from services.census_flow import census_movement, length_of_stay
from tests.factories import (
    ClientFactory,
    ProgramFactory,
    SiteFactory,
    finish_checklist,
    placed_client,
)

CHICAGO, TOKYO = ZoneInfo("America/Chicago"), ZoneInfo("Asia/Tokyo")
D = dt.date
DAY = dt.timedelta(days=1)


def chi(month, day, hour=0, minute=0):
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHICAGO)


NOW = chi(11, 3, 12)  # Tuesday noon in Austin; already Wednesday 03:00 in Tokyo


@pytest.fixture
def history(network, users):
    """Who was where (Austin unless said; every capacity 10 so that no claim fails):

    - P: detox 30 Oct 10:00 to 18:00, discharged the same day;
    - Q: detox from 31 Oct 00:00 sharp; step-down to residential approved 1 Nov 09:00,
      arrives 2 Nov 00:00 sharp (the midnight that ends 1 Nov);
    - R: detox 1 Nov 00:30 CDT to 23:30 CST: 24 hours, one (25-hour) local day, AMA;
    - S: detox from 31 Oct 20:00, discharged 3 Nov 00:00 sharp;
    - U: residential from 20 Oct 10:00, moves to Houston residential 2 Nov 10:00;
    - V: IOP from 25 Oct 09:00, steps up to residential 2 Nov 13:00;
    - W: a second detox program, "Detox East", from 28 Oct 10:00; moves to the
      first detox (lateral) 2 Nov 15:00;
    - T: Tokyo detox 1 Nov 14:30 UTC to 15:30 UTC: 23:30 to 00:30 in Tokyo, across
      Tokyo's midnight, though the same afternoon in Austin.
    """
    admin = users.admin
    Program.objects.update(capacity=10)
    detox_level = LevelOfCare.objects.get(code=LevelCode.DETOX)
    east = Program.objects.create(
        site=network.austin, level=detox_level, capacity=10, name="Austin Detox East"
    )
    tokyo = SiteFactory(code="tokyo", name="Tokyo", time_zone="Asia/Tokyo")
    tokyo_detox = ProgramFactory(site=tokyo, level=detox_level, capacity=10, name="Tokyo Detox")

    def admit(program, at):
        client = ClientFactory(registered_site=program.site)
        episodes.episode_admit(actor=admin, client=client, program=program, admitted_at=at, now=at)
        return client

    def discharge(client, at, kind="completed"):
        episode = client.episodes.get(discharged_at__isnull=True)
        episodes.episode_discharge(
            actor=admin, episode=episode, discharge_type=kind, discharged_at=at, now=at
        )

    def move(client, program, *, approved_at, arrived_at):
        transfer = transfers.transfer_request(
            actor=admin, client=client, to_program=program, now=approved_at
        )
        transfers.transfer_approve(actor=admin, transfer=transfer, now=approved_at)
        finish_checklist(transfer, admin, now=approved_at)
        transfers.transfer_complete(
            actor=admin, transfer=transfer, arrived_at=arrived_at, now=arrived_at
        )

    p = admit(network.austin_detox, chi(10, 30, 10))
    discharge(p, chi(10, 30, 18))
    q = admit(network.austin_detox, chi(10, 31))
    s = admit(network.austin_detox, chi(10, 31, 20))
    r = admit(network.austin_detox, chi(11, 1, 0, 30))
    discharge(r, chi(11, 1, 23, 30), "against_medical_advice")
    u = admit(network.austin_residential, chi(10, 20, 10))
    v = admit(network.austin_iop, chi(10, 25, 9))
    w = admit(east, chi(10, 28, 10))
    move(q, network.austin_residential, approved_at=chi(11, 1, 9), arrived_at=chi(11, 2))
    move(u, network.houston_residential, approved_at=chi(11, 2, 8), arrived_at=chi(11, 2, 10))
    move(v, network.austin_residential, approved_at=chi(11, 2, 11), arrived_at=chi(11, 2, 13))
    move(w, network.austin_detox, approved_at=chi(11, 2, 14), arrived_at=chi(11, 2, 15))
    discharge(s, chi(11, 3))
    t = admit(tokyo_detox, dt.datetime(2026, 11, 1, 14, 30, tzinfo=dt.UTC))
    discharge(t, dt.datetime(2026, 11, 1, 15, 30, tzinfo=dt.UTC))
    return SimpleNamespace(east=east, tokyo=tokyo, tokyo_detox=tokyo_detox)


def _series(rows, program, field="occupied"):
    return {r["day"]: r[field] for r in rows if r["program"] == program.pk}


def test_a_same_day_stay_is_in_no_midnight_census_and_midnight_moves_count_the_day_before(
    network, users, history
):
    rows = census_daily(
        user=users.admin, date_from=D(2026, 10, 30), date_to=D(2026, 11, 5), now=NOW
    )

    # detox: P (same day) never; Q and S from 31 Oct; Q still on 1 Nov (it left at the
    # midnight that ends 1 Nov); R never (one 25-hour day); S on 2 Nov (discharged at
    # the midnight that ends it); W arrived on 2 Nov. Austin's 3 Nov has not ended.
    assert _series(rows, network.austin_detox) == {
        D(2026, 10, 30): 0,
        D(2026, 10, 31): 2,
        D(2026, 11, 1): 2,
        D(2026, 11, 2): 2,
    }
    # residential: U until it left on 2 Nov; Q from 2 Nov; V from 2 Nov
    assert _series(rows, network.austin_residential) == {
        D(2026, 10, 30): 1,
        D(2026, 10, 31): 1,
        D(2026, 11, 1): 1,
        D(2026, 11, 2): 2,
    }
    # Q's bed was held at the end of 1 Nov (approved 09:00, arrived at midnight)
    assert _series(rows, network.austin_residential, "reserved") == {
        D(2026, 10, 30): 0,
        D(2026, 10, 31): 0,
        D(2026, 11, 1): 1,
        D(2026, 11, 2): 0,
    }
    assert _series(rows, history.east)[D(2026, 11, 1)] == 1
    assert _series(rows, history.east)[D(2026, 11, 2)] == 0


def test_each_site_counts_at_its_own_midnight(network, users, history):
    rows = census_daily(
        user=users.admin, date_from=D(2026, 10, 30), date_to=D(2026, 11, 5), now=NOW
    )
    # T was in Tokyo detox at midnight Tokyo time at the end of 1 Nov; and NOW is
    # already 4 Nov 03:00 there, so 3 Nov has ended in Tokyo, though not in Austin.
    assert _series(rows, history.tokyo_detox) == {
        D(2026, 10, 30): 0,
        D(2026, 10, 31): 0,
        D(2026, 11, 1): 1,
        D(2026, 11, 2): 0,
        D(2026, 11, 3): 0,
    }


def test_the_daily_series_is_limited_to_the_callers_sites(network, users, history):
    rows = census_daily(
        user=users.houston, date_from=D(2026, 11, 1), date_to=D(2026, 11, 2), now=NOW
    )
    assert {r["site"] for r in rows} == {network.houston.pk}
    # U arrived at Houston residential on 2 Nov
    assert _series(rows, network.houston_residential) == {D(2026, 11, 1): 0, D(2026, 11, 2): 1}


def test_the_snapshot_writes_each_day_once_and_is_then_what_is_answered(
    network, users, history, settings
):
    computed = census_daily(
        user=users.admin, date_from=D(2026, 10, 30), date_to=D(2026, 11, 5), now=NOW
    )
    settings.CENSUS_SNAPSHOT_BACKFILL_DAYS = 5

    # each active program gets its last 5 ended days: to 2 Nov in Chicago, to 3 Nov in Tokyo
    first = census_snapshot_fill(now=NOW)
    assert first == 5 * Program.objects.filter(is_active=True).count()
    assert census_snapshot_fill(now=NOW) == 0  # the second run writes nothing
    assert CensusSnapshot.objects.get(program=history.tokyo_detox, day=D(2026, 11, 3))
    assert not CensusSnapshot.objects.filter(program=network.austin_detox, day=D(2026, 11, 3))

    stored = census_daily(
        user=users.admin, date_from=D(2026, 10, 30), date_to=D(2026, 11, 5), now=NOW
    )
    strip = [{k: v for k, v in row.items() if k != "stored"} for row in stored]
    assert strip == [{k: v for k, v in row.items() if k != "stored"} for row in computed]
    assert {r["stored"] for r in stored if r["day"] >= D(2026, 10, 29)} == {True}

    # a stored figure is the answer, even if the history changes afterwards
    CensusSnapshot.objects.filter(program=network.austin_detox, day=D(2026, 11, 1)).update(
        occupied=7
    )
    again = census_daily(
        user=users.admin, date_from=D(2026, 11, 1), date_to=D(2026, 11, 1), now=NOW
    )
    assert _series(again, network.austin_detox) == {D(2026, 11, 1): 7}
    # until an operator records the range again
    census_snapshot_fill(now=NOW, date_from=D(2026, 11, 1), date_to=D(2026, 11, 1), recompute=True)
    again = census_daily(
        user=users.admin, date_from=D(2026, 11, 1), date_to=D(2026, 11, 1), now=NOW
    )
    assert _series(again, network.austin_detox) == {D(2026, 11, 1): 2}


def test_a_program_closed_since_keeps_its_stored_days_and_has_no_others(
    network, users, history, settings
):
    # given the nights of 29, 30 and 31 Oct recorded (W was in Detox East then)
    settings.CENSUS_SNAPSHOT_BACKFILL_DAYS = 3
    census_snapshot_fill(now=chi(11, 1, 12))
    # when Detox East closes on 3 Nov
    Program.objects.filter(pk=history.east.pk).update(is_active=False)

    rows = census_daily(
        user=users.admin, date_from=D(2026, 10, 28), date_to=D(2026, 11, 2), now=NOW
    )

    # then the days stored while it ran are still answered, and no day is computed for it
    east = [r for r in rows if r["program"] == history.east.pk]
    assert [(r["day"], r["occupied"], r["stored"]) for r in east] == [
        (D(2026, 10, 29), 1, True),
        (D(2026, 10, 30), 1, True),
        (D(2026, 10, 31), 1, True),
    ]
    # an open program still has every ended day, stored or computed
    assert sorted(_series(rows, network.austin_detox)) == [
        D(2026, 10, 28) + n * DAY for n in range(6)
    ]
    # a range without a stored day of the closed program leaves it out
    later = census_daily(
        user=users.admin, date_from=D(2026, 11, 1), date_to=D(2026, 11, 2), now=NOW
    )
    assert history.east.pk not in {r["program"] for r in later}
    assert history.east.pk not in {
        r["program"] for r in census_at(user=users.admin, at=NOW, now=NOW)
    }


def test_a_program_has_no_day_before_it_opened(network, users, history, settings):
    # given Detox East opened on 30 Oct (W was admitted on the 28th: an entry made late)
    Program.objects.filter(pk=history.east.pk).update(opened_on=D(2026, 10, 30))
    settings.CENSUS_SNAPSHOT_BACKFILL_DAYS = 5

    # the nightly task records its days from the 30th only, the others' from the 29th
    written = census_snapshot_fill(now=NOW)
    east_days = CensusSnapshot.objects.filter(program=history.east)
    assert sorted(east_days.values_list("day", flat=True)) == [
        D(2026, 10, 30),
        D(2026, 10, 31),
        D(2026, 11, 1),
        D(2026, 11, 2),
    ]
    assert written == 5 * Program.objects.filter(is_active=True).count() - 1

    # and the daily census, stored or computed, lists it from the 30th
    for date_from in (D(2026, 10, 25), D(2026, 10, 29)):
        rows = census_daily(user=users.admin, date_from=date_from, date_to=D(2026, 11, 2), now=NOW)
        assert min(_series(rows, history.east)) == D(2026, 10, 30)
        assert min(_series(rows, network.austin_detox)) == date_from


def test_missed_nights_are_filled_in_by_the_next_run(network, users, history, settings):
    settings.CENSUS_SNAPSHOT_BACKFILL_DAYS = 10
    census_snapshot_fill(now=chi(10, 31, 1))  # recorded up to 30 Oct; then three nights missed
    programs = Program.objects.filter(is_active=True, site__time_zone="America/Chicago").count()
    austin_days = CensusSnapshot.objects.filter(program=network.austin_detox)
    assert max(austin_days.values_list("day", flat=True)) == D(2026, 10, 30)

    written = census_snapshot_fill(now=NOW)
    # Chicago sites: 31 Oct, 1 and 2 Nov were missing; Tokyo: 31 Oct to 3 Nov
    assert written == 3 * programs + 4
    assert sorted(austin_days.values_list("day", flat=True))[-3:] == [
        D(2026, 10, 31),
        D(2026, 11, 1),
        D(2026, 11, 2),
    ]
    assert austin_days.get(day=D(2026, 11, 1)).occupied == 2


def _row(rows, program):
    return next(r for r in rows if r["program"] == program.pk)


def test_movement_counts_admissions_discharges_and_transfers_by_direction(network, users, history):
    # 31 Oct and 1 Nov in Austin: Q, S and R admitted to detox; R discharged AMA
    first = census_movement(user=users.admin, date_from=D(2026, 10, 31), date_to=D(2026, 11, 1))
    detox = _row(first, network.austin_detox)
    assert (detox["admissions"], detox["discharges"]) == (3, 1)
    assert detox["discharges_against_medical_advice"] == 1
    assert detox["discharges_completed"] == 0
    assert detox["transfers_out"] == 0  # Q arrived at the midnight that ends 1 Nov: 2 Nov

    # 2 Nov: Q steps down detox -> residential (at 00:00), U changes site, V steps up,
    # W moves laterally East -> detox; S's discharge at 00:00 on 3 Nov belongs to 3 Nov
    second = census_movement(user=users.admin, date_from=D(2026, 11, 2), date_to=D(2026, 11, 2))
    detox, residential = (
        _row(second, network.austin_detox),
        _row(second, network.austin_residential),
    )
    iop, east = _row(second, network.austin_iop), _row(second, history.east)
    houston = _row(second, network.houston_residential)
    assert (detox["transfers_out"], detox["step_downs"], detox["transfers_in"]) == (1, 1, 1)
    assert detox["discharges"] == 0
    assert (residential["transfers_in"], residential["transfers_out"]) == (2, 1)
    assert (residential["site_changes"], residential["step_downs"]) == (1, 0)
    assert (iop["transfers_out"], iop["step_ups"]) == (1, 1)
    assert (east["transfers_out"], east["lateral"]) == (1, 1)
    assert houston["transfers_in"] == 1
    assert all(r["admissions"] == 0 for r in second)

    third = census_movement(user=users.admin, date_from=D(2026, 11, 3), date_to=D(2026, 11, 3))
    assert _row(third, network.austin_detox)["discharges_completed"] == 1


def test_movement_is_for_the_callers_sites(network, users, history):
    rows = census_movement(
        user=users.manager, date_from=D(2026, 11, 2), date_to=D(2026, 11, 2), site_id=None
    )
    assert {r["site"] for r in rows} == {network.austin.pk}


def test_length_of_stay_per_program_and_level(network, users, history):
    rows = length_of_stay(
        user=users.admin, date_from=D(2026, 10, 30), date_to=D(2026, 11, 3), now=NOW
    )
    detox = _row(rows, network.austin_detox)
    # completed in detox: P 8 h, R 24 h, Q 49 h (31 Oct 00:00 CDT to 2 Nov 00:00 CST), S 53 h
    # average 33.5 h = 1.40 days; median (24 + 49) / 2 = 36.5 h = 1.52 days; W open since 15:00
    assert (detox["completed_count"], detox["completed_avg_days"]) == (4, 1.4)
    assert detox["completed_median_days"] == 1.5
    assert (detox["open_count"], detox["open_avg_days"], detox["open_median_days"]) == (
        1,
        0.9,
        0.9,
    )  # W: 21 hours
    residential = _row(rows, network.austin_residential)
    # U: 20 Oct 10:00 CDT to 2 Nov 10:00 CST, 13 days and 1 hour; open: Q 36 h, V 23 h
    assert (residential["completed_count"], residential["completed_avg_days"]) == (1, 13.0)
    assert (residential["open_count"], residential["open_avg_days"]) == (2, 1.2)
    assert residential["open_median_days"] == 1.2

    by_level = length_of_stay(
        user=users.admin,
        date_from=D(2026, 10, 30),
        date_to=D(2026, 11, 3),
        site_id=network.austin.pk,
        by="level",
        now=NOW,
    )
    level = next(r for r in by_level if r["level"] == "detox")
    # Austin's two detox programs: 8, 24, 49, 53 and W's 126 hours in Detox East
    assert level["program"] is None
    assert (level["completed_count"], level["completed_avg_days"]) == (5, 2.2)
    assert level["completed_median_days"] == 2.0  # 49 hours
    assert len([r for r in by_level if r["level"] == "detox"]) == 1


def test_length_of_stay_of_a_range_with_no_stays_is_empty_not_missing(network, users, history):
    rows = length_of_stay(
        user=users.admin, date_from=D(2026, 1, 1), date_to=D(2026, 1, 31), now=NOW
    )
    detox = _row(rows, network.austin_detox)
    assert (detox["completed_count"], detox["completed_avg_days"]) == (0, None)
    assert detox["completed_median_days"] is None


def test_each_answer_has_its_documented_columns_in_order(network, users, history):
    from services import census, census_flow

    span = {"date_from": D(2026, 11, 1), "date_to": D(2026, 11, 2)}
    answers = {
        census.CENSUS_COLUMNS: census.census_at(user=users.admin, at=NOW, now=NOW),
        census.DAILY_COLUMNS: census_daily(user=users.admin, now=NOW, **span),
        census_flow.MOVEMENT_COLUMNS: census_movement(user=users.admin, **span),
        census.STAY_COLUMNS: length_of_stay(user=users.admin, now=NOW, **span),
    }
    for columns, rows in answers.items():
        assert rows
        assert {tuple(row) for row in rows} == {columns}


def test_an_arrival_recorded_late_holds_no_bed_from_the_arrival(network, users):
    # given a step-down approved 17 Nov, the client arriving 18 Nov 10:00, and the
    # arrival entered only on 19 Nov
    admin = users.admin
    client = ClientFactory(registered_site=network.austin)
    episodes.episode_admit(
        actor=admin,
        client=client,
        program=network.austin_detox,
        admitted_at=chi(11, 10),
        now=chi(11, 10),
    )
    move = transfers.transfer_request(
        actor=admin, client=client, to_program=network.austin_residential, now=chi(11, 17)
    )
    transfers.transfer_approve(actor=admin, transfer=move, now=chi(11, 17))
    finish_checklist(move, admin, now=chi(11, 17))
    transfers.transfer_complete(
        actor=admin, transfer=move, arrived_at=chi(11, 18, 10), now=chi(11, 19, 9)
    )
    from services.census import census_at

    def residential(at):
        row = next(
            r
            for r in census_at(user=admin, at=at, now=chi(11, 20))
            if r["program"] == network.austin_residential.pk
        )
        return row["occupied"], row["reserved"]

    # then the bed is held until the arrival, and occupied (not also held) after it
    assert residential(chi(11, 18, 9)) == (0, 1)
    assert residential(chi(11, 18, 12)) == (1, 0)
    days = census_daily(
        user=admin, date_from=D(2026, 11, 17), date_to=D(2026, 11, 18), now=chi(11, 20)
    )
    assert _series(days, network.austin_residential, "reserved") == {
        D(2026, 11, 17): 1,
        D(2026, 11, 18): 0,
    }


def _figures_only(rows):
    return [{k: v for k, v in row.items() if k != "stored"} for row in rows]


def test_stored_days_answer_as_computed_after_back_dated_changes_until_recorded_again(
    network, users, history, settings
):
    # given the whole history recorded, which answers as the history computed
    span = {"date_from": D(2026, 10, 19), "date_to": D(2026, 11, 3), "now": NOW}
    computed_before = census_daily(user=users.admin, **span)
    settings.CENSUS_SNAPSHOT_BACKFILL_DAYS = 30
    census_snapshot_fill(now=NOW)
    stored_before = census_daily(user=users.admin, **span)
    assert _figures_only(stored_before) == _figures_only(computed_before)
    assert all(r["stored"] for r in stored_before)
    admin = users.admin

    # when, after the snapshot, the history is corrected back in time: W (in detox
    # since 2 Nov 15:00) was discharged at 20:00 that day; a client was admitted
    # to IOP on 31 Oct; Q moved from residential to Houston IOP, approved 2 Nov
    # 01:00, arriving 10:00; V's move to Houston residential was approved 2 Nov 14:00
    w_episode = Placement.objects.get(program=network.austin_detox, ended_at=None).episode
    episodes.episode_discharge(
        actor=admin,
        episode=w_episode,
        discharge_type="completed",
        discharged_at=chi(11, 2, 20),
        now=NOW,
    )
    late = ClientFactory(registered_site=network.austin)
    episodes.episode_admit(
        actor=admin, client=late, program=network.austin_iop, admitted_at=chi(10, 31, 10), now=NOW
    )
    residential = Placement.objects.filter(program=network.austin_residential, ended_at=None)
    q = residential.get(started_at=chi(11, 2)).client
    move = transfers.transfer_request(
        actor=admin, client=q, to_program=network.houston_iop, now=chi(11, 2, 1)
    )
    transfers.transfer_approve(actor=admin, transfer=move, now=chi(11, 2, 1))
    finish_checklist(move, admin, now=chi(11, 2, 1))
    transfers.transfer_complete(actor=admin, transfer=move, arrived_at=chi(11, 2, 10), now=NOW)
    v = residential.get(started_at=chi(11, 2, 13)).client
    hold = transfers.transfer_request(
        actor=admin, client=v, to_program=network.houston_residential, now=chi(11, 2, 14)
    )
    transfers.transfer_approve(actor=admin, transfer=hold, now=chi(11, 2, 14))

    # then the days they change are stale and read as computed from the history
    after = census_daily(user=users.admin, **span)
    stale = set(CensusSnapshot.objects.filter(stale=True).values_list("pk", flat=True))
    CensusSnapshot.objects.update(stale=True)
    assert _figures_only(after) == _figures_only(census_daily(user=users.admin, **span))
    CensusSnapshot.objects.exclude(pk__in=stale).update(stale=False)

    def figure(program, day, field="occupied"):
        return _series(after, program, field)[day]

    assert figure(network.austin_detox, D(2026, 11, 2)) == 1  # was 2
    assert figure(network.austin_iop, D(2026, 10, 31)) == 2  # was 1
    assert figure(network.austin_residential, D(2026, 11, 2)) == 1  # was 2
    assert figure(network.houston_iop, D(2026, 11, 2)) == 1  # was 0
    assert figure(network.houston_residential, D(2026, 11, 2), "reserved") == 1  # was 0
    stale_rows = {(r["program"], r["day"]) for r in after if not r["stored"]}
    assert (network.austin_detox.pk, D(2026, 11, 2)) in stale_rows
    assert (network.austin_detox.pk, D(2026, 11, 1)) not in stale_rows
    assert (network.austin_iop.pk, D(2026, 10, 30)) not in stale_rows
    assert not {day for program, day in stale_rows if program == history.tokyo_detox.pk}

    # and the next run records them again, in place: stored, and the same figures
    assert census_snapshot_fill(now=NOW) == len(stale) == len(stale_rows)
    again = census_daily(user=users.admin, **span)
    assert all(r["stored"] for r in again)
    assert _figures_only(again) == _figures_only(after)
    assert census_snapshot_fill(now=NOW) == 0


def test_a_change_dated_now_marks_no_stored_day_stale(network, users, history, settings):
    # given the last days recorded
    settings.CENSUS_SNAPSHOT_BACKFILL_DAYS = 5
    census_snapshot_fill(now=NOW)

    # when a transfer is requested and approved, and a client admitted, at NOW
    v = Placement.objects.get(
        program=network.austin_residential, ended_at=None, started_at=chi(11, 2, 13)
    ).client
    move = transfers.transfer_request(
        actor=users.admin, client=v, to_program=network.austin_iop, now=NOW
    )
    transfers.transfer_approve(actor=users.admin, transfer=move, now=NOW)
    client = ClientFactory(registered_site=network.austin)
    episodes.episode_admit(actor=users.admin, client=client, program=network.austin_detox, now=NOW)

    # then every stored day stays fresh (Tokyo's 3 Nov had ended before NOW)
    assert not CensusSnapshot.objects.filter(stale=True).exists()


def test_recompute_records_a_range_again_in_place(network, users, history):
    # given 1 Nov recorded, then its figure overwritten by hand (a stored figure
    # nobody marked stale is the answer)
    census_snapshot_fill(now=NOW, date_from=D(2026, 11, 1), date_to=D(2026, 11, 1))
    CensusSnapshot.objects.filter(program=network.austin_detox).update(occupied=7)
    stored = census_daily(
        user=users.admin, date_from=D(2026, 11, 1), date_to=D(2026, 11, 1), now=NOW
    )
    assert _series(stored, network.austin_detox) == {D(2026, 11, 1): 7}

    # when the operator records the day again
    written = census_snapshot_fill(
        now=NOW, date_from=D(2026, 11, 1), date_to=D(2026, 11, 1), recompute=True
    )

    # then it is the history's figure again, in the same row
    assert written == CensusSnapshot.objects.count()
    row = CensusSnapshot.objects.get(program=network.austin_detox)
    assert (row.occupied, row.stale, row.recorded_at) == (2, False, NOW)


def test_recording_a_day_again_keeps_the_capacity_it_was_recorded_with(network, users, history):
    census_snapshot_fill(now=NOW, date_from=D(2026, 11, 1), date_to=D(2026, 11, 1))
    Program.objects.filter(pk=network.austin_detox.pk).update(capacity=40)

    census_snapshot_fill(now=NOW, date_from=D(2026, 11, 1), date_to=D(2026, 11, 1), recompute=True)

    stored = CensusSnapshot.objects.get(program=network.austin_detox, day=D(2026, 11, 1))
    assert (stored.capacity, stored.occupied) == (10, 2)


@contextlib.contextmanager
def _another_run_recording():
    """While inside: another connection holds the snapshot run's job lock, as a
    run that is recording does."""
    from django.db import connections, transaction

    held, release = threading.Event(), threading.Event()

    def other_run():
        with transaction.atomic():
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('census_snapshot_fill'))")
            held.set()
            release.wait(10)
        connections["default"].close()

    thread = threading.Thread(target=other_run)
    thread.start()
    assert held.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join(10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_while_another_records_does_nothing_unless_it_waits(network):
    with _another_run_recording():
        # then a run that does not wait returns at once, having written nothing
        assert census_snapshot_fill(now=NOW) is None
        assert not CensusSnapshot.objects.exists()
    # and once the other run is over, one that waits records
    assert census_snapshot_fill(now=NOW, wait=True) > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_correction_dated_in_the_past_waits_for_a_recording_run(network, users):
    from django.db import OperationalError, connection, transaction

    # given a client in care since 1 Nov, and a snapshot run recording
    client = placed_client(network.austin_detox, users.admin, started_at=chi(11, 1, 10))
    episode = client.episodes.get()
    with _another_run_recording():
        # when a discharge is entered back-dated to 2 Nov, it waits for the run
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '300ms'")
            episodes.episode_discharge(
                actor=users.admin,
                episode=episode,
                discharge_type="completed",
                discharged_at=chi(11, 2, 9),
                now=NOW,
            )
        # and one dated now does not
        episodes.episode_discharge(
            actor=users.admin, episode=episode, discharge_type="completed", now=NOW
        )
    # then the discharge dated now was recorded
    episode.refresh_from_db()
    assert episode.discharged_at == NOW


# --- movement over each site's own last days ----------------------------------------


def test_days_counts_each_sites_own_today_in_the_same_queries(network, users, history):
    # given, at NOW (Tuesday 3 Nov 12:00 in Austin, already Wednesday 4 Nov 03:00 in Tokyo):
    # - Austin detox: an admission on Monday 2 Nov 23:00 (Austin's yesterday) and one
    #   on Tuesday 3 Nov 08:00 (Austin's today), besides S's discharge at 00:00 today;
    # - Tokyo detox: an admission on Tuesday 3 Nov 22:00 Tokyo time (Tokyo's yesterday,
    #   though 07:00 today in Austin) and one on Wednesday 4 Nov 00:30 Tokyo time
    #   (Tokyo's today; 09:30 on Tuesday in Austin).
    def admit(program, at):
        client = ClientFactory(registered_site=program.site)
        episodes.episode_admit(
            actor=users.admin, client=client, program=program, admitted_at=at, now=at
        )

    def tokyo(day, hour, minute=0):
        return dt.datetime(2026, 11, day, hour, minute, tzinfo=TOKYO)

    admit(network.austin_detox, chi(11, 2, 23))
    admit(network.austin_detox, chi(11, 3, 8))
    admit(history.tokyo_detox, tokyo(3, 22))
    admit(history.tokyo_detox, tokyo(4, 0, 30))

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # when the movement of the last day at each site is read
    with CaptureQueriesContext(connection) as ctx:
        today = census_movement(user=users.admin, days=1, now=NOW)
    # the programs, then three grouped counts, whatever the zones
    assert len(ctx.captured_queries) == 4

    # then Austin counts its Tuesday, Tokyo its Wednesday, and each row says so
    austin, far = _row(today, network.austin_detox), _row(today, history.tokyo_detox)
    assert (austin["from"], austin["to"]) == (D(2026, 11, 3), D(2026, 11, 3))
    assert (far["from"], far["to"]) == (D(2026, 11, 4), D(2026, 11, 4))
    assert (austin["admissions"], austin["discharges"]) == (1, 1)  # 08:00; S at 00:00
    assert (far["admissions"], far["discharges"]) == (1, 0)  # 00:30 only
    assert {(r["from"], r["to"]) for r in today if r["site"] == network.houston.pk} == {
        (D(2026, 11, 3), D(2026, 11, 3))
    }
    # and it is what a fixed range of that site's days answers
    tokyo_day = census_movement(user=users.admin, date_from=D(2026, 11, 4), date_to=D(2026, 11, 4))
    assert _row(tokyo_day, history.tokyo_detox) == far
    # (a fixed Tuesday would count the Tokyo admission of 22:00 instead)
    tuesday = census_movement(user=users.admin, date_from=D(2026, 11, 3), date_to=D(2026, 11, 3))
    assert _row(tuesday, history.tokyo_detox)["admissions"] == 1
    assert _row(tuesday, history.tokyo_detox)["from"] == D(2026, 11, 3)

    # two days: Austin 2-3 Nov (both admissions; the lateral move of W and the
    # step-down of Q arrived on 2 Nov), Tokyo 3-4 Nov (both admissions)
    two = census_movement(user=users.admin, days=2, now=NOW)
    austin, far = _row(two, network.austin_detox), _row(two, history.tokyo_detox)
    assert (austin["from"], austin["to"], austin["admissions"]) == (
        D(2026, 11, 2),
        D(2026, 11, 3),
        2,
    )
    assert (austin["transfers_in"], austin["transfers_out"]) == (1, 1)
    assert (far["from"], far["to"], far["admissions"]) == (D(2026, 11, 3), D(2026, 11, 4), 2)


def test_movement_takes_days_or_a_range_not_both(network, users):
    with pytest.raises(ValueError):
        census_movement(user=users.admin, days=1, date_from=D(2026, 11, 3), now=NOW)
    with pytest.raises(ValueError):
        census_movement(user=users.admin, date_from=D(2026, 11, 3))
    with pytest.raises(ValueError):
        census_movement(user=users.admin)
    with pytest.raises(ValueError):
        census_movement(user=users.admin, days=0, now=NOW)
