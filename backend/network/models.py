"""The provider network: the levels of care, the sites, and the programs that
offer one level at one site."""

import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models


class CapacityUnit(models.TextChoices):
    BEDS = "beds", "Beds"
    SLOTS = "slots", "Slots"
    CASELOAD = "caseload", "Caseload"


class LevelCode(models.TextChoices):
    """Stable codes; other systems and later issues build against them."""

    INTERVENTION = "intervention", "Intervention"
    DETOX = "detox", "Detox"
    RESIDENTIAL = "residential", "Residential"
    PHP = "php", "Partial hospitalization"
    IOP = "iop", "Intensive outpatient"
    SOBER_LIVING = "sober_living", "Sober living"
    ALUMNI = "alumni", "Alumni"


class LevelOfCare(models.Model):
    """One of the seven levels of the continuum, seeded by a migration.

    `intensity` orders the levels for step-up and step-down (higher is more
    intensive); `position` is where the level stands on the continuum for
    display. They differ only for intervention, which comes first on the
    continuum but is pre-treatment, so intervention to detox is a step up.
    """

    code = models.CharField(primary_key=True, max_length=20, choices=LevelCode.choices)
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(unique=True)
    intensity = models.PositiveSmallIntegerField()
    asam_reference = models.CharField("ASAM Criteria reference", max_length=80)
    capacity_unit = models.CharField(max_length=10, choices=CapacityUnit.choices)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["position"]
        verbose_name = "level of care"
        verbose_name_plural = "levels of care"

    def __str__(self) -> str:
        return self.name


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.")


class Site(models.Model):
    """A location of the provider network (Austin, Houston...).

    Roles are django-guardian object permissions on a site: see
    services/access.py for what each one allows.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(
        max_length=64, default="America/Chicago", validators=[validate_time_zone]
    )
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True)
    region = models.CharField("state or region", max_length=80, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["name", "id"]
        # Per-site roles are object permissions on one site; the two
        # organisation-wide roles are the same model's permissions granted
        # globally (django-guardian reads a global permission as "every site").
        permissions = [
            ("coordinate_site", "Care coordinator at this site"),
            ("manage_site", "Site manager at this site"),
            ("coordinate_alumni", "Alumni coordinator: the alumni level at every site"),
            ("administer_organisation", "Organisation admin: every site and client"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Program(models.Model):
    """One level of care offered at one site, with a capacity in the level's unit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="programs")
    level = models.ForeignKey(LevelOfCare, on_delete=models.PROTECT, related_name="programs")
    name = models.CharField(max_length=120)
    capacity = models.PositiveIntegerField(
        help_text="In the level's unit: beds, slots or caseload."
    )
    is_active = models.BooleanField(default=True)
    opened_on = models.DateField(
        null=True,
        blank=True,
        help_text=(
            "The first day (at the site) the program took clients. The daily census has no "
            "day before it. Empty: it ran before the records began."
        ),
    )
    # How long the receiving team has to acknowledge a hand-off into this program.
    handoff_ack_minutes = models.PositiveIntegerField(
        "hand-off acknowledgement SLA (minutes)", default=240
    )

    class Meta:
        ordering = ["site__name", "level__position", "id"]
        constraints = [
            # A site may run two programs of one level (men's and women's
            # residential, say): a move between them is a lateral transfer.
            models.UniqueConstraint(fields=["site", "name"], name="program_name_unique_at_site"),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.site} {self.level}"
