"""Census: who is where against capacity, at an instant and day by day, and the
questions' shared rules (which programs, which days). Movement and length of
stay are in services/census_flow.py. Definitions in docs/census.md.

Census of a program at an instant `at`: its placements open at `at`
(started_at <= at < ended_at, or not ended). Reserved at `at`: transfers into
the program approved at or before `at` and neither completed, declined nor
cancelled by then, read from the transfers' event history so that a past
instant is answered as it was.

Midnight census of a site-local day D: the census at the last instant of D in
the site's time zone, that is just before the midnight that ends D. Every
figure here is computed in SQL, one query for all programs whatever their
number; sites in several time zones are handled in the same query by a CASE
on the site's zone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections.abc import Callable, Iterable
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from backend.care.models import (
    ACTIVE_TRANSFER_STATUSES,
    Placement,
    Transfer,
    TransferEvent,
    TransferStatus,
)
from backend.census.models import CensusSnapshot
from backend.network.models import LevelCode, Program, Site
from services import access
from services.capacity import count_subquery
from services.census_history import SNAPSHOT_JOB
from services.clock import day_start, local_today, resolve_now
from services.errors import InvalidInput, NotFound
from services.locks import job_lock

ENDED = (TransferStatus.COMPLETED, TransferStatus.DECLINED, TransferStatus.CANCELLED)


# --- who may read what -------------------------------------------------------------


def census_sites(user) -> list[Site]:
    """The sites with a program whose census the user may read, by name: the site picker."""
    programs = census_programs(user)
    return list(Site.objects.filter(Exists(programs.filter(site_id=OuterRef("pk")))))


def census_programs(user, *, site_id=None, level=None, closed_too=False) -> QuerySet[Program]:
    """The programs a census answer covers: the active ones (`closed_too`: all)."""
    programs = access.programs_visible_for_census(user)
    if not closed_too:
        programs = programs.filter(is_active=True)
    if site_id is not None:
        programs = programs.filter(site_id=site_id)
    if level:
        programs = programs.filter(level_id=level)
    return programs


def incoming_transfers(user, site_ids: Iterable[UUID]) -> QuerySet[Transfer]:
    """Requested and approved transfers into the programs of `site_ids` that the
    user may read the census of, soonest planned first."""
    programs = access.programs_visible_for_census(user).filter(site_id__in=list(site_ids))
    return (
        access.transfers_visible_to(user)
        .filter(status__in=ACTIVE_TRANSFER_STATUSES, to_program__in=programs)
        .select_related(
            "client",
            "from_program__site",
            "from_program__level",
            "to_program__site",
            "to_program__level",
        )
        .order_by(F("planned_for").asc(nulls_last=True), "requested_at", "id")
    )


# --- the days a question covers ----------------------------------------------------------------


MAX_DAYS = 366  # the longest range of days one question may cover


def census_site_require(user, site_id) -> None:
    """A site named in a census question must be one whose census the user may
    read. Any other answers "not found", as if it did not exist."""
    if (
        site_id is not None
        and not access.programs_visible_for_census(user).filter(site_id=site_id).exists()
    ):
        raise NotFound()


def census_range(
    *,
    date_from: dt.date | None,
    date_to: dt.date | None,
    default_days: int,
    zones: Callable[[], set[str]],
    now: dt.datetime,
) -> tuple[dt.date, dt.date]:
    """The days a question covers, with what it left out filled in: `to` is today
    (in `reference_zone(zones())`, read only when needed), `from` `default_days`
    days up to `to`. At most MAX_DAYS days. Errors name the field, `from` or `to`."""
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("Must be on or after `from`.", field="to")
    if date_to is None:
        date_to = local_today(reference_zone(zones()), now)
        if date_from and date_from > date_to:
            raise InvalidInput("Must be on or before `to` (today).", field="from")
    if date_from is None:
        date_from = date_to - dt.timedelta(days=default_days - 1)
    if (date_to - date_from).days >= MAX_DAYS:
        raise InvalidInput(f"The range is at most {MAX_DAYS} days.", field="from")
    return date_from, date_to


def reference_zone(zones: Iterable[str]) -> str:
    """The zone whose "today" a question without dates means: that of the sites
    asked about when they all keep one time zone, else UTC."""
    zones = set(zones)
    return zones.pop() if len(zones) == 1 else "UTC"


def per_zone(zones: Iterable[str], instant: Callable[[str], dt.datetime], field: str) -> Case:
    """A CASE giving, for each row, `instant(zone)` for the zone of the row's site."""
    return Case(
        *[When(**{field: zone}, then=Value(instant(zone))) for zone in sorted(set(zones))],
        output_field=DateTimeField(),
    )


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def program_zones(programs: QuerySet[Program]) -> set[str]:
    return set(programs.order_by().values_list("site__time_zone", flat=True).distinct())


def census_zones(user, *, site_id=None) -> set[str]:
    """The time zones of the sites whose census the user reads (of `site_id`)."""
    return program_zones(census_programs(user, site_id=site_id))


# --- census at an instant -----------------------------------------------------------


def _deeper(expr: Expression) -> Expression:
    """The same instant seen from one subquery further down."""
    return OuterRef(expr) if isinstance(expr, OuterRef) else expr


def _census_counts(at: Expression) -> dict[str, Expression]:
    """`occupied` and `reserved` of the outer program at the instant `at`
    (a Value, or an OuterRef to a per-program instant)."""
    open_then = Placement.objects.filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=at),
        program_id=OuterRef("pk"),
        started_at__lte=at,
    )
    event_at = _deeper(at)
    approved_by_then = TransferEvent.objects.filter(
        transfer_id=OuterRef("pk"), to_status=TransferStatus.APPROVED, at__lte=event_at
    )
    ended_by_then = TransferEvent.objects.filter(
        transfer_id=OuterRef("pk"), to_status__in=ENDED, at__lte=event_at
    )
    reserved_then = (
        Transfer.objects.filter(to_program_id=OuterRef("pk"), requested_at__lte=at)
        # A transfer that had ended by `at` (its last change is its end) holds
        # nothing: this cheap test spares the event lookups for old history.
        .exclude(status__in=ENDED, updated_at__lte=at)
        .filter(Exists(approved_by_then), ~Exists(ended_by_then))
        # An arrival recorded late (arrived_at before the completion was
        # entered): from the arrival the client occupies the bed, so it is no
        # longer held as well.
        .filter(Q(to_placement__isnull=True) | Q(to_placement__started_at__gt=at))
    )
    return {
        "occupied": count_subquery(open_then, "program_id"),
        "reserved": count_subquery(reserved_then, "to_program_id"),
    }


def _current_counts() -> dict[str, Expression]:
    """`occupied` and `reserved` now: open placements and approved transfers,
    read through the partial indexes of open rows, so history costs nothing."""
    open_now = Placement.objects.filter(program_id=OuterRef("pk"), ended_at__isnull=True)
    reserved_now = Transfer.objects.filter(
        to_program_id=OuterRef("pk"), status=TransferStatus.APPROVED
    )
    return {
        "occupied": count_subquery(open_now, "program_id"),
        "reserved": count_subquery(reserved_now, "to_program_id"),
    }


# The columns of each answer, in order (the CSV header, even of an empty answer).
PROGRAM_COLUMNS = ("program", "program_name", "site", "site_name", "level", "capacity_unit")
FIGURE_COLUMNS = (
    "capacity",
    "occupied",
    "reserved",
    "available",
    "occupancy_percent",
    "over_capacity",
)
CENSUS_COLUMNS = (*PROGRAM_COLUMNS, *FIGURE_COLUMNS)
DAILY_COLUMNS = ("day", *CENSUS_COLUMNS, "stored")
STAY_FIELDS = (
    "completed_count",
    "completed_avg_days",
    "completed_median_days",
    "open_count",
    "open_avg_days",
    "open_median_days",
)
STAY_COLUMNS = (*PROGRAM_COLUMNS, "from", "to", *STAY_FIELDS)

PROGRAM_FIELDS = (
    "id",
    "name",
    "site_id",
    "site__name",
    "site__time_zone",
    "level_id",
    "level__position",
    "level__capacity_unit",
    "capacity",
    "opened_on",
)


def program_columns(row: dict) -> dict:
    return {
        "program": row["id"],
        "program_name": row["name"],
        "site": row["site_id"],
        "site_name": row["site__name"],
        "level": row["level_id"],
        "capacity_unit": row["level__capacity_unit"],
    }


def _figures(capacity: int, occupied: int, reserved: int) -> dict:
    return {
        "capacity": capacity,
        "occupied": occupied,
        "reserved": reserved,
        "available": capacity - occupied - reserved,
        "occupancy_percent": round(100 * occupied / capacity, 1) if capacity else None,
        "over_capacity": occupied + reserved > capacity,
    }


LEVEL_ORDER = {code: index for index, code in enumerate(LevelCode.values)}  # the continuum's


def _summed(rows: list[dict]) -> dict:
    """Program rows added up, with the derived figures (available, occupancy
    percent, over capacity) computed on the sums as for one program."""
    return _figures(
        sum(row["capacity"] for row in rows),
        sum(row["occupied"] for row in rows),
        sum(row["reserved"] for row in rows),
    )


def census_totals(rows: list[dict]) -> dict:
    """Beside the program rows of `census_at`: each site's totals, each level's
    across the sites of `rows`, and everything's.

        {"sites": [{"site", "site_name", **figures}],      by site name
         "levels": [{"level", "capacity_unit", **figures}], on the continuum's order
         "all": figures}

    The census API answers them (`?totals=true`); the board and the census
    dashboard read them rather than adding rows up themselves.
    """
    by_site: dict = {}
    by_level: dict = {}
    for row in rows:
        by_site.setdefault(row["site"], []).append(row)
        by_level.setdefault(row["level"], []).append(row)
    sites = [
        {"site": site_id, "site_name": group[0]["site_name"], **_summed(group)}
        for site_id, group in by_site.items()
    ]
    levels = [
        {"level": code, "capacity_unit": group[0]["capacity_unit"], **_summed(group)}
        for code, group in by_level.items()
    ]
    return {
        "sites": sorted(sites, key=lambda s: (s["site_name"], str(s["site"]))),
        "levels": sorted(levels, key=lambda level: LEVEL_ORDER.get(level["level"], 99)),
        "all": _summed(rows),
    }


def program_order(row: dict) -> tuple:
    return (row["site__name"], row["level__position"], row["name"], str(row["id"]))


MSG_AT_IN_FUTURE = "Must not be in the future: the census is known to now."


def census_at(
    *, user, at: dt.datetime | None = None, site_id=None, level=None, now=None
) -> list[dict]:
    """One row per visible program (of `site_id`, if given) with its census at `at`
    (default: now, read from the open rows only). A future `at` is an error."""
    if at is not None and at > resolve_now(now):
        raise InvalidInput(MSG_AT_IN_FUTURE, field="at")
    return census_rows(census_programs(user, site_id=site_id, level=level), at=at)


def census_rows(programs: QuerySet[Program], *, at: dt.datetime | None = None) -> list[dict]:
    """The census rows of these programs at `at` (default now): the one rule
    behind the dashboard, the census API and partners' availability."""
    counts = _current_counts() if at is None else _census_counts(Value(at))
    rows = programs.annotate(**counts)
    rows = sorted(rows.values(*PROGRAM_FIELDS, "occupied", "reserved"), key=program_order)
    return [
        {**program_columns(r), **_figures(r["capacity"], r["occupied"], r["reserved"])}
        for r in rows
    ]


# --- midnight census, day by day ----------------------------------------------------


def _local_day(field: str, zones: Iterable[str], zone_field: str) -> Case:
    """The site-local calendar day of the instant `field`, in the zone of the row's site."""
    return Case(
        *[
            When(**{zone_field: zone}, then=TruncDate(field, tzinfo=ZoneInfo(zone)))
            for zone in sorted(set(zones))
        ],
        output_field=DateField(),
    )


def _day_counts(qs: QuerySet, group: str, day: Expression) -> list[dict]:
    return list(qs.annotate(day=day).values(group, "day").annotate(n=Count("pk")).order_by())


def _compute_days(
    program_rows: list[dict], days: list[dt.date], progress: Callable[[str], None] | None = None
) -> dict[tuple, tuple[int, int]]:
    """Midnight census of `days` for the programs of `program_rows`, computed from
    the history: {(program id, day): (occupied, reserved)}.

    A stay counts on day D when it began before the end of D and had not ended
    by then, that is when its first local day <= D < its last local day. So
    the census of each day is the number of stays begun by then less those
    ended by then, among the stays that overlap the days asked for. Four grouped
    queries count them per program and local day (stays begun and ended, holds
    begun and ended), whatever the number of days, programs and sites; the
    running sums over the days are then added up here."""
    if not program_rows or not days:
        return {}
    first, last = days[0], days[-1]
    zones = {r["site__time_zone"] for r in program_rows}
    ids = [r["id"] for r in program_rows]
    # lo: the end of the first day; hi: the end of the last day (at each site).
    after_first, after_last = first + dt.timedelta(days=1), last + dt.timedelta(days=1)

    def bounds(qs: QuerySet, zone_field: str) -> QuerySet:
        return qs.alias(
            lo=per_zone(zones, lambda z: day_start(after_first, z), zone_field),
            hi=per_zone(zones, lambda z: day_start(after_last, z), zone_field),
        )

    # The same tests against constants (the earliest zone's lo, the latest
    # zone's hi) change no answer, but let PostgreSQL read the range's rows from
    # the indexes on (program, ended_at) instead of every row of the history.
    lo_min = min(day_start(after_first, z) for z in zones)
    hi_max = max(day_start(after_last, z) for z in zones)
    zone_of_stay = "program__site__time_zone"
    stays = bounds(
        Placement.objects.filter(
            Q(ended_at__isnull=True) | Q(ended_at__gte=lo_min),
            program_id__in=ids,
            started_at__lt=hi_max,
        ),
        zone_of_stay,
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gte=F("lo")), started_at__lt=F("hi"))
    began = _day_counts(stays, "program_id", _local_day("started_at", zones, zone_of_stay))
    ended = _day_counts(
        stays.filter(ended_at__lt=F("hi")),
        "program_id",
        _local_day("ended_at", zones, zone_of_stay),
    )

    # A hold: from the approval to the end of the transfer or, if earlier, the
    # client's arrival (an arrival entered late), as in `census_at`.
    zone_of_hold = "to_program__site__time_zone"
    approved_at = TransferEvent.objects.filter(
        transfer_id=OuterRef("pk"), to_status=TransferStatus.APPROVED
    ).order_by("at")
    ended_at = TransferEvent.objects.filter(
        transfer_id=OuterRef("pk"), to_status__in=ENDED
    ).order_by("at")
    holds = (
        bounds(
            Transfer.objects.filter(to_program_id__in=ids, requested_at__lt=hi_max).exclude(
                status__in=ENDED, updated_at__lt=lo_min
            ),
            zone_of_hold,
        )
        .filter(requested_at__lt=F("hi"))
        .exclude(status__in=ENDED, updated_at__lt=F("lo"))
        .alias(
            held_from=Subquery(approved_at.values("at")[:1]),
            held_to=Coalesce("to_placement__started_at", Subquery(ended_at.values("at")[:1])),
        )
        .filter(held_from__isnull=False, held_from__lt=F("hi"))
        .filter(Q(held_to__isnull=True) | Q(held_to__gte=F("lo")))
    )
    held = _day_counts(holds, "to_program_id", _local_day("held_from", zones, zone_of_hold))
    released = _day_counts(
        holds.filter(held_to__lt=F("hi")),
        "to_program_id",
        _local_day("held_to", zones, zone_of_hold),
    )

    # Running sums: a count begun before the first day starts on it.
    delta: dict[tuple, list[int]] = {}
    for rows, column, sign, key in (
        (began, 0, 1, "program_id"),
        (ended, 0, -1, "program_id"),
        (held, 1, 1, "to_program_id"),
        (released, 1, -1, "to_program_id"),
    ):
        for row in rows:
            day = max(row["day"], first)
            delta.setdefault((row[key], day), [0, 0])[column] += sign * row["n"]
    wanted, out = set(days), {}
    for pid in ids:
        running = [0, 0]
        for day in _days(first, last):
            change = delta.get((pid, day))
            if change:
                running = [running[0] + change[0], running[1] + change[1]]
            if day in wanted:
                out[(pid, day)] = (running[0], running[1])
    if progress:
        progress(f"computed {first} to {last} ({len(days)} days)")
    return out


def _program_days(row: dict, first: dt.date, last: dt.date) -> list[dt.date]:
    """The days first..last on which the program ran: none before it opened."""
    if row["opened_on"] is not None:
        first = max(first, row["opened_on"])
    return _days(first, last) if first <= last else []


def _complete_days(row: dict, date_from: dt.date, date_to: dt.date, now: dt.datetime) -> list:
    """The days of the range, since the program opened, whose midnight has passed at its site."""
    yesterday = local_today(row["site__time_zone"], now) - dt.timedelta(days=1)
    return _program_days(row, date_from, min(date_to, yesterday))


def census_daily(
    *,
    user,
    date_from: dt.date,
    date_to: dt.date,
    site_id=None,
    level=None,
    now: dt.datetime | None = None,
) -> list[dict]:
    """Midnight census per site-local day and program, for the days of the range
    that have ended at the program's site. Stored figures (the nightly
    snapshots) are used where they exist and are not stale; the other days are
    computed from the history, for the programs that have such days only. A
    stale day keeps the capacity it was recorded with.

    A program closed since (not active) keeps the days that were stored while it
    ran, so that closing a program does not rewrite the past; it has no other days.
    """
    now = resolve_now(now)
    stored_in_range = CensusSnapshot.objects.filter(day__gte=date_from, day__lte=date_to)
    programs = census_programs(user, site_id=site_id, level=level, closed_too=True).filter(
        Q(is_active=True) | Exists(stored_in_range.filter(program_id=OuterRef("pk")))
    )
    program_rows = list(programs.values(*PROGRAM_FIELDS, "is_active"))
    # {program: {day: (program, day, occupied, reserved, capacity, stale)}}, read
    # in the order of the unique index (program, day) and grouped as it comes:
    # each row's key is a date, each program's UUID is hashed once.
    stored_rows = (
        stored_in_range.filter(program_id__in=[r["id"] for r in program_rows])
        .order_by("program_id", "day")
        .values_list("program_id", "day", "occupied", "reserved", "capacity", "stale")
    )
    snapshots = {
        pid: {row[1]: row for row in group}
        for pid, group in itertools.groupby(stored_rows, key=operator.itemgetter(0))
    }
    wanted, missing = {}, {}
    for row in program_rows:
        pid, stored = row["id"], snapshots.get(row["id"], {})
        days = _complete_days(row, date_from, date_to, now)
        if not row["is_active"]:
            days = [day for day in days if day in stored]
        wanted[pid] = days
        missing[pid] = [day for day in days if day not in stored or stored[day][5]]
    computed = _compute_days(
        [r for r in program_rows if missing[r["id"]]],
        sorted({day for days in missing.values() for day in days}),
    )

    out = []
    for row in sorted(program_rows, key=program_order):
        pid, columns = row["id"], program_columns(row)
        stored = snapshots.get(pid, {})
        for day in wanted[pid]:
            snapshot = stored.get(day)
            if snapshot is not None and not snapshot[5]:
                figures, fresh = _figures(snapshot[4], snapshot[2], snapshot[3]), True
            else:
                capacity = row["capacity"] if snapshot is None else snapshot[4]
                figures, fresh = _figures(capacity, *computed[(pid, day)]), False
            out.append({"day": day, **columns, **figures, "stored": fresh})
    out.sort(key=lambda r: r["day"])  # stable: by day, then site, level, program
    return out


# --- stored figures: the nightly snapshot and corrections of the history -------------

SNAPSHOT_CHUNK_DAYS = 92  # days recorded per transaction by a long backfill


def census_history_first_day() -> dt.date | None:
    """The first day any site's history can have someone in care: the UTC day
    before the first placement began (None without placements)."""
    first = Placement.objects.order_by("started_at").values_list("started_at", flat=True).first()
    return None if first is None else first.astimezone(dt.UTC).date() - dt.timedelta(days=1)


def _chunks(first: dt.date, last: dt.date, size: int) -> list[tuple[dt.date, dt.date]]:
    out = []
    while first <= last:
        end = min(last, first + dt.timedelta(days=size - 1))
        out.append((first, end))
        first = end + dt.timedelta(days=1)
    return out


def census_snapshot_fill(
    *,
    now: dt.datetime | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    site_ids: Iterable | None = None,
    recompute: bool = False,
    wait: bool = False,
    progress: Callable[[str], None] | None = None,
) -> int | None:
    """Record the midnight census of every active program for each ended day of
    the window that has no stored figure yet, and record again every stale
    figure of those programs (of any day); returns the rows written.

    The window is the last CENSUS_SNAPSHOT_BACKFILL_DAYS days up to yesterday
    at each site (or `date_from`..`date_to`), so a missed night (or week) is
    filled in by the next run. A long window is recorded SNAPSHOT_CHUNK_DAYS
    days per transaction, so an interrupted backfill keeps what it wrote and
    the next run goes on from there. Idempotent: a (program, day) is written
    once. One run at a time records: a second, concurrent run returns None at
    once (or, with `wait`, waits its turn), and a unique constraint backs it.
    `recompute` records the figures of the window again, keeping the capacity
    each day was recorded with.
    """
    now = resolve_now(now)
    programs = Program.objects.filter(is_active=True)
    if site_ids is not None:
        programs = programs.filter(site_id__in=list(site_ids))
    program_rows = list(programs.values(*PROGRAM_FIELDS))
    if not program_rows:
        return 0
    backfill = dt.timedelta(days=settings.CENSUS_SNAPSHOT_BACKFILL_DAYS - 1)
    wanted = {}
    for row in program_rows:
        yesterday = local_today(row["site__time_zone"], now) - dt.timedelta(days=1)
        last = min(date_to or yesterday, yesterday)
        wanted[row["id"]] = _program_days(row, date_from or (yesterday - backfill), last)
    ids = list(wanted)
    if recompute:  # the stale figures are recorded again below, in place
        first_wanted = min((d[0] for d in wanted.values() if d), default=dt.date.max)
        CensusSnapshot.objects.filter(
            program_id__in=ids, day__gte=date_from or first_wanted, day__lte=date_to or dt.date.max
        ).update(stale=True)

    days = sorted({d for ds in wanted.values() for d in ds})
    written = 0
    chunks = _chunks(days[0], days[-1], SNAPSHOT_CHUNK_DAYS) if days else []
    for n, (first, last) in enumerate(chunks, 1):
        with transaction.atomic():
            if not job_lock(SNAPSHOT_JOB, wait=wait):
                return None if n == 1 else written  # another run is recording
            done = set(
                CensusSnapshot.objects.filter(
                    program_id__in=ids, day__gte=first, day__lte=last
                ).values_list("program_id", "day")
            )
            todo = {
                pid: [d for d in ds if first <= d <= last and (pid, d) not in done]
                for pid, ds in wanted.items()
            }
            written += _snapshots_record(program_rows, todo, now)
        if progress:
            count = sum(map(len, todo.values()))
            progress(f"{first} to {last}: recorded {count} program-days ({n}/{len(chunks)})")
    with transaction.atomic():
        if not job_lock(SNAPSHOT_JOB, wait=wait):
            return written or None
        refreshed = _snapshots_refresh(program_rows, now)
    if progress:
        progress(f"recorded {refreshed} stale program-days again")
    return written + refreshed


def _snapshots_record(program_rows: list[dict], todo: dict, now: dt.datetime) -> int:
    """Insert the figures of the (program, day)s of `todo`, computed from the history."""
    computed = _compute_days(program_rows, sorted({d for days in todo.values() for d in days}))
    capacity = {r["id"]: r["capacity"] for r in program_rows}
    rows = [
        CensusSnapshot(
            program_id=pid,
            day=day,
            occupied=computed[(pid, day)][0],
            reserved=computed[(pid, day)][1],
            capacity=capacity[pid],
            recorded_at=now,
        )
        for pid, days in todo.items()
        for day in days
    ]
    CensusSnapshot.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


def _snapshots_refresh(program_rows: list[dict], now: dt.datetime) -> int:
    """Record again the stale figures of these programs, in place (each keeps
    the capacity it was recorded with). Their rows are locked first, so a
    change of the history marking them stale meanwhile waits, then marks them
    stale again."""
    stale = list(
        CensusSnapshot.objects.select_for_update()
        .filter(program_id__in=[r["id"] for r in program_rows], stale=True)
        .order_by("program_id", "day")
    )
    if not stale:
        return 0
    with_stale = {s.program_id for s in stale}
    computed = _compute_days(
        [r for r in program_rows if r["id"] in with_stale], sorted({s.day for s in stale})
    )
    for snapshot in stale:
        snapshot.occupied, snapshot.reserved = computed[(snapshot.program_id, snapshot.day)]
        snapshot.stale, snapshot.recorded_at = False, now
    CensusSnapshot.objects.bulk_update(
        stale, ["occupied", "reserved", "stale", "recorded_at"], batch_size=2000
    )
    return len(stale)
