#!/usr/bin/env python
"""Board benchmark (issue 12): a site with 200 clients in care, timed through the
whole stack.

    .venv/bin/python bench/board.py [--clients 200] [--transfers 20] [--repeat 30]
        [--database-url postgres://postgres@127.0.0.1:5432/continuum_board_bench]

It (re)creates the database (its name must contain "bench"), migrates it, builds
one site (detox, residential, PHP, IOP, sober living, alumni) with `--clients`
clients in care spread over its programs, `--transfers` requested and as many
approved transfers in from a second site (their hand-offs waiting) and out to it,
then signs a care coordinator in and asks GET /board/ `--repeat` times through
Django's test client (URL routing, middleware, the session, the view, the
selectors, the templates, the audit inserts). It prints the median and p95
and the number of SQL queries of one request. Target (issue 12): under 300 ms.
A figure, not a test: run it by hand on a quiet machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.census import say  # noqa: E402
from bench.pages import load_average, page_time, pages_setup  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/continuum_board_bench"
TARGET_MS = 300.0
LEVELS = {  # room for the clients and the approved arrivals
    "detox": 50,
    "residential": 60,
    "php": 50,
    "iop": 60,
    "sober_living": 50,
    "alumni": 400,
}


def build(clients: int, transfers_each: int) -> tuple:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from backend.care.models import Client, Episode, Placement
    from backend.network.models import LevelOfCare, Program, Site
    from services import transfers
    from services.access import Role, role_grant

    call_command("migrate", verbosity=0)
    now = timezone.now()
    here = Site.objects.create(code="bench-here", name="Bench Here")
    there = Site.objects.create(code="bench-there", name="Bench There")
    programs = [
        Program.objects.create(
            site=here, level=LevelOfCare.objects.get(code=code), name=f"Here {code}", capacity=cap
        )
        for code, cap in LEVELS.items()
    ]
    there_residential = Program.objects.create(
        site=there, level=LevelOfCare.objects.get(code="residential"), name="There res", capacity=99
    )
    users = get_user_model().objects
    coordinator = users.create_user("bench-coordinator", password="bench-only")
    other = users.create_user("bench-other", password="bench-only")
    role_grant(user=coordinator, role=Role.CARE_COORDINATOR, site=here)
    role_grant(user=other, role=Role.CARE_COORDINATOR, site=there)

    treatment = [p for p in programs if p.level_id != "alumni"]

    def place(program, n, site):
        with transaction.atomic():
            made = []
            for _ in range(n):
                client = Client.objects.create(
                    mrn=f"B{Client.objects.count():08d}",
                    first_name=f"First{n}",
                    last_name=f"Last{Client.objects.count():05d}",
                    date_of_birth=dt.date(1985, 1, 1),
                    registered_site=site,
                )
                started = now - dt.timedelta(days=1 + len(made) % 40)
                episode = Episode.objects.create(
                    client=client, admitted_at=started, admitted_by=coordinator
                )
                Placement.objects.create(
                    episode=episode, client=client, program=program, started_at=started
                )
                made.append(client)
            return made

    in_care = []
    for index in range(clients):
        in_care += place(treatment[index % len(treatment)], 1, here)
    for client in in_care[:transfers_each]:  # out to the other site
        transfers.transfer_request(actor=coordinator, client=client, to_program=there_residential)
    arriving = place(there_residential, 2 * transfers_each, there)
    for index, client in enumerate(arriving):  # in: half requested, half approved
        transfer = transfers.transfer_request(
            actor=other, client=client, to_program=treatment[index % len(treatment)]
        )
        if index % 2:
            transfers.transfer_approve(actor=coordinator, transfer=transfer)
    return coordinator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--transfers", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_BOARD_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument(
        "--reuse", action="store_true", help="time the database of an earlier run again"
    )
    args = parser.parse_args()

    pages_setup(args.database_url, reuse=args.reuse)
    if args.reuse:
        from django.contrib.auth import get_user_model

        coordinator = get_user_model().objects.get(username="bench-coordinator")
    else:
        started = time.perf_counter()
        coordinator = build(args.clients, args.transfers)
        say(f"built in {time.perf_counter() - started:.1f} s")

    from django.test import Client

    browser = Client()
    browser.force_login(coordinator)
    first = browser.get("/board/")
    assert first.status_code == 200, first.status_code
    in_care = first.content.count(b'data-figure="days"')
    times = page_time(browser, "/board/", args.repeat)
    say(f"GET /board/: {in_care} clients in care on the page, {times.queries} SQL queries")
    say(f"median {times.median_ms:.1f} ms, p95 {times.p95_ms:.1f} ms over {args.repeat} requests")
    say(f"CPU time of the Django process: median {times.cpu_median_ms:.1f} ms")
    met = times.median_ms < TARGET_MS
    say(f"target under {TARGET_MS:.0f} ms: {'met' if met else 'MISSED'}")
    say(load_average())


if __name__ == "__main__":
    main()
