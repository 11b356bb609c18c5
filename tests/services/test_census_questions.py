"""The rules of a census question, before any figure: which site it may name
(census_site_require) and which days it covers (census_range)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from services.census import (
    MAX_DAYS,
    MSG_AT_IN_FUTURE,
    census_at,
    census_range,
    census_site_require,
)
from services.errors import InvalidInput, NotFound
from tests.factories import SiteFactory

# 03:00 UTC on 25 Nov: still the 24th in Chicago, already the 25th in UTC and Tokyo.
NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
CHICAGO = "America/Chicago"


def never() -> set[str]:
    raise AssertionError("the zones are read only when `to` is left out")


def days(date_from=None, date_to=None, *, default_days=30, zones=never):
    return census_range(
        date_from=date_from, date_to=date_to, default_days=default_days, zones=zones, now=NOW
    )


def test_both_days_given_are_kept_and_the_zones_not_read():
    assert days(dt.date(2026, 11, 1), dt.date(2026, 11, 3)) == (
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 3),
    )


def test_a_range_of_one_day_is_allowed():
    one = dt.date(2026, 11, 1)
    assert days(one, one) == (one, one)


def test_to_before_from_is_an_error_naming_to():
    with pytest.raises(InvalidInput) as error:
        days(dt.date(2026, 11, 3), dt.date(2026, 11, 1))
    assert error.value.field == "to"


def test_to_left_out_is_today_where_the_sites_are():
    assert days(dt.date(2026, 11, 20), zones=lambda: {CHICAGO})[1] == dt.date(2026, 11, 24)
    # sites in two zones have no one today: UTC's
    assert days(dt.date(2026, 11, 20), zones=lambda: {CHICAGO, "Asia/Tokyo"})[1] == dt.date(
        2026, 11, 25
    )


def test_from_left_out_is_default_days_up_to_to():
    assert days(None, dt.date(2026, 11, 30), default_days=30)[0] == dt.date(2026, 11, 1)
    assert days(None, dt.date(2026, 11, 30), default_days=1)[0] == dt.date(2026, 11, 30)


def test_both_left_out_end_today():
    assert days(zones=lambda: {CHICAGO}, default_days=7) == (
        dt.date(2026, 11, 18),
        dt.date(2026, 11, 24),
    )


def test_from_after_today_with_to_left_out_is_an_error_naming_from():
    with pytest.raises(InvalidInput) as error:
        days(dt.date(2026, 11, 25), zones=lambda: {CHICAGO})  # the 25th has not begun there
    assert error.value.field == "from"


def test_at_most_max_days():
    last = dt.date(2026, 11, 30)
    longest = last - dt.timedelta(days=MAX_DAYS - 1)
    assert days(longest, last) == (longest, last)
    with pytest.raises(InvalidInput) as error:
        days(longest - dt.timedelta(days=1), last)
    assert error.value.field == "from"
    with pytest.raises(InvalidInput):
        days(None, last, default_days=MAX_DAYS + 1)


def test_no_site_named_needs_no_query(db, users):
    with CaptureQueriesContext(connection) as queries:
        census_site_require(users.manager, None)
    assert len(queries) == 0


def test_a_site_of_ones_own_may_be_named(network, users):
    census_site_require(users.manager, network.austin.pk)
    census_site_require(users.admin, network.houston.pk)


def test_another_site_or_none_at_all_is_not_found(network, users):
    with pytest.raises(NotFound):
        census_site_require(users.manager, network.houston.pk)
    with pytest.raises(NotFound):
        census_site_require(users.admin, SiteFactory.build().pk)  # no such site


def test_a_census_in_the_future_is_an_error_naming_at(network, users):
    with pytest.raises(InvalidInput) as error:
        census_at(user=users.manager, at=NOW + dt.timedelta(seconds=1), now=NOW)
    assert error.value.field == "at"
    assert error.value.message == MSG_AT_IN_FUTURE
    # the instant itself is the present, and may be asked about
    assert census_at(user=users.manager, at=NOW, now=NOW)
