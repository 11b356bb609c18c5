"""The aftercare page's panels, shaped for its templates.

Every figure comes from services.aftercare_metrics.aftercare_metrics (the
rows of GET /api/v1/aftercare/metrics/), already limited to what the user may
read; docs/aftercare.md ("Metrics") defines each one. This module only names
the levels, and adds the rows of a site up across its levels and the sites up
across the network: numerators with numerators, denominators with
denominators (every course belongs to one row, so the sums are exact), and
the percent of the sums. It decides nothing about access and counts nothing
itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.network.models import LevelOfCare
from services.aftercare_metrics import (
    FOLLOW_UP_FIGURES,
    REACH_FIGURES,
    READMISSION_FIGURES,
    RECOVERY_FIGURES,
    Figure,
    percent,
)

# The courses of the last PERIOD_DAYS[period] days up to today.
PERIOD_DAYS = {"90d": 90, "180d": 180, "365d": 365}
DEFAULT_PERIOD = "365d"
PERIODS = (("90d", "90 days"), ("180d", "180 days"), ("365d", "365 days"))

MILESTONE_LABELS = {
    "48h": "48 hours",
    "7d": "7 days",
    "30d": "30 days",
    "60d": "60 days",
    "90d": "90 days",
    "180d": "180 days",
    "365d": "365 days",
}


@dataclass(frozen=True)
class Measure:
    """A figure of the answer (services.aftercare_metrics.Figure, which names
    its columns) with its heading on the page."""

    figure: Figure
    label: str

    @property
    def name(self) -> str:
        return self.figure.name


def _measures(figures: tuple[Figure, ...]) -> tuple[Measure, ...]:
    """Course figures are headed by their window, milestone figures by the milestone."""
    return tuple(
        Measure(
            figure,
            f"Within {figure.days} days"
            if figure.days
            else MILESTONE_LABELS.get(figure.milestone, figure.milestone),
        )
        for figure in figures
    )


FOLLOW_UP = _measures(FOLLOW_UP_FIGURES)
READMISSION = _measures(READMISSION_FIGURES)
REACH = _measures(REACH_FIGURES)
RECOVERY = _measures(RECOVERY_FIGURES)
MEASURES = (*FOLLOW_UP, *READMISSION, *REACH, *RECOVERY)


@dataclass
class Ratio:
    """A numerator over a denominator (one row's, or several added up), with
    the names of their columns in the answer."""

    measure: Measure
    numerator: int = 0
    denominator: int = 0

    @property
    def numerator_column(self) -> str:
        return self.measure.figure.numerator_column

    @property
    def denominator_column(self) -> str:
        return self.measure.figure.denominator_column

    @property
    def percent(self) -> float | None:
        return percent(self.numerator, self.denominator)


@dataclass
class Line:
    """One line of a table: a level at a site, or a total (of a site's
    levels, or of the network's sites)."""

    label: str
    level: str = ""
    total: str = ""  # "", "site" or "network"
    courses: int = 0
    ratios: dict[str, Ratio] = field(default_factory=dict)

    def add(self, row: dict) -> None:
        """Add a row of the answer in: its courses, each numerator and denominator."""
        self.courses += row["courses"]
        for measure in MEASURES:
            ratio = self.ratios.setdefault(measure.name, Ratio(measure))
            ratio.numerator += row[ratio.numerator_column]
            ratio.denominator += row[ratio.denominator_column]


@dataclass
class ColumnGroup:
    label: str
    measures: tuple[Measure, ...]


@dataclass
class TableLine:
    line: Line
    cells: list[Ratio]


@dataclass
class SiteGroup:
    site_id: object
    site_name: str
    lines: list[TableLine]


@dataclass
class Table:
    """A panel's table: a row group per site (its levels, then their total
    when there are several), and the network's total when there are several sites."""

    columns: tuple[ColumnGroup, ...]
    sites: list[SiteGroup]
    network: TableLine | None

    @property
    def width(self) -> int:
        """Columns in all: the level, the courses, then one per measure."""
        return 2 + sum(len(group.measures) for group in self.columns)


TABLES = {
    "outcomes": (
        ColumnGroup("Followed up", FOLLOW_UP),
        ColumnGroup("Back in treatment", READMISSION),
    ),
    "reach": (ColumnGroup("Reached at the follow-up of", REACH),),
    "recovery": (ColumnGroup("In recovery at", RECOVERY),),
}


def tables(rows: list[dict], levels: dict[str, LevelOfCare]) -> dict[str, Table]:
    """The page's tables (TABLES) from the answer's rows, which come by site,
    then level. Totals add numerators and denominators up: each course is in
    exactly one row, so the sums are exact."""
    by_site: dict[object, tuple[str, list[Line], Line]] = {}
    network = Line(label="All sites", total="network")
    for row in rows:
        if row["site"] not in by_site:
            total = Line(label="All levels", total="site")
            by_site[row["site"]] = (row["site_name"], [], total)
        _, lines, total = by_site[row["site"]]
        level = levels.get(row["level"])
        line = Line(label=level.name if level else row["level"], level=row["level"])
        for summed in (line, total, network):
            summed.add(row)
        lines.append(line)

    def table(columns: tuple[ColumnGroup, ...]) -> Table:
        measures = [m for group in columns for m in group.measures]

        def cells(line: Line) -> TableLine:
            return TableLine(line, [line.ratios[m.name] for m in measures])

        sites = [
            SiteGroup(
                site_id,
                name,
                [cells(line) for line in lines] + ([cells(total)] if len(lines) > 1 else []),
            )
            for site_id, (name, lines, total) in by_site.items()
        ]
        return Table(columns, sites, cells(network) if len(by_site) > 1 else None)

    return {key: table(columns) for key, columns in TABLES.items()}
