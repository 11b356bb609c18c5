"""Census at an instant, against a hand-computed fixture (services/census.py)."""

import datetime as dt

import pytest

from services import episodes, transfers
from services.census import census_at
from tests.factories import ClientFactory, finish_checklist

T0 = dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def history(network, users):
    """Austin detox (capacity 2) and residential (capacity 2):
    - A in detox from T0-10d; step-down requested and approved at T0-4d, arrives at T0-2d;
    - B in detox from T0-5d, still there;
    - C in detox from T0-9d, discharged at T0-7d.
    """

    def admit(at):
        client = ClientFactory(registered_site=network.austin)
        episodes.episode_admit(
            actor=users.austin,
            client=client,
            program=network.austin_detox,
            admitted_at=at,
            now=at,
        )
        return client

    a = admit(T0 - 10 * DAY)
    c = admit(T0 - 9 * DAY)
    episodes.episode_discharge(
        actor=users.austin,
        episode=c.episodes.get(),
        discharge_type="completed",
        discharged_at=T0 - 7 * DAY,
        now=T0 - 7 * DAY,
    )
    b = admit(T0 - 5 * DAY)
    move = transfers.transfer_request(
        actor=users.austin, client=a, to_program=network.austin_residential, now=T0 - 4 * DAY
    )
    transfers.transfer_approve(actor=users.austin, transfer=move, now=T0 - 4 * DAY)
    finish_checklist(move, users.austin, now=T0 - 4 * DAY)
    transfers.transfer_complete(
        actor=users.austin, transfer=move, arrived_at=T0 - 2 * DAY, now=T0 - 2 * DAY
    )
    return a, b, c


def _figures(user, at, program):
    row = next(r for r in census_at(user=user, at=at, now=T0) if r["program"] == program.pk)
    return row["occupied"], row["reserved"], row["available"]


@pytest.mark.parametrize(
    ("when", "detox", "residential"),
    [
        # (occupied, reserved, available) at each instant, counted by hand
        (T0 - 11 * DAY, (0, 0, 2), (0, 0, 2)),
        (T0 - 8 * DAY, (2, 0, 0), (0, 0, 2)),  # A and C
        (T0 - 6 * DAY, (1, 0, 1), (0, 0, 2)),  # C discharged at T0-7d
        (T0 - 3 * DAY, (2, 0, 0), (0, 1, 1)),  # A and B; A's bed held since T0-4d
        (T0 - 2 * DAY, (1, 0, 1), (1, 0, 1)),  # the instant A arrives: there, not here
        (T0, (1, 0, 1), (1, 0, 1)),
    ],
)
def test_census_at_an_instant_counts_open_stays_and_held_beds(
    network, users, history, when, detox, residential
):
    assert _figures(users.austin, when, network.austin_detox) == detox
    assert _figures(users.austin, when, network.austin_residential) == residential


def test_a_manager_sees_only_their_sites_programs(network, users, history):
    rows = census_at(user=users.manager, at=T0, now=T0)
    assert {row["site"] for row in rows} == {network.austin.pk}
    assert census_at(user=users.houston, at=T0, site_id=network.austin.pk, now=T0) == []


def test_over_capacity_is_flagged(network, users, history):
    # given a manager's override fills detox beyond its two beds
    client = ClientFactory(registered_site=network.austin)
    extra = ClientFactory(registered_site=network.austin)
    for person in (client, extra):
        episodes.episode_admit(
            actor=users.manager,
            client=person,
            program=network.austin_detox,
            capacity_override_reason="Surge",
            now=T0,
        )
    row = next(
        r
        for r in census_at(user=users.manager, at=T0, now=T0)
        if r["program"] == network.austin_detox.pk
    )
    assert (row["occupied"], row["over_capacity"], row["occupancy_percent"]) == (3, True, 150.0)
