"""How clients flow through the programs over a range of site-local days:
admissions, discharges by type, transfers in and out (movement), and how long
stays last (length of stay). Built on the census questions' rules
(services/census.py); definitions in docs/census.md.

Every figure is computed in SQL, a constant number of queries whatever the
number of programs, days and time zones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db.models import (
    Avg,
    Count,
    DurationField,
    Expression,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import RowNumber

from backend.care.models import (
    DischargeType,
    Placement,
    Transfer,
    TransferStatus,
)
from services.census import (
    PROGRAM_COLUMNS,
    PROGRAM_FIELDS,
    census_programs,
    program_columns,
    program_order,
)
from services.clock import day_start, last_days, resolve_now

# --- movement -----------------------------------------------------------------------


def _within(
    field: str,
    program_field: str,
    program_rows: list[dict],
    span_of: Callable[[str], tuple[dt.date, dt.date]],
) -> Q:
    """`field` within its program's range of site-local days: for each time zone
    of the programs, `program_field` one of that zone's programs and `field`
    from the midnight that begins the zone's first day to the one that ends its
    last. Constants per zone (no join to the site, no CASE), so PostgreSQL reads
    only the range's rows from an index on (program, `field`)."""
    by_zone: dict[str, list] = {}
    for row in program_rows:
        by_zone.setdefault(row["site__time_zone"], []).append(row["id"])
    if not by_zone:
        return Q(pk__in=[])
    within = Q()
    for zone, ids in sorted(by_zone.items()):
        first, last = span_of(zone)
        within |= Q(
            **{
                f"{program_field}__in": ids,
                f"{field}__gte": day_start(first, zone),
                f"{field}__lt": day_start(last + dt.timedelta(days=1), zone),
            }
        )
    return within


def _earliest(
    program_rows: list[dict], span_of: Callable[[str], tuple[dt.date, dt.date]]
) -> dt.datetime:
    """The first instant of any program's range (the earliest zone's first midnight)."""
    zones = {row["site__time_zone"] for row in program_rows}
    return min(
        (day_start(span_of(zone)[0], zone) for zone in zones),
        default=dt.datetime.max.replace(tzinfo=dt.UTC),
    )


MOVEMENT_FIELDS = (
    "admissions",
    "discharges",
    *(f"discharges_{t}" for t in DischargeType.values),
    "transfers_in",
    "transfers_out",
    "step_downs",
    "step_ups",
    "lateral",
    "site_changes",
)
MOVEMENT_COLUMNS = (*PROGRAM_COLUMNS, "from", "to", *MOVEMENT_FIELDS)


def census_movement(
    *,
    user,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    days: int | None = None,
    now: dt.datetime | None = None,
    site_id=None,
    level=None,
) -> list[dict]:
    """Per program, what moved during a range of site-local days: admissions,
    discharges (in all and by type), completed transfers in and out, and the
    transfers out by direction. Four queries in all (the programs, then three
    grouped counts: stays begun, stays ended by discharge, transfers out),
    whatever the number of programs, sites and zones.

    The range is either `date_from`..`date_to` (the same days at every site), or
    `days` (with `now`, default the current instant): the last `days` site-local
    days up to and including today at each program's site, so that sites in
    different time zones each count their own today. Each row's `from` and `to`
    are its site's days."""
    if days is not None:
        if date_from is not None or date_to is not None:
            raise ValueError("census_movement: give `days` or `date_from`/`date_to`, not both.")
        if days < 1:
            raise ValueError("census_movement: `days` must be 1 or more.")
        now = resolve_now(now)
    elif date_from is None or date_to is None:
        raise ValueError("census_movement: give `days`, or both `date_from` and `date_to`.")

    programs = census_programs(user, site_id=site_id, level=level)
    program_rows = sorted(programs.values(*PROGRAM_FIELDS), key=program_order)

    def span_of(zone: str) -> tuple[dt.date, dt.date]:
        return last_days(zone, days, now) if days is not None else (date_from, date_to)

    earliest = _earliest(program_rows, span_of)
    # Stays begun in the range: an admission, or the arrival of a transfer
    # (completed transfers are exactly the placements opened by one). A
    # completion is recorded at or after the arrival, so only transfers
    # completed since the range began are joined.
    begun = Placement.objects.annotate(
        arrival=FilteredRelation("transfer_in", condition=Q(transfer_in__updated_at__gte=earliest))
    ).filter(_within("started_at", "program_id", program_rows, span_of))
    # Episodes discharged in the range, at the program of their last stay.
    discharged = Placement.objects.filter(
        _within("ended_at", "program_id", program_rows, span_of),
        episode__discharged_at=F("ended_at"),
        episode__discharged_at__gte=earliest,
    )
    # Completed transfers out: the old stay ends at the arrival, in the sending site's days.
    # (The range is tested on the old placement's own columns, which are the
    # transfer's from_program, so that PostgreSQL reads them from its index.)
    moved = Transfer.objects.filter(
        _within("from_placement__ended_at", "from_placement__program_id", program_rows, span_of),
        from_program_id__in=[r["id"] for r in program_rows],
        status=TransferStatus.COMPLETED,
        updated_at__gte=earliest,
    )
    same_level = Q(to_program__level_id=F("from_program__level_id"))
    same_site = Q(to_program__site_id=F("from_program__site_id"))
    figures: dict = {r["id"]: dict.fromkeys(MOVEMENT_FIELDS, 0) for r in program_rows}
    for grouped, key in (
        (
            begun.values("program_id").annotate(
                admissions=Count("pk", filter=Q(arrival__isnull=True)),
                transfers_in=Count("pk", filter=Q(arrival__isnull=False)),
            ),
            "program_id",
        ),
        (
            discharged.values("program_id").annotate(
                discharges=Count("pk"),
                **{
                    f"discharges_{t}": Count("pk", filter=Q(episode__discharge_type=t))
                    for t in DischargeType.values
                },
            ),
            "program_id",
        ),
        (
            moved.values("from_program_id").annotate(
                transfers_out=Count("pk"),
                step_downs=Count(
                    "pk",
                    filter=Q(to_program__level__intensity__lt=F("from_program__level__intensity")),
                ),
                step_ups=Count(
                    "pk",
                    filter=Q(to_program__level__intensity__gt=F("from_program__level__intensity")),
                ),
                lateral=Count("pk", filter=same_level & same_site),
                site_changes=Count("pk", filter=same_level & ~same_site),
            ),
            "from_program_id",
        ),
    ):
        for row in grouped.order_by():
            figures[row.pop(key)].update(row)
    out = []
    for r in program_rows:
        first, last = span_of(r["site__time_zone"])
        out.append({**program_columns(r), "from": first, "to": last, **figures[r["id"]]})
    return out


# --- length of stay -----------------------------------------------------------------

SECONDS_PER_DAY = 86400


def _days_of(duration: dt.timedelta | None) -> float | None:
    return None if duration is None else round(duration.total_seconds() / SECONDS_PER_DAY, 1)


def _stay_figures(placements: QuerySet, duration: Expression, keys: list[str]) -> dict:
    """{group key: (count, average, median)} of `duration` over `placements`,
    grouped by `keys`, from one query (so one snapshot): window functions give
    each stay its rank, its group's size and mean; only each group's middle
    stays (one or two) come back."""
    group = [F(k) for k in keys]
    middles = (
        placements.order_by()
        .annotate(stay=duration)
        .annotate(
            rank=Window(RowNumber(), partition_by=group, order_by=[F("stay").asc(), F("pk").asc()]),
            size=Window(Count("pk"), partition_by=group),
            mean=Window(Avg("stay"), partition_by=group),
        )
        .filter(Q(rank=(F("size") + 1) / 2) | Q(rank=(F("size") + 2) / 2))
        .values(*keys, "stay", "size", "mean")
    )
    found: dict[tuple, list] = {}
    for row in middles:
        found.setdefault(tuple(row[k] for k in keys), []).append(row)
    out = {}
    for key, rows in found.items():
        median = sum((r["stay"] for r in rows), dt.timedelta()) / len(rows)
        out[key] = (rows[0]["size"], _days_of(rows[0]["mean"]), _days_of(median))
    return out


def length_of_stay(
    *,
    user,
    date_from: dt.date,
    date_to: dt.date,
    site_id=None,
    level=None,
    by: str = "program",
    now: dt.datetime | None = None,
) -> list[dict]:
    """Length of stay in days, per program (or per site and level with by="level"):
    count, average and median of the placements completed during the site-local
    days `date_from`..`date_to`, and of the stays still open now (their length
    so far). Three queries (the programs, then the completed and the open
    stays), whatever the number of programs."""
    now = resolve_now(now)
    programs = census_programs(user, site_id=site_id, level=level)
    keys = ["program_id"] if by == "program" else ["program__site_id", "program__level_id"]
    program_rows = sorted(programs.values(*PROGRAM_FIELDS), key=program_order)
    ended = Placement.objects.filter(
        _within("ended_at", "program_id", program_rows, lambda zone: (date_from, date_to))
    )
    completed = _stay_figures(
        ended,
        ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField()),
        keys,
    )
    current = _stay_figures(
        Placement.objects.filter(
            program_id__in=[r["id"] for r in program_rows],
            ended_at__isnull=True,
            started_at__lte=now,
        ),
        ExpressionWrapper(Value(now) - F("started_at"), output_field=DurationField()),
        keys,
    )

    out, seen = [], set()
    for row in program_rows:
        key = (row["id"],) if by == "program" else (row["site_id"], row["level_id"])
        if key in seen:
            continue
        seen.add(key)
        done = completed.get(key, (0, None, None))
        still = current.get(key, (0, None, None))
        columns = program_columns(row)
        if by != "program":
            columns.update(program=None, program_name="")
        out.append(
            {
                **columns,
                "from": date_from,
                "to": date_to,
                "completed_count": done[0],
                "completed_avg_days": done[1],
                "completed_median_days": done[2],
                "open_count": still[0],
                "open_avg_days": still[1],
                "open_median_days": still[2],
            }
        )
    return out
