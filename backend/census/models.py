"""Stored midnight census figures.

A CensusSnapshot is a program's midnight census of one site-local day, as
recorded after that midnight by the nightly task (services/census.py,
`census_snapshot_fill`). The table is its own to-do list: a (program, day)
without a row is a day still to record, so a lost wake-up loses nothing.
"""

from django.db import models

from backend.network.models import Program


class CensusSnapshot(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="census_snapshots")
    day = models.DateField(help_text="The site-local day whose midnight census this is.")
    occupied = models.PositiveIntegerField()
    reserved = models.PositiveIntegerField()
    capacity = models.PositiveIntegerField(help_text="The program's capacity when recorded.")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["day", "program_id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "day"], name="census_snapshot_once_a_day"),
        ]
        indexes = [models.Index(fields=["day"], name="census_snapshot_day")]

    def __str__(self) -> str:
        return f"{self.program} on {self.day}: {self.occupied}/{self.capacity}"
