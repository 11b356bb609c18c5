"""Starting checklists for hand-offs; the organisation edits them in the admin."""

from django.db import migrations

TEMPLATES = [
    # name, from level, to level, [(label, mandatory)]
    (
        "Every transfer",
        None,
        None,
        [("Consent to disclose (42 CFR Part 2) on file for the receiving program", True)],
    ),
    (
        "Detox to residential",
        "detox",
        "residential",
        [
            ("Medical clearance", True),
            ("Medication reconciliation", True),
            ("Transport arranged", True),
            ("Belongings inventoried and sent", True),
        ],
    ),
    (
        "Any move into IOP",
        None,
        "iop",
        [
            ("IOP schedule agreed: 3 to 5 days and at least 9 hours a week", True),
            ("Housing or sober living arranged", True),
            ("First IOP session date set", True),
        ],
    ),
    (
        "Any step down to alumni",
        None,
        "alumni",
        [
            ("Aftercare plan in place", True),
            ("Consent to follow-up contact recorded", False),
        ],
    ),
]


def seed(apps, schema_editor):
    Template = apps.get_model("handoffs", "ChecklistTemplate")
    Item = apps.get_model("handoffs", "ChecklistTemplateItem")
    for name, from_level, to_level, items in TEMPLATES:
        template, created = Template.objects.get_or_create(
            name=name, defaults={"from_level_id": from_level, "to_level_id": to_level}
        )
        if created:
            for position, (label, mandatory) in enumerate(items, start=1):
                Item.objects.create(
                    template=template, position=position, label=label, mandatory=mandatory
                )


def unseed(apps, schema_editor):
    apps.get_model("handoffs", "ChecklistTemplate").objects.filter(
        name__in=[t[0] for t in TEMPLATES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("handoffs", "0001_initial"), ("network", "0002_seed_levels_of_care")]
    operations = [migrations.RunPython(seed, unseed)]
