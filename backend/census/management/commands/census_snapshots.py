"""`python manage.py census_snapshots`: record missing midnight census figures now.

The nightly task does this on its own (workers.snapshot_census); operators use
the command to fill the whole history once (`--all`) or a longer past (`--from`),
or to record a range again (`--recompute`). It prints each block of days as it
is recorded; an interrupted run keeps what it wrote, and running it again goes
on from there.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from backend.network.models import Site
from services.census import census_history_first_day, census_snapshot_fill


class Command(BaseCommand):
    help = "Record the midnight census of ended days that have no stored figure yet."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", type=dt.date.fromisoformat)
        parser.add_argument(
            "--all",
            dest="whole_history",
            action="store_true",
            help="From the first day of the history (instead of --from).",
        )
        parser.add_argument("--to", dest="date_to", type=dt.date.fromisoformat)
        parser.add_argument("--site", action="append", help="Site code (repeatable).")
        parser.add_argument(
            "--recompute", action="store_true", help="Replace stored figures of the range."
        )

    def handle(self, *args, date_from, whole_history, date_to, site, recompute, **options):
        if whole_history:
            if date_from:
                raise CommandError("Give --all or --from, not both.")
            date_from = census_history_first_day()
            if date_from is None:
                self.stdout.write("No placements: nothing to record.")
                return
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
