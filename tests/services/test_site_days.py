"""Rules about a day use the day at the site, not UTC's.

Between midnight UTC and midnight in Texas (18:00 to 24:00 in Chicago), UTC is
already on tomorrow; east of UTC it is the other way round. Each test puts
`now` at such an instant and checks a rule that once read the UTC date.
"""

import datetime as dt

import pytest

from services.access import Role, role_grant
from services.clients import client_create, client_update
from services.clock import day_start, local_today, site_today
from services.episodes import episode_admit
from services.errors import (
    MSG_BEFORE_BIRTH,
    MSG_BORN_AFTER_ADMISSION,
    MSG_DOB_RANGE,
    MSG_PLANNED_IN_PAST,
    InvalidInput,
)
from services.transfers import transfer_request
from tests.factories import ClientFactory, ProgramFactory, SiteFactory, placed_client

# 21:30 on 7 December in Chicago, 03:30 on 8 December in UTC.
EVENING_IN_TEXAS = dt.datetime(2026, 12, 8, 3, 30, tzinfo=dt.UTC)
# 06:30 on 8 December in Tokyo, 21:30 on 7 December in UTC.
MORNING_IN_TOKYO = dt.datetime(2026, 12, 7, 21, 30, tzinfo=dt.UTC)
DEC_7, DEC_8 = dt.date(2026, 12, 7), dt.date(2026, 12, 8)


@pytest.fixture
def tokyo(network, users):
    site = SiteFactory(code="tokyo", name="Tokyo", time_zone="Asia/Tokyo")
    program = ProgramFactory(site=site, level=network.austin_iop.level, capacity=5)
    role_grant(user=users.austin, role=Role.CARE_COORDINATOR, site=site)
    return program


def test_clock_helpers_give_the_day_at_the_site(network):
    assert site_today(network.austin, EVENING_IN_TEXAS) == DEC_7
    assert local_today("UTC", EVENING_IN_TEXAS) == DEC_8
    # Chicago's midnight is 06:00 UTC in winter and 05:00 UTC in summer.
    assert day_start(DEC_8, "America/Chicago") == dt.datetime(2026, 12, 8, 6, tzinfo=dt.UTC)
    assert day_start(dt.date(2026, 7, 1), "America/Chicago") == dt.datetime(
        2026, 7, 1, 5, tzinfo=dt.UTC
    )


def test_a_birth_date_of_utcs_today_is_still_in_the_future_in_texas(network, users):
    # given the evening of 7 December at Austin (8 December in UTC)
    # when the coordinator registers a client born on 8 December
    with pytest.raises(InvalidInput) as refused:
        client_create(
            actor=users.austin,
            first_name="Ada",
            last_name="Day",
            date_of_birth=DEC_8,
            registered_site=network.austin,
            now=EVENING_IN_TEXAS,
        )

    # then it is refused: that day has not come at Austin
    assert (refused.value.field, refused.value.message) == ("date_of_birth", MSG_DOB_RANGE)


def test_a_birth_date_of_the_sites_today_is_accepted_east_of_utc(network, users, tokyo):
    # given the morning of 8 December in Tokyo (still 7 December in UTC)
    # when a baby born there today is registered
    client = client_create(
        actor=users.austin,
        first_name="Kai",
        last_name="Asa",
        date_of_birth=DEC_8,
        registered_site=tokyo.site,
        now=MORNING_IN_TOKYO,
    )

    # then it is accepted, and so is a correction to the same day
    assert client.date_of_birth == DEC_8
    client_update(
        actor=users.austin, client=client, changes={"date_of_birth": DEC_8}, now=MORNING_IN_TOKYO
    )


def test_an_admission_on_the_day_of_birth_at_the_site_is_accepted(network, users, tokyo):
    # given a client born on 8 December
    client = ClientFactory(registered_site=tokyo.site, date_of_birth=DEC_8)

    # when they are admitted at Tokyo on the morning of 8 December (7 December in UTC)
    episode = episode_admit(
        actor=users.austin,
        client=client,
        program=tokyo,
        admitted_at=MORNING_IN_TOKYO,
        now=MORNING_IN_TOKYO,
    )

    # then the admission stands
    assert episode.admitted_at == MORNING_IN_TOKYO


def test_an_admission_the_evening_before_the_birth_date_is_refused(network, users):
    # given a client whose date of birth is 8 December
    client = ClientFactory(registered_site=network.austin, date_of_birth=DEC_8)

    # when they are admitted at Austin on the evening of 7 December (8 December in UTC)
    with pytest.raises(InvalidInput) as refused:
        episode_admit(
            actor=users.austin,
            client=client,
            program=network.austin_iop,
            admitted_at=EVENING_IN_TEXAS,
            now=EVENING_IN_TEXAS,
        )

    # then it is refused, naming admitted_at
    assert (refused.value.field, refused.value.message) == ("admitted_at", MSG_BEFORE_BIRTH)


def test_a_birth_date_after_the_first_admission_day_at_the_site_is_refused(network, users):
    # given a client admitted at Austin on the evening of 7 December (8 December in UTC)
    client = placed_client(
        network.austin_iop, users.austin, started_at=EVENING_IN_TEXAS - dt.timedelta(hours=1)
    )

    # when their date of birth is corrected to 8 December
    with pytest.raises(InvalidInput) as refused:
        client_update(
            actor=users.austin,
            client=client,
            changes={"date_of_birth": DEC_8},
            now=EVENING_IN_TEXAS + dt.timedelta(days=2),
        )

    # then it is refused: they were admitted on 7 December at Austin
    assert (refused.value.field, refused.value.message) == (
        "date_of_birth",
        MSG_BORN_AFTER_ADMISSION,
    )


def test_a_transfer_planned_for_the_sites_today_is_accepted_after_utc_midnight(network, users):
    # given a client in Austin's IOP, on the evening of 7 December at Austin
    client = placed_client(network.austin_iop, users.austin)

    # when a transfer is planned for "yesterday" by UTC's calendar: Austin's today
    transfer = transfer_request(
        actor=users.austin,
        client=client,
        to_program=network.austin_residential,
        planned_for=DEC_7,
        now=EVENING_IN_TEXAS,
    )

    # then it is accepted, while the day before is not
    assert transfer.planned_for == DEC_7
    with pytest.raises(InvalidInput) as refused:
        transfer_request(
            actor=users.austin,
            client=placed_client(network.austin_iop, users.austin),
            to_program=network.austin_residential,
            planned_for=DEC_7 - dt.timedelta(days=1),
            now=EVENING_IN_TEXAS,
        )
    assert (refused.value.field, refused.value.message) == ("planned_for", MSG_PLANNED_IN_PAST)
