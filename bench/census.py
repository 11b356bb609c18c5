#!/usr/bin/env python
"""Census benchmark (issue 4): build a large network with COPY, then time the census.

    .venv/bin/python bench/census.py [--sites 50] [--programs 300] [--clients 200000]
        [--placements 1000000] [--years 3] [--repeat 15] [--small-placements 10000]
        [--queries now,past,daily,movement] [--jit server|on|off] [--seed 4]
        [--database-url postgres://postgres@127.0.0.1:5432/continuum_bench] [--reuse]

It (re)creates two PostgreSQL databases, `<name>_10k` (the same network with
--small-placements placements) and `<name>` (the full size), migrates them,
loads them (bench/census_data.py), and asks each census question three ways:
through the API layer (a real request with a token, through URL routing,
middleware, the DRF view, the selector and the JSON renderer), through the
selector of services/census.py alone, and as one hand-written SQL query
(bench/census_sql.py) that must give the same figures (checked program by
program before timing). It prints the median and p95 of each, the ratio
API / SQL, and the current census at 10k placements against the full size.

Targets (issue 4): API within 3x the SQL; the current census at the full
size within 1.5x its time at 10k placements; the full build under 5 minutes.
The database names must contain "bench": they are dropped and recreated.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import census_sql  # noqa: E402
from bench.census_data import Sizes, generate, load, network_make, verify  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/continuum_bench"
ADMIN = "bench-admin"
API_TARGET = 3.0
SCALE_TARGET = 1.5
BUILD_TARGET = 300.0
SNAPSHOTS_STEP = "stored snapshots"


def say(text: str = "") -> None:
    print(text, flush=True)


# --- databases ----------------------------------------------------------------------


def with_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def database_recreate(url: str) -> None:
    import psycopg

    name = db_name(url)
    if "bench" not in name:
        raise SystemExit(
            f"Refusing to drop {name!r}: a benchmark database's name contains 'bench'."
        )
    with psycopg.connect(with_name(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_exists(url: str) -> bool:
    import psycopg

    with psycopg.connect(with_name(url, "postgres"), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name(url)])
        return found.fetchone() is not None


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"  # no query log, no debug pages: as in production
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["DJANGO_SETTINGS_MODULE"] = "backend.settings.base"
    import django

    django.setup()
    # WhiteNoise warns once that static files were not collected: not our concern here.
    warnings.filterwarnings("ignore", message="No directory at")


def django_use(url: str) -> None:
    """Point Django's default connection at another database of the same server."""
    import environ
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    connection = connections["default"]
    connection.close()
    config = environ.Env.db_url_config(url)
    for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
        connection.settings_dict[key] = config.get(key, "")
    ContentType.objects.clear_cache()  # content type ids differ between databases


# --- building -----------------------------------------------------------------------


@dataclass
class Build:
    url: str
    sizes: Sizes
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    token: str = ""

    @property
    def total(self) -> float:
        """The build's seconds: the data set, not the whole-history backfill after it
        (an operator's one-off `census_snapshots --all`, printed apart)."""
        return sum(v for k, v in self.seconds.items() if k != SNAPSHOTS_STEP)


def build(url: str, sizes: Sizes) -> Build:
    """Recreate the database, migrate it, create the network and users through
    the ORM and the services, then generate and COPY the clinical history."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from backend.network.models import Program, Site
    from services.access import Role, role_grant

    report = Build(url, sizes)
    say(f"Building {db_name(url)}: {sizes}")
    t0 = time.monotonic()
    database_recreate(url)
    django_use(url)
    call_command("migrate", verbosity=0, interactive=False)
    report.seconds["create + migrate"] = time.monotonic() - t0
    say(f"  migrated in {report.seconds['create + migrate']:.1f} s")

    t0 = time.monotonic()
    network = network_make(sizes)
    sites = Site.objects.bulk_create(
        Site(id=s.id, code=s.code, name=s.name, time_zone=s.time_zone) for s in network.sites
    )
    users = get_user_model().objects
    admin = users.create_user(ADMIN, email=f"{ADMIN}@example.org")
    role_grant(user=admin, role=Role.ORGANISATION_ADMIN)
    report.token = Token.objects.create(user=admin).key
    actors = []
    for n, site in enumerate(sites):
        coordinator = users.create_user(f"bench-coordinator-{n:03d}")
        role_grant(user=coordinator, role=Role.CARE_COORDINATOR, site=site)
        actors.append(coordinator.pk)
    report.seconds["sites + users"] = time.monotonic() - t0

    now = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    data = generate(sizes, network, now=now, actors=actors, progress=say)
    report.seconds["generate"] = data.seconds
    say(
        f"  generated in {data.seconds:.1f} s: "
        + ", ".join(
            f"{t.removeprefix('care_')} {len(rows):,}" for t, (_, rows) in data.tables.items()
        )
        + f"; in care now {data.in_care_now:,}, reserved {data.reserved_now}, "
        f"requested {data.requested_now}"
    )
    report.counts = {t: len(rows) for t, (_, rows) in data.tables.items()}
    report.counts["in care now"] = data.in_care_now
    report.counts["reserved now"] = data.reserved_now

    t0 = time.monotonic()
    Program.objects.bulk_create(
        Program(
            id=p.id,
            site_id=network.sites[p.site].id,
            level_id=p.level,
            name=p.name,
            capacity=p.capacity,
        )
        for p in network.programs
    )
    report.seconds["programs"] = time.monotonic() - t0
    connection.close()  # the COPY connection must not wait on this one

    report.seconds["COPY"] = load(url, data, progress=say)
    del data

    t0 = time.monotonic()
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    report.seconds["VACUUM ANALYZE"] = time.monotonic() - t0
    say(f"  VACUUM ANALYZE in {report.seconds['VACUUM ANALYZE']:.1f} s")

    report.seconds["verify"] = verify(url)
    say(f"  verified the rules in {report.seconds['verify']:.1f} s")

    snapshots_fill(report, now)
    say(f"  built {db_name(url)} in {report.total:.1f} s")
    return report


def snapshots_fill(report: Build, now: dt.datetime) -> None:
    """What the operator's backfill (`census_snapshots --all`) and the nightly
    task leave behind: the stored midnight census of every day of the history,
    written by the service itself. On a database of an earlier run, only the
    days that have no stored figure yet (or a stale one) are recorded."""
    from services import census

    t0 = time.monotonic()
    written = census.census_snapshot_fill(
        now=now, date_from=census.census_history_first_day(), wait=True
    )
    report.seconds[SNAPSHOTS_STEP] = time.monotonic() - t0
    say(
        f"  {written:,} stored midnight figures (the whole history) in "
        f"{report.seconds[SNAPSHOTS_STEP]:.1f} s"
    )


def reuse(url: str, sizes: Sizes) -> Build:
    """An existing bench database: apply new migrations (indexes), refresh statistics."""
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    report = Build(url, sizes)
    django_use(url)
    t0 = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    report.seconds["migrate (reuse)"] = time.monotonic() - t0
    report.token = Token.objects.get(user__username=ADMIN).key
    report.counts["in care now"] = sql_run(
        "SELECT count(*) FROM care_placement WHERE ended_at IS NULL", {}
    )[0][0]
    say(f"Reusing {db_name(url)} (migrated in {report.seconds['migrate (reuse)']:.1f} s)")
    from django.utils import timezone

    snapshots_fill(report, timezone.now())
    return report


# --- timing -------------------------------------------------------------------------


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]  # nearest rank


@dataclass
class Timing:
    name: str
    api: list[float]
    service: list[float]
    sql: list[float]
    rows: int
    note: str = ""

    @property
    def runs(self) -> int:
        return len(self.api)

    @property
    def ratio(self) -> float:
        return statistics.median(self.api) / statistics.median(self.sql)


class Api:
    """Requests through the whole stack, as a client with a token would make them."""

    def __init__(self, token: str):
        from rest_framework.test import APIClient

        self.client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")

    def get(self, path: str, params: dict) -> bytes:
        response = self.client.get(path, params)
        if response.status_code != 200:
            raise AssertionError(
                f"{path} {params}: {response.status_code} {response.content[:300]}"
            )
        return response.content

    @staticmethod
    def exists(path: str) -> bool:
        from django.urls import Resolver404, resolve

        try:
            resolve(path)
        except Resolver404:
            return False
        return True


def sql_run(sql: str, params: dict) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass
class Case:
    """One census question: its API request, its selector in services/census.py
    (to tell the query's cost from the HTTP layer's), and its hand-written SQL."""

    name: str
    path: str
    params: dict
    selector: str
    selector_kwargs: dict
    sql: str
    sql_params: dict
    same: Callable[[bytes, list[tuple]], int]
    note: str = ""
    # Another hand-written query that must give the same figures (checked once, not timed).
    check_sql: str = ""


def run_case(case: Case, api: Api, repeat: int) -> Timing:
    """Check that the API and the SQL give the same figures, then time the three
    in turn (so that a burst of load elsewhere on the machine hits all alike)."""
    from django.contrib.auth import get_user_model

    from services import census, census_flow
    from services.access import forget_access_scope

    user = get_user_model().objects.get(username=ADMIN)
    selector = getattr(census, case.selector, None) or getattr(census_flow, case.selector)

    def call_api() -> bytes:
        return api.get(case.path, case.params)

    def call_service() -> list:
        forget_access_scope(user)  # a request reads the caller's roles afresh
        return selector(user=user, **case.selector_kwargs)

    def call_sql() -> list[tuple]:
        return sql_run(case.sql, case.sql_params)

    t0 = time.perf_counter()
    body = call_api()
    rows = case.same(body, call_sql())  # also the warm-up
    warm_up = time.perf_counter() - t0
    if case.check_sql:
        case.same(body, sql_run(case.check_sql, case.sql_params))
    call_service()
    if warm_up > 2:  # a slow question: as many runs as fit in about a minute, 3 at least
        repeat = max(3, min(repeat, int(60 / warm_up)))
    samples: tuple[list[float], list[float], list[float]] = ([], [], [])
    for _ in range(repeat):
        for call, out in zip((call_api, call_service, call_sql), samples, strict=True):
            t0 = time.perf_counter()
            call()
            out.append(time.perf_counter() - t0)
    timing = Timing(case.name, *samples, rows=rows, note=case.note)
    say(
        f"  {case.name}: API {statistics.median(timing.api) * 1000:.1f} ms, "
        f"selector {statistics.median(timing.service) * 1000:.1f} ms, "
        f"SQL {statistics.median(timing.sql) * 1000:.1f} ms ({rows} rows equal, {repeat} runs)"
    )
    return timing


CENSUS = "/api/v1/census/"
DAILY = "/api/v1/census/daily/"
MOVEMENT = "/api/v1/census/movement/"
QUERIES = ("now", "past", "daily", "movement")


def census_now_case() -> Case:
    return Case(
        "census now",
        CENSUS,
        {},
        "census_at",
        {},
        census_sql.CENSUS_NOW,
        {},
        census_sql.same_census,
    )


def cases(now: dt.datetime, queries: set[str]) -> list[Case]:
    """The timed questions; the daily series and movement once their routes exist."""
    out = [census_now_case()]
    if "past" in queries:
        past = (now - dt.timedelta(days=365)).replace(microsecond=0)
        out.append(
            Case(
                "census 1 year ago",
                CENSUS,
                {"at": past.isoformat()},
                "census_at",
                {"at": past},
                census_sql.CENSUS_AT,
                {"at": past},
                census_sql.same_census,
                note=f"at={past:%Y-%m-%dT%H:%MZ}",
            )
        )
    today = now.date()
    if "daily" in queries and Api.exists(DAILY):
        # Both ranges are stored (the whole history is: snapshots_fill). The
        # timed SQL reads the stored figures; the figures computed from the
        # history (CENSUS_DAILY) are checked against them as well.
        recent, year_ago = today - dt.timedelta(days=2), today - dt.timedelta(days=365)
        for label, last in (("recent", recent), ("a year ago", year_ago)):
            first = last - dt.timedelta(days=89)
            out.append(
                Case(
                    f"daily 90 days, {label}",
                    DAILY,
                    {"from": first.isoformat(), "to": last.isoformat()},
                    "census_daily",
                    {"date_from": first, "date_to": last},
                    census_sql.CENSUS_DAILY_STORED,
                    {"first": first, "last": last},
                    census_sql.same_daily,
                    note=f"{first}..{last}, stored",
                    check_sql=census_sql.CENSUS_DAILY,
                )
            )
    elif "daily" in queries:
        say(f"  (skipped: {DAILY} is not routed yet)")
    if "movement" in queries and Api.exists(MOVEMENT):
        last = today - dt.timedelta(days=2)
        first = last - dt.timedelta(days=29)
        out.append(
            Case(
                "movement 30 days",
                MOVEMENT,
                {"from": first.isoformat(), "to": last.isoformat()},
                "census_movement",
                {"date_from": first, "date_to": last},
                census_sql.MOVEMENT,
                {"first": first, "last": last},
                census_sql.same_movement,
                note=f"{first}..{last}",
            )
        )
    elif "movement" in queries:
        say(f"  (skipped: {MOVEMENT} is not routed yet)")
    return out


def scale_check(small_url: str, small: Build, big_url: str, big: Build, repeat: int) -> dict:
    """The current census (API and SQL) on the small and the full data set,
    alternating between them so that both see the same load on the machine.
    Each switch reconnects, and a warm-up request follows it, before timing."""
    samples: dict = {(size, way): [] for size in ("small", "big") for way in ("api", "sql")}
    for _ in range(repeat):
        for size, url, report in (("small", small_url, small), ("big", big_url, big)):
            django_use(url)
            api = Api(report.token)
            api.get(CENSUS, {})
            sql_run(census_sql.CENSUS_NOW, {})
            t0 = time.perf_counter()
            api.get(CENSUS, {})
            t1 = time.perf_counter()
            sql_run(census_sql.CENSUS_NOW, {})
            t2 = time.perf_counter()
            samples[(size, "api")].append(t1 - t0)
            samples[(size, "sql")].append(t2 - t1)
    return samples


def print_scale(samples: dict, small: Build, big: Build) -> None:
    say()
    say(f"Current census at both sizes, in turn ({len(samples[('big', 'api')])} runs each):")
    say(f"{'placements':>12}{'in care':>9}{'API med ms':>12}{'API p95':>10}{'SQL med ms':>12}")
    for size, report in (("small", small), ("big", big)):
        api, sql = samples[(size, "api")], samples[(size, "sql")]
        say(
            f"{report.sizes.placements:>12,}{report.counts.get('in care now', 0):>9,}"
            f"{ms(statistics.median(api)):>12}{ms(p95(api)):>10}{ms(statistics.median(sql)):>12}"
        )
    ratio = statistics.median(samples[("big", "api")]) / statistics.median(
        samples[("small", "api")]
    )
    sql_ratio = statistics.median(samples[("big", "sql")]) / statistics.median(
        samples[("small", "sql")]
    )
    verdict = "ok" if ratio <= SCALE_TARGET else "MISSED"
    say(f"  ratio API {ratio:.2f} (SQL {sql_ratio:.2f})   target {SCALE_TARGET:g}: {verdict}")


# --- report -------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f}"


def print_table(timings: list[Timing]) -> None:
    say()
    header = (
        f"{'query':<26}{'API med ms':>11}{'API p95':>10}{'selector':>10}"
        f"{'SQL med ms':>11}{'SQL p95':>10}{'API/SQL':>9}  target {API_TARGET:g}x"
    )
    say(header)
    say("-" * len(header))
    for t in timings:
        verdict = "ok" if t.ratio <= API_TARGET else "MISSED"
        say(
            f"{t.name:<26}{ms(statistics.median(t.api)):>11}{ms(p95(t.api)):>10}"
            f"{ms(statistics.median(t.service)):>10}{ms(statistics.median(t.sql)):>11}"
            f"{ms(p95(t.sql)):>10}{t.ratio:>9.2f}  {verdict}"
            f"  ({t.runs} runs{', ' + t.note if t.note else ''})"
        )


def print_build(report: Build) -> None:
    say()
    say(f"Build of {db_name(report.url)} ({report.sizes.placements:,} placements):")
    for step, seconds in report.seconds.items():
        if step != SNAPSHOTS_STEP:
            say(f"  {step:<18}{seconds:8.1f} s")
    verdict = "ok" if report.total <= BUILD_TARGET else "MISSED"
    say(f"  {'total':<18}{report.total:8.1f} s   target {BUILD_TARGET:.0f} s: {verdict}")
    if SNAPSHOTS_STEP in report.seconds:
        say(
            f"  then the whole history stored (census_snapshots --all) in "
            f"{report.seconds[SNAPSHOTS_STEP]:.1f} s"
        )
    if report.counts:
        rows = ", ".join(f"{k.removeprefix('care_')} {v:,}" for k, v in report.counts.items())
        say(f"  rows: {rows}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--programs", type=int, default=300)
    parser.add_argument("--clients", type=int, default=200_000)
    parser.add_argument("--placements", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of each query")
    parser.add_argument(
        "--small-placements",
        type=int,
        default=10_000,
        help="placements of the scale check's small data set (0: skip it)",
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the databases built by an earlier run (after applying new migrations)",
    )
    parser.add_argument(
        "--queries",
        default=",".join(QUERIES),
        help=f"which to time besides the current census (default: {','.join(QUERIES)})",
    )
    parser.add_argument(
        "--jit",
        choices=("server", "on", "off"),
        default="server",
        help="PostgreSQL JIT for the bench databases (default: the server's setting)",
    )
    args = parser.parse_args(argv)
    queries = set(args.queries.split(","))

    big = Sizes(args.sites, args.programs, args.clients, args.placements, args.years, args.seed)
    big.check()
    small_clients = max(1, round(args.clients * args.small_placements / args.placements))
    small = Sizes(
        args.sites, args.programs, small_clients, args.small_placements, args.years, args.seed
    )
    small_url = with_name(args.database_url, db_name(args.database_url) + "_10k")
    django_setup(args.database_url)
    import psycopg
    from django.utils import timezone

    def prepare(url: str, sizes: Sizes) -> Build:
        report = reuse(url, sizes) if args.reuse and database_exists(url) else build(url, sizes)
        # Applies to the next connections to this database (server: its default).
        jit = "RESET jit" if args.jit == "server" else f"SET jit = {args.jit}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{db_name(url)}" {jit}')
        return report

    small_build = None
    if args.small_placements:
        small.check()
        small_build = prepare(small_url, small)
    big_build = prepare(args.database_url, big)
    say(f"Timing {db_name(args.database_url)} ({args.repeat} runs of each, after a warm-up):")
    django_use(args.database_url)
    say(f"  PostgreSQL jit = {sql_run('SHOW jit', {})[0][0]}")
    api = Api(big_build.token)
    timings = [run_case(case, api, args.repeat) for case in cases(timezone.now(), queries)]
    scale = None
    if small_build is not None:
        say("Scale check: the current census at both sizes, in turn")
        scale = scale_check(small_url, small_build, args.database_url, big_build, args.repeat)

    if small_build is not None:
        print_build(small_build)
    print_build(big_build)
    print_table(timings)
    if scale is not None:
        print_scale(scale, small_build, big_build)
    say()
    say(
        f"Machine: {os.cpu_count()} cores, load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + " at the end (other work on the machine skews the figures)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
