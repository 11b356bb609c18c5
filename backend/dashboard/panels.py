"""The census dashboard's panels, shaped for its templates.

Every figure comes from a selector of services/ (`census_at`, `census_daily`,
`census_movement`, `length_of_stay`, `transfers_visible_to`), already limited
to what the user may read; docs/census.md defines each one. This module only
adds a site's programs up per level of care, or a network's per site, and lays
out the trend charts. It decides nothing about access and counts nothing
itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from backend.care.models import DischargeType
from backend.dashboard.svg import TrendChart, trend_chart
from backend.network.models import LevelOfCare, Site

# A tile, a cell or a bar turns amber from this share of capacity occupied,
# and red once occupied plus reserved exceeds capacity (the census's
# `over_capacity`, which a site manager's override makes possible).
WARN_PERCENT = 90
# The trend: the midnight census of the last 30 days that have ended.
TREND_DAYS = 30
# Length of stay: stays completed in the last 90 days (the API's default range).
STAY_DAYS = 90
# Movement: today, or the last seven days up to today.
PERIOD_DAYS = {"today": 1, "7d": 7}

MOVEMENT_COLUMNS = (
    ("admissions", "Admissions"),
    ("discharges", "Discharges"),
    ("transfers_in", "Transfers in"),
    ("transfers_out", "Transfers out"),
    ("step_downs", "Step-downs"),
    ("step_ups", "Step-ups"),
    ("lateral", "Lateral"),
    ("site_changes", "Site changes"),
)
DISCHARGE_COLUMNS = tuple((f"discharges_{value}", label) for value, label in DischargeType.choices)


def fill_state(*, occupied: int, reserved: int, capacity: int) -> str:
    """The colour of a tile, a cell or a bar: "over", "warn" or "ok"."""
    if occupied + reserved > capacity:
        return "over"
    if capacity and 100 * occupied / capacity >= WARN_PERCENT:
        return "warn"
    return "ok"


@dataclass
class Fill:
    """Occupied, reserved and available against capacity: one program, or
    several added up (a level at a site)."""

    capacity: int = 0
    occupied: int = 0
    reserved: int = 0

    def add(self, row: dict) -> None:
        self.capacity += row["capacity"]
        self.occupied += row["occupied"]
        self.reserved += row["reserved"]

    @property
    def available(self) -> int:
        return self.capacity - self.occupied - self.reserved

    @property
    def occupancy_percent(self) -> float | None:
        # As the census defines it: one decimal, none without capacity.
        return round(100 * self.occupied / self.capacity, 1) if self.capacity else None

    @property
    def state(self) -> str:
        return fill_state(occupied=self.occupied, reserved=self.reserved, capacity=self.capacity)

    @property
    def occupied_width(self) -> float:
        """The occupied part of the bar, in percent of its length (at most all of it)."""
        if not self.capacity:
            return 100.0 if self.occupied else 0.0
        return round(min(100.0, 100 * self.occupied / self.capacity), 1)

    @property
    def reserved_width(self) -> float:
        if not self.capacity:
            return 0.0
        room = 100.0 - self.occupied_width
        return round(max(0.0, min(room, 100 * self.reserved / self.capacity)), 1)


@dataclass
class LevelTile(Fill):
    level: str = ""
    level_name: str = ""
    capacity_unit: str = ""
    # The level's programs at the site, when there are several (men's and
    # women's residential): each with its own figures.
    programs: list[dict] = field(default_factory=list)

    @property
    def shows_programs(self) -> bool:
        return len(self.programs) > 1


# --- levels and site-local days ---------------------------------------------------


def levels_of_care() -> dict[str, LevelOfCare]:
    """The levels of care by code, in their order on the continuum."""
    return {level.code: level for level in LevelOfCare.objects.order_by("position")}


def trend_range(today: date) -> tuple[date, date]:
    """The last TREND_DAYS days that have ended: yesterday and the days before."""
    return today - timedelta(days=TREND_DAYS), today - timedelta(days=1)


# --- the census now --------------------------------------------------------------


def level_tiles(
    rows: Iterable[dict], levels: dict[str, LevelOfCare], level_totals: Iterable[dict]
) -> list[LevelTile]:
    """One tile per level of care among `rows` (one site's census), on the continuum's
    order, with the figures of the census's level totals (`level_totals`, as the
    census API answers them with `?totals=true`), not added up again here."""
    totals = {total["level"]: total for total in level_totals}
    tiles: dict[str, LevelTile] = {}
    for row in rows:
        tile = tiles.get(row["level"])
        if tile is None:
            level = levels[row["level"]]
            total = totals[row["level"]]
            tile = tiles[row["level"]] = LevelTile(
                level=level.code,
                level_name=level.name,
                capacity_unit=row["capacity_unit"],
                capacity=total["capacity"],
                occupied=total["occupied"],
                reserved=total["reserved"],
            )
        tile.programs.append({**row, "state": fill_state(**_fill_of(row))})
    return sorted(tiles.values(), key=lambda t: levels[t.level].position)


def _fill_of(row: dict) -> dict:
    return {"occupied": row["occupied"], "reserved": row["reserved"], "capacity": row["capacity"]}


@dataclass
class NetworkRow:
    level: LevelOfCare
    capacity_unit: str
    # One per site, in the order of the columns: (site, its figures), with
    # None where the site does not offer the level.
    cells: list[tuple[Site, Fill | None]]


def network_table(
    rows: Iterable[dict], sites: list[Site], levels: dict[str, LevelOfCare]
) -> list[NetworkRow]:
    """Sites side by side: a row per level of care, a cell per site (its programs added up)."""
    cells: dict[tuple[str, UUID], Fill] = defaultdict(Fill)
    units: dict[str, str] = {}
    for row in rows:
        cells[(row["level"], row["site"])].add(row)
        units[row["level"]] = row["capacity_unit"]
    return [
        NetworkRow(
            level=level,
            capacity_unit=units[code],
            cells=[(site, cells.get((code, site.pk))) for site in sites],
        )
        for code, level in levels.items()
        if code in units
    ]


# --- the last 30 days ------------------------------------------------------------


@dataclass
class LevelTrend:
    level: LevelOfCare
    capacity_unit: str
    chart: TrendChart
    first: int  # occupied on the first and on the last day of the window
    last: int
    low: int
    high: int
    capacity: int  # on the last day


@dataclass
class Trend:
    days: list[date]
    levels: list[LevelTrend]
    # For the table under the charts: per day, per level, (occupied, capacity).
    table: list[tuple[date, list[tuple[int, int] | None]]]


def trend(daily_rows: Iterable[dict], levels: dict[str, LevelOfCare], units: dict) -> Trend:
    """One chart per level from `census_daily` rows of one site."""
    by_level: dict[str, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    days: set[date] = set()
    for row in daily_rows:
        figures = by_level[row["level"]][row["day"]]
        figures[0] += row["occupied"]
        figures[1] += row["capacity"]
        days.add(row["day"])
    ordered_days = sorted(days)
    series = {
        code: [tuple(by_level[code].get(day, (0, 0))) for day in ordered_days]
        for code in levels
        if code in by_level
    }
    level_trends = []
    for code, points in series.items():
        occupied = [o for o, _ in points]
        level_trends.append(
            LevelTrend(
                level=levels[code],
                capacity_unit=units.get(code, ""),
                chart=trend_chart(points),
                first=occupied[0],
                last=occupied[-1],
                low=min(occupied),
                high=max(occupied),
                capacity=points[-1][1],
            )
        )
    table = [(day, [series[code][i] for code in series]) for i, day in enumerate(ordered_days)]
    return Trend(days=ordered_days, levels=level_trends, table=table)


# --- movement and length of stay -------------------------------------------------


@dataclass
class MovementRow:
    label: str
    figures: dict[str, int]

    @property
    def cells(self) -> list[tuple[str, int]]:
        return [(column, self.figures[column]) for column, _ in MOVEMENT_COLUMNS]

    @property
    def discharges_by_type(self) -> list[tuple[str, int]]:
        """The discharge types that occurred, with their counts."""
        return [(label, self.figures[c]) for c, label in DISCHARGE_COLUMNS if self.figures[c]]


def movement_table(rows: Iterable[dict], key: str, labels: dict) -> list[MovementRow]:
    """`census_movement` rows added up by `key` ("level" or "site") in the order
    of `labels`, and a total row last."""
    columns = [c for c, _ in MOVEMENT_COLUMNS + DISCHARGE_COLUMNS]
    groups: dict = {}
    total = dict.fromkeys(columns, 0)
    for row in rows:
        figures = groups.setdefault(row[key], dict.fromkeys(columns, 0))
        for column in columns:
            figures[column] += row[column]
            total[column] += row[column]
    ordered = [MovementRow(label=labels[k], figures=groups[k]) for k in labels if k in groups]
    return [*ordered, MovementRow(label="Total", figures=total)] if ordered else []


@dataclass
class MovementPeriod:
    """Site-local days counted by the movement panel, and the sites that count them."""

    date_from: date
    date_to: date
    sites: list[str]


def movement_periods(rows: Iterable[dict], sites: list[Site]) -> list[MovementPeriod]:
    """The days each site's `census_movement` rows cover (their `from` and `to`),
    one entry per distinct range, in the order of `sites`: a single entry when
    every site keeps the same calendar (one time zone), several when it is
    already tomorrow at some of them."""
    span = {row["site"]: (row["from"], row["to"]) for row in rows}
    periods: dict[tuple[date, date], MovementPeriod] = {}
    for site in sites:
        if site.pk in span:
            first, last = span[site.pk]
            period = periods.setdefault((first, last), MovementPeriod(first, last, []))
            period.sites.append(site.name)
    return list(periods.values())


def length_of_stay_rows(rows: Iterable[dict], levels: dict[str, LevelOfCare]) -> list[dict]:
    """`length_of_stay` rows (by level) with the level's name, on the continuum's order."""
    named = [{**row, "level_name": levels[row["level"]].name} for row in rows]
    return sorted(named, key=lambda row: levels[row["level"]].position)
