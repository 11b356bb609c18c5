"""One place to read the time, and to turn an instant into a site's day.

Instants are stored in UTC. A day ("today", "yesterday", the day a stay began)
is always a day at a site, in the site's own time zone: between midnight UTC
and midnight in Texas, UTC is already on tomorrow while every Texan site is
still on today. Services take an optional `now` so that tests control the
clock; docs/architecture.md, "Time", says how to write a test about "today".
"""

import datetime as dt
from collections import defaultdict
from uuid import UUID
from zoneinfo import ZoneInfo

from django.utils import timezone

from backend.network.models import Site
from services.errors import MSG_TIME_IN_FUTURE, InvalidInput


def resolve_now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else timezone.now()


def check_not_future(value: dt.datetime, now: dt.datetime, field: str) -> None:
    if value > now:
        raise InvalidInput(MSG_TIME_IN_FUTURE, field=field)


def local_today(zone: str, now: dt.datetime) -> dt.date:
    """The day it is at `now` in the time zone named `zone`."""
    return now.astimezone(ZoneInfo(zone)).date()


def site_today(site, now: dt.datetime) -> dt.date:
    """The day it is at `now` at `site` (anything with a `time_zone`)."""
    return local_today(site.time_zone, now)


def day_start(day: dt.date, zone: str) -> dt.datetime:
    """The instant a site-local day begins (its midnight), in UTC."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def sites_by_local_day(now: dt.datetime) -> dict[dt.date, list[UUID]]:
    """Which sites are on which calendar day at `now` (one small query: sites
    are a handful, and they share fewer zones still)."""
    zones: dict[str, list[UUID]] = defaultdict(list)
    for site_id, zone in Site.objects.values_list("id", "time_zone"):
        zones[zone].append(site_id)
    days: dict[dt.date, list[UUID]] = defaultdict(list)
    for zone, site_ids in zones.items():
        days[local_today(zone, now)] += site_ids
    return dict(days)


def last_days(zone: str, days: int, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The last `days` site-local days of `zone` up to and including its today at `now`."""
    today = local_today(zone, now)
    return today - dt.timedelta(days=days - 1), today
