#!/usr/bin/env python
"""List endpoints against `GET /api/v1/me/` (issue 16): a page of 25 of each list,
timed in the same process as the trivial endpoint, one request at a time.

    .venv/bin/python bench/lists.py [--clients 400] [--repeat 30] [--page-size 25]
        [--server both|client|gunicorn] [--reuse] [--breakdown]
        [--database-url postgres://postgres@127.0.0.1:5432/lists_bench]

It (re)creates the database (its name must contain "bench"), migrates it and fills it
with `seed_demo --clients N` (the demo network, its users, N client journeys replayed
through the services, the alumni team's year, two partners). `--reuse` keeps the data of
an earlier run. Then, with the production settings (backend.settings.production):

- `client`: Django's test client in this process, over HTTPS, with a staff token in
  `Authorization`, as a generated client sends it. The SQL queries of one request are
  counted here.
- `gunicorn`: one gunicorn worker started by the script with the same settings and
  database, asked over HTTP on 127.0.0.1 (with `X-Forwarded-Proto: https`, as the proxy
  in front of it would send).

Each round asks every endpoint once, in turn, so that a busy moment of the shared
machine falls on all of them alike; the first round is a warm-up. It prints the median,
the p95 (nearest rank), the bytes of the body, the queries and the ratio of each median
to /me/'s. `--breakdown` then asks each list again in the test client with timers around
the parts: SQL (excluding the audit insert), the audit insert, serialisation (of which the
nested objects), the JSON rendering, and the rest (routing, middleware, authentication,
DRF). A figure, not a test: run it by hand, and compare the ratios.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.census import database_exists, database_recreate, say  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lists_bench"
TARGET_RATIO = 3.0
ME = "/api/v1/me/"


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str  # without the page size
    user: str  # a demo user, or "partner" (the demo hospital's OAuth token)


ENDPOINTS = [
    Endpoint("me", ME, "coordinator.austin"),
    Endpoint("clients", "/api/v1/clients/", "coordinator.austin"),
    Endpoint("clients (admin)", "/api/v1/clients/", "admin"),
    Endpoint("episodes", "/api/v1/episodes/", "coordinator.austin"),
    Endpoint("placements", "/api/v1/placements/", "coordinator.austin"),
    Endpoint("transfers", "/api/v1/transfers/", "coordinator.austin"),
    Endpoint("transfers (admin)", "/api/v1/transfers/", "admin"),
    Endpoint("handoffs", "/api/v1/handoffs/", "admin"),
    Endpoint("follow-ups completed", "/api/v1/follow-ups/?status=completed", "alumni"),
    Endpoint("follow-ups upcoming", "/api/v1/follow-ups/?status=upcoming", "alumni"),
    Endpoint("follow-up assignees", "/api/v1/follow-ups/assignees/", "admin"),
    Endpoint("referrals", "/api/v1/referrals/", "admin"),
    Endpoint("notifications", "/api/v1/notifications/", "coordinator.austin"),
    Endpoint("programs", "/api/v1/programs/", "coordinator.austin"),
    Endpoint("sites", "/api/v1/sites/", "coordinator.austin"),
    Endpoint("levels of care", "/api/v1/levels-of-care/", "coordinator.austin"),
    Endpoint("partners", "/api/v1/partners/", "admin"),
    Endpoint("consents", "/api/v1/consents/", "admin"),
    Endpoint("audit trail", "/api/v1/audit/", "admin"),
    Endpoint("partner: referrals", "/api/v1/partner/referrals/", "partner"),
    Endpoint("partner: clients", "/api/v1/partner/clients/", "partner"),
]


def page_url(endpoint: Endpoint, page_size: int) -> str:
    if endpoint.path == ME:
        return ME
    joiner = "&" if "?" in endpoint.path else "?"
    return f"{endpoint.path}{joiner}page_size={page_size}"


def environment(url: str) -> dict:
    return {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "backend.settings.production",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key"),
        "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": "",  # Celery eager, cache in memory: no other helper's Redis
    }


def django_start(url: str) -> None:
    os.environ.update(environment(url))
    import warnings

    import django

    django.setup()
    warnings.filterwarnings("ignore", message="No directory at")


def build(clients: int) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:  # seed_demo prints its emails
        call_command("seed_demo", clients=clients, stdout=quiet, stderr=quiet)
    from django.db import connection

    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would leave them
        cursor.execute("VACUUM ANALYZE")


def staff_tokens() -> dict[str, str]:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    users = get_user_model().objects.filter(
        username__in={e.user for e in ENDPOINTS if e.user != "partner"}
    )
    return {user.username: Token.objects.get_or_create(user=user)[0].key for user in users}


def partner_token() -> str:
    """A fresh credential of the demo hospital, exchanged for an access token."""
    import base64

    from django.test import Client

    from backend.partners.models import Partner, PartnerKind
    from services.partners import credential_add

    hospital = Partner.objects.get(kind=PartnerKind.TREATING_PROVIDER)
    credential = credential_add(partner=hospital)
    basic = base64.b64encode(f"{credential.client_id}:{credential.client_secret}".encode())
    response = Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=f"Basic {basic.decode()}",
        secure=True,
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def authorization(endpoint: Endpoint, tokens: dict[str, str]) -> str:
    if endpoint.user == "partner":
        return f"Bearer {tokens['partner']}"
    return f"Token {tokens[endpoint.user]}"


# --- timing ---------------------------------------------------------------------------


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process's CPU time (test client)
    size: int = 0
    rows: int | None = None
    queries: int | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def rows_of(body: bytes) -> int | None:
    data = json.loads(body)
    return len(data["results"]) if isinstance(data, dict) and "results" in data else None


class TestClientAsker:
    label = "Django test client, in process"

    def __init__(self, tokens):
        from django.test import Client

        self.client = Client()
        self.tokens = tokens

    def ask(self, endpoint: Endpoint, url: str) -> tuple[int, bytes]:
        response = self.client.get(
            url, HTTP_AUTHORIZATION=authorization(endpoint, self.tokens), secure=True
        )
        return response.status_code, response.content

    def close(self) -> None:
        pass


class GunicornAsker:
    label = "gunicorn, 1 worker, over HTTP"

    def __init__(self, tokens, url: str):
        self.tokens = tokens
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "backend.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env={**os.environ, **environment(url)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.connection.connect()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)

    def ask(self, endpoint: Endpoint, url: str) -> tuple[int, bytes]:
        self.connection.request(
            "GET",
            url,
            headers={
                "Authorization": authorization(endpoint, self.tokens),
                "X-Forwarded-Proto": "https",
                "Host": "localhost",
                "Accept": "application/json",
            },
        )
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()
        self.process.terminate()
        self.process.wait(timeout=30)


@contextmanager
def counting_queries(into: list):
    from django.db import connection

    def count(run, sql, *rest):
        into.append(sql)
        return run(sql, *rest)

    with connection.execute_wrapper(count):
        yield


def time_all(asker, endpoints, page_size: int, repeat: int, count_queries: bool) -> dict:
    timings = {endpoint: Timing() for endpoint in endpoints}
    for round_ in range(repeat + 1):
        for endpoint in endpoints:
            url = page_url(endpoint, page_size)
            queries: list = []
            if count_queries and round_ == 1:
                with counting_queries(queries):
                    status, body = asker.ask(endpoint, url)
                timings[endpoint].queries = len(queries)
                continue  # the counted request is not timed: the wrapper costs a little
            start, start_cpu = time.perf_counter(), time.process_time()
            status, body = asker.ask(endpoint, url)
            elapsed = (time.perf_counter() - start) * 1000
            cpu = (time.process_time() - start_cpu) * 1000
            if status != 200:
                raise SystemExit(f"{endpoint.name}: {url} answered {status}: {body[:300]!r}")
            if round_ == 0:
                timings[endpoint].size = len(body)
                timings[endpoint].rows = rows_of(body)
            else:
                timings[endpoint].samples.append(elapsed)
                timings[endpoint].cpu.append(cpu)
    return timings


def print_table(asker, timings: dict) -> None:
    me = next(t for e, t in timings.items() if e.path == ME)
    in_process = isinstance(asker, TestClientAsker)
    say(f"\n{asker.label}: median and p95 in ms, the ratio of the medians to /me/'s")
    header = ["rows", "median", "p95", "bytes", "queries", "x /me/"]
    if in_process:
        header += ["cpu", "x /me/"]
    say(f"{'endpoint':<24}{header[0]:>5}" + "".join(f"{name:>9}" for name in header[1:]))
    for endpoint, timing in timings.items():
        queries = "" if timing.queries is None else str(timing.queries)
        rows = "" if timing.rows is None else str(timing.rows)
        ratio = timing.median / me.median
        line = (
            f"{endpoint.name:<24}{rows:>5}{timing.median:>9.1f}{timing.p95:>9.1f}"
            f"{timing.size:>9}{queries:>9}{ratio:>9.2f}"
        )
        if in_process:
            cpu = statistics.median(timing.cpu)
            line += f"{cpu:>9.1f}{cpu / statistics.median(me.cpu):>9.2f}"
        flag = "" if ratio <= TARGET_RATIO or endpoint.path == ME else "  over 3x"
        say(line + flag)


# --- where the time goes ----------------------------------------------------------------


class Parts:
    """Timers around the parts of a request, in this process: patched in for the
    breakdown only, then taken out again."""

    def __init__(self):
        self.totals: dict[str, float] = defaultdict(float)
        self.depth = 0
        self.in_audit = False

    @contextmanager
    def installed(self):
        from django.db import connection
        from rest_framework import serializers

        from backend.api import renderers
        from services import audit

        patched = []

        def patch(owner, name, wrapper):
            original = getattr(owner, name)
            patched.append((owner, name, original))
            setattr(owner, name, wrapper(original))

        def timed(part):
            def wrapper(original):
                def run(*args, **kwargs):
                    start = time.perf_counter()
                    try:
                        return original(*args, **kwargs)
                    finally:
                        self.totals[part] += time.perf_counter() - start

                return run

            return wrapper

        def audited(original):
            def run(*args, **kwargs):
                self.in_audit = True
                start = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    self.totals["audit rows"] += time.perf_counter() - start
                    self.in_audit = False

            return run

        def represented(original):
            def run(serializer, *args, **kwargs):
                self.depth += 1
                start = time.perf_counter()
                try:
                    return original(serializer, *args, **kwargs)
                finally:
                    self.depth -= 1
                    spent = time.perf_counter() - start
                    if self.depth == 0:
                        self.totals["serialisation"] += spent
                    elif self.depth == 2 and not isinstance(serializer, serializers.ListSerializer):
                        # depth 1 is a row of the page; 2 a nested object (or the
                        # list of them) directly inside it
                        self.totals["  of which nested"] += spent

            return run

        def sql(run, sql_text, *rest):
            start = time.perf_counter()
            try:
                return run(sql_text, *rest)
            finally:
                if not self.in_audit:
                    self.totals["SQL (not audit)"] += time.perf_counter() - start

        # The function that writes a page's read rows (audit_record_bulk before it).
        writer = "audit_reads_of_kinds" if hasattr(audit, "audit_reads_of_kinds") else None
        patch(audit, writer or "audit_record_bulk", audited)
        patch(serializers.Serializer, "to_representation", represented)
        patch(serializers.ListSerializer, "to_representation", represented)
        patch(renderers.JSONRenderer, "render", timed("JSON rendering"))
        try:
            with connection.execute_wrapper(sql):
                yield self
        finally:
            for owner, name, original in reversed(patched):
                setattr(owner, name, original)


def breakdown(tokens, endpoints, page_size: int, repeat: int) -> None:
    asker = TestClientAsker(tokens)
    say("\nWhere the time goes (test client, mean ms per request; timers patched in)")
    columns = [
        "SQL (not audit)",
        "audit rows",
        "serialisation",
        "  of which nested",
        "JSON rendering",
    ]
    say(
        f"{'endpoint':<24}{'total':>8}"
        + "".join(f"{c.strip()[:10]:>12}" for c in columns)
        + f"{'the rest':>10}"
    )
    for endpoint in endpoints:
        url = page_url(endpoint, page_size)
        asker.ask(endpoint, url)
        parts = Parts()
        total = 0.0
        with parts.installed():
            for _ in range(repeat):
                start = time.perf_counter()
                asker.ask(endpoint, url)
                total += time.perf_counter() - start
        mean = {name: 1000 * value / repeat for name, value in parts.totals.items()}
        total_ms = 1000 * total / repeat
        # Nested objects are inside serialisation; audit rows hold their own SQL.
        known = sum(mean.get(c, 0.0) for c in columns if not c.startswith(" "))
        say(
            f"{endpoint.name:<24}{total_ms:>8.1f}"
            + "".join(f"{mean.get(c, 0.0):>12.1f}" for c in columns)
            + f"{total_ms - known:>10.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--page-size", type=int, default=25)
    parser.add_argument("--server", choices=["both", "client", "gunicorn"], default="both")
    parser.add_argument("--reuse", action="store_true", help="keep the data of an earlier run")
    parser.add_argument("--breakdown", action="store_true", help="time the parts of each list")
    parser.add_argument("--only", help="comma-separated endpoint names (me is always asked)")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_LISTS_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args()

    if args.reuse and not database_exists(args.database_url):
        raise SystemExit("--reuse: no database of an earlier run")
    if not args.reuse:
        database_recreate(args.database_url)
    django_start(args.database_url)
    if not args.reuse:
        started = time.perf_counter()
        build(args.clients)
        took = time.perf_counter() - started
        say(f"built with seed_demo --clients {args.clients} in {took:.0f} s")
    else:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    tokens = {**staff_tokens(), "partner": partner_token()}

    endpoints = ENDPOINTS
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        endpoints = [e for e in ENDPOINTS if e.name in wanted or e.path == ME]

    if args.server in ("both", "client"):
        asker = TestClientAsker(tokens)
        print_table(asker, time_all(asker, endpoints, args.page_size, args.repeat, True))
    if args.server in ("both", "gunicorn"):
        asker = GunicornAsker(tokens, args.database_url)
        try:
            timings = time_all(asker, endpoints, args.page_size, args.repeat, False)
        finally:
            asker.close()
        print_table(asker, timings)
    if args.breakdown:
        breakdown(tokens, [e for e in endpoints if e.path != ME], args.page_size, 10)
    say(f"\nload average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
