"""Stored midnight census figures.

A CensusSnapshot is a program's midnight census of one site-local day, as
recorded after that midnight by the nightly task (services/census.py,
`census_snapshot_fill`). The table is its own to-do list: a (program, day)
without a row is a day still to record, and a row marked `stale` (the history
of that program was changed back to that day after it was recorded) is a day
to record again, so a lost wake-up loses nothing.
"""

from django.db import models
from django.db.models import Q

from backend.network.models import Program


class CensusSnapshot(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="census_snapshots")
    day = models.DateField(help_text="The site-local day whose midnight census this is.")
    occupied = models.PositiveIntegerField()
    reserved = models.PositiveIntegerField()
    capacity = models.PositiveIntegerField(help_text="The program's capacity when recorded.")
    recorded_at = models.DateTimeField()
    stale = models.BooleanField(
        default=False,
        help_text="The history was changed back to this day since it was recorded: "
        "read as computed until the next run records it again.",
    )

    class Meta:
        ordering = ["day", "program_id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "day"], name="census_snapshot_once_a_day"),
        ]
        indexes = [
            models.Index(fields=["day"], name="census_snapshot_day"),
            # The days to record again, found without reading the whole history.
            models.Index(
                fields=["program", "day"], condition=Q(stale=True), name="census_snapshot_stale"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} on {self.day}: {self.occupied}/{self.capacity}"
