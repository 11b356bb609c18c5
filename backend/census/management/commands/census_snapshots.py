"""`python manage.py census_snapshots`: record missing midnight census figures now.

The nightly task does this on its own (workers.snapshot_census); operators use
the command to fill a longer past (`--from`), or, after a late correction of the
history, to record a range again (`--recompute`).
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from backend.network.models import Site
from services.census import census_snapshot_fill


class Command(BaseCommand):
    help = "Record the midnight census of ended days that have no stored figure yet."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", type=dt.date.fromisoformat)
        parser.add_argument("--to", dest="date_to", type=dt.date.fromisoformat)
        parser.add_argument("--site", action="append", help="Site code (repeatable).")
        parser.add_argument(
            "--recompute", action="store_true", help="Replace stored figures of the range."
        )

    def handle(self, *args, date_from, date_to, site, recompute, **options):
        if date_from and date_to and date_from > date_to:
            raise CommandError("--from must be on or before --to.")
        site_ids = None
        if site:
            sites = dict(Site.objects.filter(code__in=site).values_list("code", "pk"))
            unknown = sorted(set(site) - set(sites))
            if unknown:
                raise CommandError(f"No site with code {', '.join(unknown)}.")
            site_ids = list(sites.values())
        written = census_snapshot_fill(
            date_from=date_from,
            date_to=date_to,
            site_ids=site_ids,
            recompute=recompute,
            wait=True,  # after the scheduled run, if one is recording now
            progress=lambda line: self.stdout.write(line),
        )
        self.stdout.write(self.style.SUCCESS(f"Recorded {written} program-day figure(s)."))
