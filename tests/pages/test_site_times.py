"""Times on the workspace pages are written as the site's clock shows them."""

import datetime as dt

from django.template import Context, Template

UTC = dt.UTC


def render(source: str, **context) -> str:
    return Template("{% load workspaces %}" + source).render(Context(context))


def test_the_date_filter_writes_a_site_time_on_the_sites_clock():
    # given 02:00 UTC on 8 December, which is 20:00 on the 7th in Chicago
    instant = dt.datetime(2026, 12, 8, 2, 0, tzinfo=UTC)

    # when a page writes it at a Chicago site
    written = render('{{ t|local:"America/Chicago"|date:"Y-m-d H:i T" }}', t=instant)

    # then the day and the hour are Chicago's, not UTC's
    assert written == "2026-12-07 20:00 CST"


def test_a_site_time_keeps_the_zone_across_daylight_saving():
    # given an instant in July, when Chicago is on daylight time
    instant = dt.datetime(2027, 7, 1, 4, 30, tzinfo=UTC)

    # when it is written for the site
    written = render('{{ t|local:"America/Chicago"|date:"Y-m-d H:i" }}', t=instant)

    # then it is five hours behind UTC, the day before
    assert written == "2027-06-30 23:30"


def test_no_instant_writes_nothing():
    assert render('{{ t|local:"America/Chicago"|date:"Y-m-d" }}', t=None) == ""
