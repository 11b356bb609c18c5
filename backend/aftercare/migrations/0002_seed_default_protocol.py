"""The default follow-up protocol; the organisation edits it, or adds protocols
for a level or a program, in the admin."""

from django.db import migrations

DEFAULT_PROTOCOL = "Default follow-ups"

# code, name, offset, unit, window in days after the due day.
# The 48-hour call gets one day: it is about the first days home, and a call on
# day 5 would be neither a 48-hour nor a 7-day follow-up.
MILESTONES = [
    ("48h", "48 hours", 48, "hours", 1),
    ("7d", "7 days", 7, "days", 3),
    ("30d", "30 days", 30, "days", 3),
    ("60d", "60 days", 60, "days", 3),
    ("90d", "90 days", 90, "days", 3),
    ("180d", "180 days", 180, "days", 3),
    ("365d", "365 days", 365, "days", 3),
]


def seed(apps, schema_editor):
    Protocol = apps.get_model("aftercare", "FollowUpProtocol")
    Milestone = apps.get_model("aftercare", "FollowUpMilestone")
    protocol, created = Protocol.objects.get_or_create(name=DEFAULT_PROTOCOL)
    if created:
        for position, (code, name, offset, unit, window) in enumerate(MILESTONES, start=1):
            Milestone.objects.create(
                protocol=protocol,
                position=position,
                code=code,
                name=name,
                offset=offset,
                offset_unit=unit,
                window_days=window,
            )


def unseed(apps, schema_editor):
    Protocol = apps.get_model("aftercare", "FollowUpProtocol")
    Protocol.objects.filter(name=DEFAULT_PROTOCOL).delete()


class Migration(migrations.Migration):
    dependencies = [("aftercare", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
