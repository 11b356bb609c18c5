"""Fill a database with the demo network, its users and synthetic client journeys.

    python manage.py seed_demo [--password PW] [--clients N] [--days D] [--seed S]

Safe to run again: sites, programs and users are brought back to the demo's
values (passwords are reset), and clients are generated only while there are
no demo clients yet. The work is done by backend/accounts/management/demo.py.
"""

import logging
import os
import time

from django.core.management.base import BaseCommand, CommandError

from backend.accounts.management.demo import (
    DEFAULT_CLIENTS,
    DEFAULT_DAYS,
    DEFAULT_DEMO_PASSWORD,
    DEFAULT_SEED,
    DEMO_MRN_PREFIX,
    DEMO_PARTNERS,
    DEMO_USERNAMES,
    demo_aftercare_work,
    demo_clients_generate,
    demo_network_ensure,
    demo_partners_ensure,
    demo_totals,
    demo_users_ensure,
)

PASSWORD_ENV = "DEMO_PASSWORD"
MAX_CLIENTS = 5000


class Command(BaseCommand):
    help = "Create the demo network, its users and synthetic client journeys (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help=f"Password of the demo users (default: ${PASSWORD_ENV}, else the demo default).",
        )
        parser.add_argument(
            "--clients",
            type=int,
            default=DEFAULT_CLIENTS,
            help=f"Synthetic clients to generate (default {DEFAULT_CLIENTS}).",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=DEFAULT_DAYS,
            help=f"Days of history, ending now (default {DEFAULT_DAYS}).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"Random seed: the same seed gives the same journeys (default {DEFAULT_SEED}).",
        )

    def handle(self, *args, **options):
        # Without a broker the demo's tasks run in this process, and Celery writes a
        # "Task ... succeeded" line for each: hundreds that would bury the progress.
        trace = logging.getLogger("celery.app.trace")
        level = trace.level
        if options["verbosity"] < 2:
            trace.setLevel(logging.WARNING)
        try:
            return self._seed(**options)
        finally:
            trace.setLevel(level)

    def _seed(self, *, password, clients, days, seed, **options):
        if not 0 <= clients <= MAX_CLIENTS:
            raise CommandError(f"--clients must be between 0 and {MAX_CLIENTS}.")
        if not 14 <= days <= 3650:
            raise CommandError("--days must be between 14 and 3650.")
        password, source = self._password(password)
        if not password:
            raise CommandError("The password must not be empty.")

        started = time.monotonic()
        network = demo_network_ensure()
        self.stdout.write(
            f"Sites: {len(network.sites)} ({network.sites_created} created); "
            f"programs: {len(network.programs)} ({network.programs_created} created)."
        )
        users = demo_users_ensure(password=password, network=network)
        self.stdout.write(
            f"Users: {', '.join(DEMO_USERNAMES)} ({users.created} created); "
            f"passwords set from {source}."
        )
        if password == DEFAULT_DEMO_PASSWORD:
            self.stdout.write(
                self.style.WARNING(
                    f"The demo default password is in use: pass --password or set "
                    f"{PASSWORD_ENV} for anything but a local demo."
                )
            )
        generated = demo_clients_generate(
            network=network,
            users=users,
            clients=clients,
            days=days,
            seed=seed,
            progress=self.stdout.write,
        )
        if generated.skipped:
            self.stdout.write(
                f"Clients: {generated.existing} demo clients ({DEMO_MRN_PREFIX}* MRNs) already "
                "exist; skipping generation."
            )
        else:
            self.stdout.write(
                f"Clients: {generated.registered} registered, {generated.admissions} admissions, "
                f"{generated.not_admitted} never admitted, "
                f"{generated.capacity_refusals} refusals for capacity."
            )
        work = demo_aftercare_work(users=users)
        self.stdout.write(
            f"Aftercare: {work.plans_written} plans' consent written, {work.worked} past "
            f"follow-ups worked ({work.reached} reached), {work.memberships} alumni team "
            "memberships added; the follow-up scan and the census snapshot have run."
        )
        partners = demo_partners_ensure(users=users)
        self.stdout.write(
            f"Partners: {len(DEMO_PARTNERS)} ({partners.created} created), "
            f"{partners.consents} consents recorded, {partners.referrals} referrals sent. "
            "Their credentials are not printed: issue them in the admin (Partners, "
            "'Issue another credential') or with create_partner."
        )
        self._print_totals()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready in {time.monotonic() - started:.1f} s.")
        )

    def _password(self, given: str | None) -> tuple[str, str]:
        if given is not None:
            return given, "--password"
        if os.environ.get(PASSWORD_ENV):
            return os.environ[PASSWORD_ENV], PASSWORD_ENV
        return DEFAULT_DEMO_PASSWORD, f'the demo default "{DEFAULT_DEMO_PASSWORD}"'

    def _print_totals(self) -> None:
        totals = demo_totals()

        def counts(values: dict[str, int]) -> str:
            return ", ".join(f"{name} {n}" for name, n in values.items()) or "none"

        self.stdout.write("Totals:")
        self.stdout.write(
            f"  sites {totals.sites}, programs {totals.programs}, users {totals.users}, "
            f"clients {totals.clients}"
        )
        self.stdout.write(
            f"  episodes {totals.episodes_open + totals.episodes_discharged} "
            f"({totals.episodes_open} open, {totals.episodes_discharged} discharged)"
        )
        self.stdout.write(
            f"  placements {totals.placements_open + totals.placements_closed} "
            f"({totals.placements_open} open, {totals.placements_closed} ended)"
        )
        self.stdout.write(f"  transfers by status: {counts(totals.transfers_by_status)}")
        self.stdout.write(f"  transfers by direction: {counts(totals.transfers_by_direction)}")
        self.stdout.write(f"  discharges by type: {counts(totals.discharges_by_type)}")
