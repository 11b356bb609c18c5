"""The nightly census snapshot on a real broker and real workers, and its schedule."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.census.models import CensusSnapshot
from backend.network.models import Program
from tests.factories import placed_client
from tests.workers.conftest import wait_until
from workers import app

SNAPSHOT_TASK = "workers.snapshot_census"


def test_the_snapshot_runs_on_the_beat_every_quarter_hour():
    entry = app.conf.beat_schedule["snapshot-census"]
    assert entry["task"] == SNAPSHOT_TASK
    assert entry["schedule"] == 900.0
    from workers.tasks import snapshot_census

    assert snapshot_census.name == SNAPSHOT_TASK


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_sent_the_snapshot_at_once_write_each_day_once(
    network, users, start_workers, settings, monkeypatch
):
    # given a week of history and two workers that look back 5 days
    placed_client(network.austin_detox, users.austin, started_at=_days_ago(7))
    settings.CENSUS_SNAPSHOT_BACKFILL_DAYS = 5
    monkeypatch.setenv("CENSUS_SNAPSHOT_BACKFILL_DAYS", "5")
    workers = start_workers("w1", "w2")

    # when the snapshot is sent twice, racing
    for _ in range(2):
        app.send_task(SNAPSHOT_TASK, queue="default")

    # then each active program has its last 5 days once, whoever ran which
    expected = 5 * Program.objects.filter(is_active=True).count()
    wait_until(
        lambda: sum(len(w.outcomes()) for w in workers) == 2,
        timeout=20,
        what="both snapshot runs",
        details=lambda: "\n".join(w.describe() for w in workers),
    )
    assert CensusSnapshot.objects.count() == expected
    written = sorted(int(o) for w in workers for o in w.outcomes().values())
    assert written == [0, expected]  # one run wrote; the other found it done, or in hand
    detox = CensusSnapshot.objects.filter(program=network.austin_detox).order_by("day")
    assert [s.occupied for s in detox] == [1] * 5


def _days_ago(n):
    return timezone.now() - dt.timedelta(days=n)


def test_operators_fill_a_longer_past_with_progress(network, users, db):
    placed_client(network.austin_detox, users.austin, started_at=_days_ago(40))
    out = StringIO()
    call_command(
        "census_snapshots", "--site", "austin", "--from", str(_days_ago(40).date()), stdout=out
    )
    austin = CensusSnapshot.objects.filter(program__site=network.austin)
    assert austin.count() >= 4 * 39
    assert not CensusSnapshot.objects.filter(program__site=network.houston).exists()
    assert "program-days (1/1)" in out.getvalue() and "Recorded" in out.getvalue()
    # run again: nothing new
    out = StringIO()
    call_command(
        "census_snapshots", "--site", "austin", "--from", str(_days_ago(40).date()), stdout=out
    )
    assert "Recorded 0 " in out.getvalue()


def test_operators_record_the_whole_history_once_in_blocks_with_progress(network, users, db):
    # given a client in care for 200 days, and blocks of 92 days
    placed_client(network.austin_detox, users.austin, started_at=_days_ago(200))

    # when the operator records the whole history
    out = StringIO()
    call_command("census_snapshots", "--all", "--site", "austin", stdout=out)

    # then every day since the day before the first stay is stored, in three blocks
    detox = CensusSnapshot.objects.filter(program=network.austin_detox)
    days = sorted(detox.values_list("day", flat=True))
    assert days[0] == _days_ago(200).date() - dt.timedelta(days=1)
    assert len(days) == (days[-1] - days[0]).days + 1 >= 200
    assert "(3/3)" in out.getvalue()
    assert {s.occupied for s in detox.filter(day__gte=_days_ago(198).date())} == {1}
    # and a second run records nothing new
    out = StringIO()
    call_command("census_snapshots", "--all", "--site", "austin", stdout=out)
    assert "Recorded 0 " in out.getvalue()


def test_all_and_from_together_are_a_clear_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--all"):
        call_command("census_snapshots", "--all", "--from", "2026-01-01")


def test_an_unknown_site_is_a_clear_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="nowhere"):
        call_command("census_snapshots", "--site", "nowhere")


def test_the_demo_scheduler_records_the_census_too(network, users, db):
    placed_client(network.austin_detox, users.austin, started_at=_days_ago(3))
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    assert CensusSnapshot.objects.filter(program=network.austin_detox).exists()
    assert "midnight census" in out.getvalue()
