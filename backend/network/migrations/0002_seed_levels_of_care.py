"""The seven levels of care. Their codes are a contract: never rename one."""

from django.db import migrations

LEVELS = [
    # code, name, position, intensity, ASAM reference, capacity unit, description
    ("intervention", "Intervention", 1, 1, "0.5 (early intervention, pre-treatment)", "caseload",
     "Engaging a person, often with family, before admission."),
    ("detox", "Detox", 2, 6, "3.7-WM, 4-WM", "beds",
     "Medically managed or monitored withdrawal, 24-hour."),
    ("residential", "Residential", 3, 5, "3.1, 3.5, 3.7", "beds",
     "Live-in treatment with 24-hour structure."),
    ("php", "Partial hospitalization", 4, 4, "2.5", "slots",
     "Day treatment (\"extended care\"), typically 20 or more hours a week."),
    ("iop", "Intensive outpatient", 5, 3, "2.1", "slots",
     "9 to 15 hours a week over 3 to 5 days; the client lives at home or in sober living."),
    ("sober_living", "Sober living", 6, 2, "Recovery residence (not an ASAM treatment level)",
     "beds", "A recovery residence while attending outpatient care."),
    ("alumni", "Alumni", 7, 0, "Recovery support", "caseload",
     "Continuing care after treatment: follow-ups, groups, events."),
]


def seed(apps, schema_editor):
    LevelOfCare = apps.get_model("network", "LevelOfCare")
    for code, name, position, intensity, asam, unit, description in LEVELS:
        LevelOfCare.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "position": position,
                "intensity": intensity,
                "asam_reference": asam,
                "capacity_unit": unit,
                "description": description,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("network", "LevelOfCare").objects.filter(
        code__in=[level[0] for level in LEVELS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("network", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
