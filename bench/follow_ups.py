#!/usr/bin/env python
"""Follow-up queue benchmark: the alumni team's /follow-ups/ with full buckets,
timed through the whole stack.

    .venv/bin/python bench/follow_ups.py [--rows 60] [--programs 12] [--assignees 8]
        [--repeat 20] [--profile 25] [--reuse]
        [--database-url postgres://postgres@127.0.0.1:5432/continuum_follow_ups_bench]

It (re)creates the database (its name must contain "bench"), migrates it, builds
two sites with `--programs` treatment programs between them (the outcome form's
"refer to program" choices), `--assignees` alumni coordinators (the reassign
form's choices) and `--rows` open follow-ups in each bucket (due today, overdue,
upcoming; the page shows 50 of each), every other one with an attempt. Then it
signs an alumni coordinator in and asks GET /follow-ups/ `--repeat` times
through Django's test client (routing, middleware, the session, the view, the
selectors, the forms, the templates, the audit inserts). It prints the median
and p95, the bytes and SQL queries of one request and the CPU time of this
process. `--profile N` also prints the N costliest functions of one request
(cProfile, by cumulative time). A figure, not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.census import say  # noqa: E402
from bench.pages import load_average, page_time, pages_setup  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/continuum_follow_ups_bench"
URL = "/follow-ups/"
LEVELS = ("detox", "residential", "php", "iop", "sober_living")


def build(rows: int, programs: int, assignees: int):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from backend.aftercare.models import AftercarePlan, ContactAttempt, FollowUp, FollowUpProtocol
    from backend.care.models import Client, Episode, Placement
    from backend.network.models import LevelOfCare, Program, Site
    from services.access import Role, role_grant

    call_command("migrate", verbosity=0)
    sites = [
        Site.objects.create(code="bench-north", name="Bench North"),
        Site.objects.create(code="bench-south", name="Bench South"),
    ]
    treatment = [
        Program.objects.create(
            site=sites[index % 2],
            level=LevelOfCare.objects.get(code=LEVELS[index % len(LEVELS)]),
            name=f"Bench {LEVELS[index % len(LEVELS)]} {index}",
            capacity=40,
        )
        for index in range(programs)
    ]
    users = get_user_model().objects
    team = []
    for index in range(assignees):
        user = users.create_user(
            f"bench-alumni-{index}",
            password="bench-only",
            first_name="Alumni",
            last_name=f"Coordinator {index}",
        )
        role_grant(user=user, role=Role.ALUMNI_COORDINATOR)
        team.append(user)
    protocol = FollowUpProtocol.objects.get(name="Default follow-ups")
    now = timezone.now()
    today = now.astimezone(sites[0].zone).date()  # the sites' day, not UTC's
    with transaction.atomic():
        for bucket, offset in (("due", 0), ("overdue", -10), ("upcoming", 5)):
            for index in range(rows):
                program = treatment[index % len(treatment)]
                due_on = today + dt.timedelta(days=offset)
                anchor = dt.datetime.combine(due_on, dt.time(12), tzinfo=dt.UTC) - dt.timedelta(
                    days=7
                )
                client = Client.objects.create(
                    mrn=f"F{bucket[0]}{index:07d}",
                    first_name=f"First{index}",
                    last_name=f"Last{bucket}{index:04d}",
                    date_of_birth=dt.date(1985, 1, 1),
                    registered_site=program.site,
                    phone="+1 512 555 0100",
                    email=f"client{bucket}{index}@example.org",
                )
                episode = Episode.objects.create(
                    client=client,
                    admitted_at=anchor - dt.timedelta(days=30),
                    admitted_by=team[0],
                    discharged_at=anchor,
                    discharged_by=team[0],
                    discharge_type="completed",
                )
                Placement.objects.create(
                    episode=episode,
                    client=client,
                    program=program,
                    started_at=anchor - dt.timedelta(days=30),
                    ended_at=anchor,
                )
                plan = AftercarePlan.objects.create(
                    episode=episode,
                    client=client,
                    created_at=anchor,
                    created_by=team[0],
                    updated_at=anchor,
                    updated_by=team[0],
                    consent_to_contact=True,
                    consent_email=True,
                    consent_phone=bool(index % 2),
                    contact_hours_from=dt.time(9),
                    contact_hours_to=dt.time(17),
                )
                follow_up = FollowUp.objects.create(
                    client=client,
                    episode=episode,
                    plan=plan,
                    protocol=protocol,
                    from_program=program,
                    site=program.site,
                    anchor_at=anchor,
                    milestone=f"bench-{bucket}-{index}",
                    milestone_name="7 days",
                    due_on=due_on,
                    window_ends_on=due_on + dt.timedelta(days=3),
                    assignee=team[index % len(team)],
                    created_at=anchor,
                    updated_at=anchor,
                )
                if index % 2 and bucket != "upcoming":
                    ContactAttempt.objects.create(
                        follow_up=follow_up,
                        channel="email",
                        at=anchor + dt.timedelta(days=1),
                        result="no_answer",
                        by=team[0],
                        recorded_at=anchor + dt.timedelta(days=1),
                    )
    return team[0]


def profile_one(browser, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    browser.get(URL)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    say(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=60, help="open follow-ups in each bucket")
    parser.add_argument("--programs", type=int, default=12)
    parser.add_argument("--assignees", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_FOLLOW_UPS_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument(
        "--reuse", action="store_true", help="time the database of an earlier run again"
    )
    args = parser.parse_args()

    pages_setup(args.database_url, reuse=args.reuse)
    if args.reuse:
        from django.contrib.auth import get_user_model

        alumni = get_user_model().objects.get(username="bench-alumni-0")
    else:
        started = time.perf_counter()
        alumni = build(args.rows, args.programs, args.assignees)
        say(f"built in {time.perf_counter() - started:.1f} s")

    from django.test import Client

    browser = Client()
    browser.force_login(alumni)
    first = browser.get(URL)
    assert first.status_code == 200, first.status_code
    shown = first.content.count(b'class="card follow-up"')
    forms = first.content.count(b'<form id="')
    options = first.content.count(b"<option ")
    if args.profile:
        profile_one(browser, args.profile)
    times = page_time(browser, URL, args.repeat)
    say(
        f"GET {URL}: {shown} follow-ups, {forms} forms, {options} options, "
        f"{len(first.content):,} bytes, {times.queries} SQL queries"
    )
    say(f"median {times.median_ms:.1f} ms, p95 {times.p95_ms:.1f} ms over {args.repeat} requests")
    say(f"CPU time of the Django process: median {times.cpu_median_ms:.1f} ms")
    say(load_average())


if __name__ == "__main__":
    main()
