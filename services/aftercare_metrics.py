"""Aftercare outcome metrics (issue 5): were the clients who left treatment
reached within 7 and 30 days, how each follow-up milestone went, how many
said they were in recovery, and how many came back into treatment.

docs/aftercare.md ("Metrics") defines every figure; in short:

- a **course** is the follow-ups scheduled from one anchor (a discharge, or a
  step-down to alumni), all sharing `episode`, `anchor_at`, `site` (the site
  responsible) and `from_program` (the program left, whose level the figures
  are grouped by). The **cohort** of a range is the courses the user may see
  (access.follow_ups_visible_to) whose anchor falls in the site-local days
  `date_from`..`date_to` at the responsible site;
- a course's day N is the N-th calendar day after the anchor's day at that
  site (as the protocol's day offsets are), and a figure "within N days"
  counts a course only once its day N has ended there: before that, success
  would be known early and failure late, and the rate would flatter;
- returning to treatment is the client's first placement at a level other
  than alumni that began at or after the anchor, at any site: a new
  admission, or a step-up out of the alumni program.

Three queries, whatever the number of sites, programs and follow-ups: the
time zones; the courses, counted in SQL per site, level and three small
numbers (how many days have passed, within how many the client was reached,
within how many they came back), each computed once per course, which Python
then adds up into each figure; and the follow-ups, counted per site, level
and milestone with conditional aggregates. Sites in several time zones share
each query through a CASE on the site's zone, as in services/census.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.db.models.lookups import LessThanOrEqual

from backend.aftercare.models import FollowUp, FollowUpStatus, SelfReportedStatus
from backend.care.models import Placement
from backend.network.models import LevelCode, Site
from services import access
from services.clock import day_start, local_today, resolve_now
from services.errors import NotFound

# The milestones reported one by one: the codes of the seeded default
# protocol. A milestone of another code (a protocol edited in the admin) still
# counts towards the course figures, but has no columns of its own: the
# columns of an answer do not change with the data.
MILESTONES = ("48h", "7d", "30d", "60d", "90d", "180d", "365d")
RECOVERY_MILESTONES = ("30d", "90d", "180d", "365d")
FOLLOW_UP_DAYS = (7, 30)  # the windows of the HEDIS follow-up measures
READMISSION_DAYS = (30, 90)
WINDOWS = tuple(sorted({*FOLLOW_UP_DAYS, *READMISSION_DAYS}))
# Returning to treatment: a placement at any level but alumni.
TREATMENT_LEVELS = tuple(code for code in LevelCode.values if code != LevelCode.ALUMNI)


@dataclass(frozen=True)
class Figure:
    """One figure of a row, and the names of its three columns:
    `<name>_<numerator>`, `<name>_<denominator>` and `<name>_percent`.

    `days` is the window of a course figure; `milestone` the code of a
    milestone figure. The help texts say what the numerator and the
    denominator count (the API documents them).
    """

    name: str
    numerator: str
    denominator: str
    numerator_help: str
    denominator_help: str
    days: int | None = None
    milestone: str = ""

    @property
    def numerator_column(self) -> str:
        return f"{self.name}_{self.numerator}"

    @property
    def denominator_column(self) -> str:
        return f"{self.name}_{self.denominator}"

    @property
    def percent_column(self) -> str:
        return f"{self.name}_percent"

    @property
    def columns(self) -> tuple[str, str, str]:
        return (self.numerator_column, self.denominator_column, self.percent_column)

    def values(self, numerator: int, denominator: int) -> dict:
        """The figure's three columns in a row: the counts, and the share in percent."""
        return {
            self.numerator_column: numerator,
            self.denominator_column: denominator,
            self.percent_column: percent(numerator, denominator),
        }


FOLLOW_UP_FIGURES = tuple(
    Figure(
        f"followup_{days}d",
        "reached",
        "eligible",
        f"Courses with a follow-up completed, client reached, by day {days}.",
        f"Courses whose day {days} has ended, not back in treatment by then.",
        days=days,
    )
    for days in FOLLOW_UP_DAYS
)
READMISSION_FIGURES = tuple(
    Figure(
        f"readmission_{days}d",
        "readmitted",
        "eligible",
        f"Courses whose client returned to treatment by day {days}.",
        f"Courses whose day {days} has ended.",
        days=days,
    )
    for days in READMISSION_DAYS
)
REACH_FIGURES = tuple(
    Figure(
        f"reach_{code}",
        "reached",
        "eligible",
        f"{code} follow-ups completed with the client reached.",
        f"{code} follow-ups completed, or whose window has closed.",
        milestone=code,
    )
    for code in MILESTONES
)
RECOVERY_FIGURES = tuple(
    Figure(
        f"recovery_{code}",
        "in_recovery",
        "reached",
        f"{code} follow-ups where the client said they were in recovery.",
        f"{code} follow-ups completed with the client reached.",
        milestone=code,
    )
    for code in RECOVERY_MILESTONES
)
FIGURES = (*FOLLOW_UP_FIGURES, *READMISSION_FIGURES, *REACH_FIGURES, *RECOVERY_FIGURES)
# The columns of each row, in order (the CSV header, even of an empty answer).
METRICS_COLUMNS = (
    "site",
    "site_name",
    "level",
    "from",
    "to",
    "courses",
    *(column for figure in FIGURES for column in figure.columns),
)


def aftercare_metrics_zones(user, *, site_id=None) -> set[str]:
    """The time zones of the sites whose metrics the user reads (of `site_id`
    alone, when given): the zones of "today" when a question leaves out its
    days. A site that is not the user's answers "not found", as if it did not
    exist (as census_site_require does for the census). One query."""
    sites = access.aftercare_metrics_sites(user)
    if site_id is not None:
        sites = sites.filter(pk=site_id)
    zones = set(sites.order_by().values_list("time_zone", flat=True).distinct())
    if site_id is not None and not zones:
        raise NotFound()
    return zones


def percent(numerator: int, denominator: int) -> float | None:
    """A share in percent to one decimal, as the census gives occupancy; None of nothing."""
    return round(100 * numerator / denominator, 1) if denominator else None


# --- site-local days, in SQL ----------------------------------------------------------


def _any_zone(zones: Iterable[str], condition) -> Q:
    """OR over the zones: the row's site keeps `zone` and `condition(zone)` holds."""
    combined = Q(pk__in=[])
    for zone in zones:
        combined |= Q(site__time_zone=zone) & condition(zone)
    return combined


def _per_zone(zones: Iterable[str], expression, output_field) -> Case:
    """`expression(zone)` for the zone of the row's site: a CASE evaluates only
    the branch of that zone."""
    return Case(
        *[When(site__time_zone=zone, then=expression(zone)) for zone in zones],
        output_field=output_field,
    )


def _local_day(field: str, zones: Iterable[str]) -> Case:
    """The calendar day of the instant `field` at the row's site."""
    return _per_zone(zones, lambda zone: TruncDate(field, tzinfo=ZoneInfo(zone)), DateField())


def _window(instant: str, anchor, zone: str) -> Case:
    """The shortest of WINDOWS within which the day of `instant` falls, counted
    in calendar days from the day of `anchor` at `zone`; null beyond them all."""
    gap = ExpressionWrapper(
        TruncDate(instant, tzinfo=ZoneInfo(zone)) - TruncDate(anchor, tzinfo=ZoneInfo(zone)),
        output_field=DurationField(),
    )
    return Case(
        *[
            When(LessThanOrEqual(gap, dt.timedelta(days=days)), then=Value(days))
            for days in WINDOWS
        ],
        output_field=IntegerField(),
    )


# --- the figures ----------------------------------------------------------------------


def _cohort(user, *, date_from, date_to, site_id, level, zones) -> QuerySet[FollowUp]:
    """The follow-ups of the cohort's courses: visible, anchored in the range."""
    follow_ups = access.follow_ups_visible_to(user)
    if site_id is not None:
        follow_ups = follow_ups.filter(site_id=site_id)
    if level:
        follow_ups = follow_ups.filter(from_program__level_id=level)
    after = date_to + dt.timedelta(days=1)
    return follow_ups.filter(
        _any_zone(
            zones,
            lambda zone: Q(
                anchor_at__gte=day_start(date_from, zone), anchor_at__lt=day_start(after, zone)
            ),
        )
    )


def _course_groups(cohort: QuerySet[FollowUp], zones, today: dict[str, dt.date]) -> list[dict]:
    """The cohort's courses counted per site, level and three small numbers,
    each computed once per course (one row of the cohort stands for each
    course: its follow-up with the lowest id):

    - `elapsed`: the longest of WINDOWS whose last day has ended at the site
      (0: not even 7 days). Day n has ended when anchor day + n < today, that
      is when the anchor is before the midnight that begins today - n;
    - `reached_within`: the shortest window within which a follow-up of the
      course was completed with the client reached (null: not, or later);
    - `returned_within`: the shortest window within which the client returned
      to treatment (null: not, or later).

    A handful of rows per site and level, which _course_figures adds up.
    """
    anchor = ExpressionWrapper(OuterRef("anchor_at"), output_field=DateTimeField())

    def reached(zone: str) -> Subquery:
        first = FollowUp.objects.filter(
            episode_id=OuterRef("episode_id"),
            anchor_at=OuterRef("anchor_at"),
            status=FollowUpStatus.COMPLETED,
            reached=True,
        ).order_by("completed_at")
        return Subquery(first.values(window=_window("completed_at", anchor, zone))[:1])

    def returned(zone: str) -> Subquery:
        first = Placement.objects.filter(
            client_id=OuterRef("client_id"),
            started_at__gte=OuterRef("anchor_at"),
            program__level_id__in=TREATMENT_LEVELS,
        ).order_by("started_at")
        return Subquery(first.values(window=_window("started_at", anchor, zone))[:1])

    elapsed = Case(
        *[
            When(
                site__time_zone=zone,
                anchor_at__lt=day_start(today[zone] - dt.timedelta(days=days), zone),
                then=Value(days),
            )
            for days in sorted(WINDOWS, reverse=True)
            for zone in zones
        ],
        default=Value(0),
        output_field=IntegerField(),
    )
    same_course_before = FollowUp.objects.filter(
        episode_id=OuterRef("episode_id"), anchor_at=OuterRef("anchor_at"), pk__lt=OuterRef("pk")
    )
    return list(
        cohort.filter(~Exists(same_course_before))
        .annotate(
            elapsed=elapsed,
            reached_within=_per_zone(zones, reached, IntegerField()),
            returned_within=_per_zone(zones, returned, IntegerField()),
        )
        .order_by()
        .values(
            "site_id",
            "site__name",
            "from_program__level_id",
            "from_program__level__position",
            "elapsed",
            "reached_within",
            "returned_within",
        )
        .annotate(n=Count("pk"))
    )


def _within(window: int | None, days: int) -> bool:
    return window is not None and window <= days


def _course_figures(groups: list[dict]) -> dict[str, tuple[int, int]]:
    """Add up `_course_groups` rows of one site and level into the course
    figures: (numerator, denominator) by figure name."""
    figures = {}
    for figure in FOLLOW_UP_FIGURES:
        # A client back in treatment within the window is not followed up by
        # the alumni team (their follow-ups end): out of the denominator, as
        # HEDIS leaves out readmissions.
        days = figure.days
        eligible = [
            g for g in groups if g["elapsed"] >= days and not _within(g["returned_within"], days)
        ]
        figures[figure.name] = (
            sum(g["n"] for g in eligible if _within(g["reached_within"], days)),
            sum(g["n"] for g in eligible),
        )
    for figure in READMISSION_FIGURES:
        days = figure.days
        eligible = [g for g in groups if g["elapsed"] >= days]
        figures[figure.name] = (
            sum(g["n"] for g in eligible if _within(g["returned_within"], days)),
            sum(g["n"] for g in eligible),
        )
    return figures


def _milestone_figures(cohort: QuerySet[FollowUp], zones, today: dict[str, dt.date]) -> list[dict]:
    """Per site, level and milestone: follow-ups whose outcome is known
    (eligible), reached, and reached in recovery."""
    completed = Q(status=FollowUpStatus.COMPLETED)
    window_closed = _any_zone(zones, lambda zone: Q(window_ends_on__lt=today[zone]))
    # A follow-up cancelled while its window was still open (the client was
    # readmitted or died first) had no chance: it does not count. One
    # cancelled after its window closed was missed, whether or not the scan
    # had marked it so before the course ended.
    counted = ~Q(status=FollowUpStatus.CANCELLED) | Q(ended_day__gt=F("window_ends_on"))
    reached = completed & Q(reached=True)
    return list(
        cohort.filter(milestone__in=MILESTONES)
        .alias(ended_day=_local_day("ended_at", zones))
        .order_by()
        .values("site_id", "from_program__level_id", "milestone")
        .annotate(
            # Not named after the fields: `reached` is one, and the filters read it.
            n_eligible=Count("pk", filter=counted & (completed | window_closed)),
            n_reached=Count("pk", filter=reached),
            n_in_recovery=Count(
                "pk", filter=reached & Q(self_reported_status=SelfReportedStatus.IN_RECOVERY)
            ),
        )
    )


def aftercare_metrics(
    *,
    user,
    date_from: dt.date,
    date_to: dt.date,
    site_id=None,
    level: str | None = None,
    now: dt.datetime | None = None,
) -> list[dict]:
    """One row per site and level of care (of the program left) with the
    outcome figures of the courses anchored in the site-local days
    `date_from`..`date_to`, as seen at `now`; by site name, then the
    continuum's order. Only groups with a course are listed. Every figure
    comes with its numerator and denominator; a percent is None when the
    denominator is 0."""
    now = resolve_now(now)
    if date_from > date_to:
        return []
    sites = Site.objects.all() if site_id is None else Site.objects.filter(pk=site_id)
    zones = sorted(sites.order_by().values_list("time_zone", flat=True).distinct())
    today = {zone: local_today(zone, now) for zone in zones}
    cohort = _cohort(
        user, date_from=date_from, date_to=date_to, site_id=site_id, level=level, zones=zones
    )
    by_milestone = {
        (row["site_id"], row["from_program__level_id"], row["milestone"]): row
        for row in _milestone_figures(cohort, zones, today)
    }
    groups: dict[tuple, list[dict]] = {}
    for row in _course_groups(cohort, zones, today):
        groups.setdefault((row["site_id"], row["from_program__level_id"]), []).append(row)
    ordered = sorted(
        groups.values(),
        key=lambda rows: (rows[0]["site__name"], rows[0]["from_program__level__position"]),
    )
    return [_row(rows, by_milestone, date_from, date_to) for rows in ordered]


def _row(groups: list[dict], by_milestone: dict, date_from: dt.date, date_to: dt.date) -> dict:
    """The answer's row of one site and level, from its course groups and milestone figures."""
    first = groups[0]
    site, level = first["site_id"], first["from_program__level_id"]
    courses = _course_figures(groups)
    row = {
        "site": site,
        "site_name": first["site__name"],
        "level": level,
        "from": date_from,
        "to": date_to,
        "courses": sum(g["n"] for g in groups),
    }
    for figure in (*FOLLOW_UP_FIGURES, *READMISSION_FIGURES):
        row |= figure.values(*courses[figure.name])
    for figure in REACH_FIGURES:
        m = by_milestone.get((site, level, figure.milestone), {})
        row |= figure.values(m.get("n_reached", 0), m.get("n_eligible", 0))
    for figure in RECOVERY_FIGURES:
        m = by_milestone.get((site, level, figure.milestone), {})
        row |= figure.values(m.get("n_in_recovery", 0), m.get("n_reached", 0))
    return row
