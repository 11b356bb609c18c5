#!/usr/bin/env python
"""The audit's cost (issue 15): a client detail GET with and without its audit
write, side by side in one run, in one process.

    .venv/bin/python bench/audit.py [--repeat 500] [--clients 60]
        [--database-url postgres://postgres@127.0.0.1:5432/continuum_load_audit_bench]

It (re)creates the database (its name must contain "bench"), migrates it, and
registers and admits --clients clients at one site through the services. Then,
as that site's care coordinator with a token, it asks through Django's test
client (URL routing, middleware, token authentication, the DRF view, the JSON
renderer) for `GET /api/v1/clients/{id}/` and for a page of 25 clients,
`GET /api/v1/clients/?page_size=25`, --repeat times each, in two arms taken in
turn: as shipped, and with the audit write switched off. The "without" arm
replaces `audit_reads` as the base viewset calls it (backend/api/viewsets.py)
by a function that writes nothing, in this process only and only around that
arm's requests; no setting changes. The arms alternate request by request (which
goes first alternates too), so both see the same machine.

It prints the median and p95 (nearest rank) of each arm, the difference, the SQL
queries of one request, and the audit rows each arm wrote (the "with" arm one
row per detail and 25 per page, the "without" arm none: checked). A figure, not
a test: see bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.census import database_recreate, django_setup, p95, say  # noqa: E402
from bench.load import loads  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/continuum_load_audit_bench"
PAGE = 25


def build(clients: int):
    """One site with a detox and a residential program, a coordinator with a token,
    and `clients` clients registered and admitted through the services."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from backend.network.models import LevelOfCare, Program, Site
    from services.access import Role, role_grant
    from services.clients import client_create
    from services.episodes import episode_admit

    call_command("migrate", verbosity=0, interactive=False)
    site = Site.objects.create(code="bench-audit", name="Bench Audit", time_zone="America/Chicago")
    programs = [
        Program.objects.create(
            site=site, level=LevelOfCare.objects.get(code=code), name=f"Audit {code}", capacity=cap
        )
        for code, cap in (("detox", clients), ("residential", clients))
    ]
    coordinator = get_user_model().objects.create_user("bench-audit-coordinator")
    role_grant(user=coordinator, role=Role.CARE_COORDINATOR, site=site)
    admitted = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    ids = []
    for n in range(clients):
        client = client_create(
            actor=coordinator,
            first_name=f"Audit{n:03d}",
            last_name="Bench",
            date_of_birth=dt.date(1980 + n % 20, 1 + n % 12, 1 + n % 28),
            registered_site=site,
            phone="(512) 555-0100",
            email=f"audit{n:03d}@example.com",
        )
        episode_admit(
            actor=coordinator, client=client, program=programs[n % 2], admitted_at=admitted
        )
        ids.append(client.pk)
    return Token.objects.create(user=coordinator).key, ids


class Arms:
    """Requests as shipped ("with audit") and with the audit write replaced by a
    no-op ("without"), in this process only."""

    def __init__(self, token: str):
        from rest_framework.test import APIClient

        from backend.api import viewsets

        self.client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
        self.viewsets = viewsets
        self.shipped = viewsets.audit_reads

    def get(self, path: str, audited: bool) -> float:
        self.viewsets.audit_reads = self.shipped if audited else _write_nothing
        try:
            start = time.perf_counter()
            response = self.client.get(path)
            elapsed = (time.perf_counter() - start) * 1000
        finally:
            self.viewsets.audit_reads = self.shipped
        if response.status_code != 200:
            raise AssertionError(f"{path}: {response.status_code} {response.content[:200]}")
        return elapsed

    def queries(self, path: str, audited: bool) -> list[str]:
        from django.db import connection

        seen: list[str] = []

        def note(run, sql, *rest):
            seen.append(sql)
            return run(sql, *rest)

        with connection.execute_wrapper(note):
            self.get(path, audited)
        return seen


def _write_nothing(**kwargs) -> int:
    return 0


def audit_rows() -> int:
    from backend.audit.models import AuditEvent

    return AuditEvent.objects.count()


def compare(arms: Arms, name: str, paths: list[str], repeat: int, rows_each: int) -> list[str]:
    for path in paths[:5]:  # warm-up: URL resolution, first queries, template-free renderers
        arms.get(path, True)
        arms.get(path, False)
    timings: dict[bool, list[float]] = {True: [], False: []}
    written: dict[bool, int] = {True: 0, False: 0}
    for n in range(repeat):
        path = paths[n % len(paths)]
        for audited in (True, False) if n % 2 == 0 else (False, True):
            before = audit_rows()
            timings[audited].append(arms.get(path, audited))
            written[audited] += audit_rows() - before
    if written[True] != repeat * rows_each or written[False] != 0:
        raise AssertionError(f"{name}: audit rows written {written}, expected {repeat * rows_each}")
    queries = {audited: arms.queries(paths[0], audited) for audited in (True, False)}
    inserts = [q for q in queries[True] if q.startswith('INSERT INTO "audit_auditevent"')]
    if len(queries[True]) - len(queries[False]) != len(inserts) or not inserts:
        raise AssertionError(f"{name}: the arms differ by more than the audit insert")
    lines = []
    for audited in (True, False):
        samples = timings[audited]
        lines.append(
            f"  {name:<28} {'with audit' if audited else 'without':<11} "
            f"median {statistics.median(samples):6.2f} ms  p95 {p95(samples):6.2f} ms  "
            f"{len(queries[audited])} queries  {written[audited]} audit rows"
        )
    median = statistics.median(timings[True]) - statistics.median(timings[False])
    tail = p95(timings[True]) - p95(timings[False])
    lines.append(
        f"  {'':<28} {'difference':<11} median {median:+6.2f} ms  p95 {tail:+6.2f} ms  "
        f"({median / statistics.median(timings[False]):+.0%} of the median without)"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=500, help="requests per arm and question")
    parser.add_argument("--clients", type=int, default=60, help="clients in care (at least 25)")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_AUDIT_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args(argv)
    if args.clients < PAGE:
        raise SystemExit(f"--clients must be at least {PAGE}: a page of {PAGE} is timed.")

    os.environ.setdefault("LOG_LEVEL", "WARNING")
    database_recreate(args.database_url)
    django_setup(args.database_url)
    started = time.monotonic()
    token, ids = build(args.clients)
    say(f"built {args.clients} clients in care in {time.monotonic() - started:.1f} s")

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        synchronous_commit = cursor.fetchone()[0]
    arms = Arms(token)
    load_before = os.getloadavg()
    say(
        f"{args.repeat} requests per arm, the arms in turn "
        f"(PostgreSQL synchronous_commit {synchronous_commit}):"
    )
    for line in compare(
        arms, "GET /api/v1/clients/{id}/", [f"/api/v1/clients/{pk}/" for pk in ids], args.repeat, 1
    ):
        say(line)
    for line in compare(
        arms,
        f"GET /api/v1/clients/ ({PAGE})",
        [f"/api/v1/clients/?page_size={PAGE}"],
        args.repeat,
        PAGE,
    ):
        say(line)
    load_after = os.getloadavg()
    say(
        f"machine: {os.cpu_count()} cores; load average (1, 5, 15 min) before "
        f"{loads(load_before)}, after {loads(load_after)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
