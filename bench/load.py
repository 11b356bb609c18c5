#!/usr/bin/env python
"""Load benchmark (issues 15 and 16): mixed traffic against gunicorn with the
production settings, on PostgreSQL with Redis and a Celery worker, and the
framework's ceiling (GET /api/v1/me/ alone) served by the same gunicorn in the
same run.

    .venv/bin/pip install -r bench/requirements-load.txt   # locust, once; not an app dependency
    .venv/bin/python bench/load.py [--users 12] [--duration 120] [--ceiling-duration 30]
        [--warmup 10] [--workers 2 x cores + 1] [--clients 600] [--reuse]
        [--database-url postgres://postgres@127.0.0.1:5432/continuum_load_bench]
        [--redis-url redis://127.0.0.1:6379/0]

It (re)creates the database (its name must contain "bench"; --reuse keeps the
one of an earlier run), migrates it, fills it with `seed_demo` (five sites,
--clients synthetic journeys replayed through the services: a few hundred
clients in care, the alumni team's queue, the demo's partners and consents),
adds a coordinator and a manager at every site, and gives the demo's partners
a rate limit no bench reaches. Each run then sets fresh random passwords and
issues fresh partner credentials, so nothing secret is stored anywhere.

It starts a Celery worker and gunicorn (`backend.settings.production`, a
SECRET_KEY made at run time, --workers processes), then runs locust
(bench/load_locust.py) twice with --users users and no wait between requests:
the mixed traffic for --duration seconds, then GET /api/v1/me/ alone for
--ceiling-duration seconds, each after --warmup seconds that are not counted.
Every request sends `X-Forwarded-Proto: https`, as the TLS proxy in front of
gunicorn would, so SECURE_SSL_REDIRECT stays on and does not redirect.

It prints, per kind of request, the throughput, p50, p95, p99 and the errors,
the same for the ceiling, the ratio mixed / ceiling, the CPU each part used,
and the machine (cores, load average before and after). Targets (issues 15
and 16): 0 errors, a ratio of at least 0.40, p99 under 200 ms at the
concurrency that saturates 2 cores. A figure, not a test: see bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.census import database_exists, database_recreate, django_setup, say  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/continuum_load_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
INSTALL = ".venv/bin/pip install -r bench/requirements-load.txt"
BIN = Path(sys.executable).parent
RATIO_TARGET = 0.40
P99_TARGET_MS = 200.0
# Every partner's rate limit in the bench: far above what a bench sends, so a
# 429 would be a finding rather than the throttle doing its job.
PARTNER_RATE = "1000000/min"
# The share of the virtual users in each role (bench/load_locust.py has their tasks).
MIX = {
    "coordinator": 0.34,
    "workspace": 0.16,
    "manager": 0.16,
    "alumni": 0.16,
    "referrer": 0.09,
    "payer": 0.09,
}
SIGN_IN = "sign in"  # requests named so are counted apart from the mixed traffic


def say_table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for n, row in enumerate([header, *rows]):
        cells = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        say("  " + "  ".join(cells))
        if n == 0:
            say("  " + "  ".join("-" * w for w in widths))


# --- the data -----------------------------------------------------------------------


def build(url: str, clients: int) -> None:
    """A new database: migrated, seeded by seed_demo, with the bench's staff."""
    from django.core.management import call_command

    database_recreate(url)
    say(f"Building {url.rsplit('/', 1)[-1]}: migrate, then seed_demo --clients {clients}")
    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    # A throwaway password: every run sets its own before signing in (people_ready).
    call_command("seed_demo", clients=clients, password=secrets.token_urlsafe(16))
    staff_add()
    say(f"  built in {time.monotonic() - started:.0f} s")


def staff_add() -> None:
    """A care coordinator and a site manager at each demo site, besides the demo's own."""
    from django.contrib.auth import get_user_model

    from backend.network.models import Site
    from services.access import Role, role_grant

    users = get_user_model().objects
    for site in Site.objects.order_by("code"):
        for role, kind in ((Role.CARE_COORDINATOR, "coordinator"), (Role.SITE_MANAGER, "manager")):
            user, _ = users.get_or_create(
                username=f"bench.{kind}.{site.code}",
                defaults={"first_name": "Bench", "last_name": f"{kind.title()} {site.name}"},
            )
            role_grant(user=user, role=role, site=site)


@dataclass
class People:
    passwords: dict[str, str] = field(default_factory=dict)
    partners: list[dict] = field(default_factory=list)


def people_ready() -> People:
    """Fresh passwords for the staff the bench signs in as, and a fresh credential
    for each partner (the earlier ones revoked), made for this run only."""
    from django.contrib.auth import get_user_model

    from backend.partners.models import Partner
    from services import partners as partner_service

    people = People()
    admin = get_user_model().objects.get(username="admin")
    users = get_user_model().objects.filter(
        username__regex=r"^(bench\.|coordinator\.|manager\.|alumni$)"
    )
    for user in users:
        password = secrets.token_urlsafe(18)
        user.set_password(password)
        user.save(update_fields=["password"])
        people.passwords[user.username] = password
    for partner in Partner.objects.order_by("name"):
        previous = [app.client_id for app in partner_service.credentials_of(partner)]
        credential = partner_service.credential_add(partner=partner)
        for client_id in previous:
            partner_service.credential_revoke(partner=partner, client_id=client_id)
        partner_service.partner_update(
            actor=admin, partner=partner, changes={"rate_limit": PARTNER_RATE}
        )
        people.partners.append(
            {
                "name": partner.name,
                "kind": partner.kind,
                "client_id": credential.client_id,
                "client_secret": credential.client_secret,
                "scopes": list(partner.scopes),
                "sites": [str(pk) for pk in partner.sites.values_list("pk", flat=True)],
            }
        )
    return people


def mix_counts(users: int) -> dict[str, int]:
    """Whole numbers of virtual users per role, summing to `users`, each at least 1."""
    if users < len(MIX):
        raise SystemExit(f"--users must be at least {len(MIX)}: one per role.")
    counts = {role: max(1, math.floor(share * users)) for role, share in MIX.items()}
    order = sorted(MIX, key=MIX.get, reverse=True)
    n = 0
    while sum(counts.values()) < users:
        counts[order[n % len(order)]] += 1
        n += 1
    while sum(counts.values()) > users:
        role = max((r for r in order if counts[r] > 1), key=counts.get)
        counts[role] -= 1
    return counts


def plan_make(people: People, counts: dict[str, int]) -> dict:
    """What each virtual user works with. Each transferring coordinator gets clients
    of its own (in care at its site, in treatment, without an active transfer), so
    two never move the same client, and programs of its site with more free places
    than there are coordinators there, so an approval never meets a full program."""
    from backend.care.models import Placement, TransferStatus
    from backend.network.models import LevelCode, Site
    from services.capacity import programs_with_occupancy

    active = [TransferStatus.REQUESTED, TransferStatus.APPROVED]
    sites = list(Site.objects.order_by("code"))
    per_site = {}
    for site in sites:
        placements = (
            Placement.objects.filter(ended_at__isnull=True, program__site=site)
            .exclude(program__level_id=LevelCode.ALUMNI)
            .exclude(client__transfers__status__in=active)
            .order_by("client__mrn")
        )
        per_site[site.code] = {
            "site": str(site.pk),
            "clients": [[str(p.client_id), str(p.program_id)] for p in placements],
            "programs": programs_with_occupancy(
                site.programs.filter(is_active=True).exclude(level_id=LevelCode.ALUMNI)
            ),
        }
    usable = [code for code, s in per_site.items() if len(s["clients"]) >= 2]
    slots = []
    for n in range(counts["coordinator"]):
        code = usable[n % len(usable)]
        slots.append(code)
    coordinators = []
    for n, code in enumerate(slots):
        same = [i for i, c in enumerate(slots) if c == code]
        share = same.index(n)
        site = per_site[code]
        room = [str(p.pk) for p in site["programs"] if p.available > len(same) + 1]
        coordinators.append(
            {
                "username": f"bench.coordinator.{code}",
                "site": site["site"],
                "clients": site["clients"][share :: len(same)],
                "programs": room,
            }
        )
    return {
        "counts": counts,
        "passwords": people.passwords,
        "coordinators": coordinators,
        "sites": {
            s["site"]: {"code": code, "clients": [c for c, _ in s["clients"]]}
            for code, s in per_site.items()
        },
        "workspace": [
            {"username": f"bench.coordinator.{code}", "site": per_site[code]["site"]}
            for code in usable
        ],
        "managers": [
            {"username": f"bench.manager.{code}", "site": per_site[code]["site"]}
            for code in per_site
        ],
        "alumni": [{"username": "alumni", "site": None}],
        "partners": people.partners,
    }


def counts_now() -> dict[str, int]:
    from backend.aftercare.models import FollowUp, Referral
    from backend.audit.models import AuditEvent
    from backend.care.models import Client, Placement, Transfer

    return {
        "clients": Client.objects.count(),
        "in care": Placement.objects.filter(ended_at__isnull=True).count(),
        "transfers": Transfer.objects.count(),
        "follow-ups": FollowUp.objects.count(),
        "referrals": Referral.objects.count(),
        "audit rows": AuditEvent.objects.count(),
    }


# --- the servers --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment production needs, and no more: the bench's own variables
    (DEBUG, a fixed SECRET_KEY, base settings) are not passed on."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="backend.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
    )
    return env


@dataclass
class Servers:
    url: str
    gunicorn: subprocess.Popen
    worker: subprocess.Popen
    logs: Path

    def stop(self) -> None:
        for process in (self.gunicorn, self.worker):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in (self.gunicorn, self.worker):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def servers_start(env: dict[str, str], workers: int, logs: Path) -> Servers:
    def run(name: str, argv: list[str]) -> subprocess.Popen:
        log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    say("Collecting static files (the pages need the manifest)")
    subprocess.run(
        [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    worker = run(
        "celery",
        [
            str(BIN / "celery"),
            "-A",
            "workers",
            "worker",
            "-Q",
            "default,handoffs,notifications,followups",
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
        ],
    )
    gunicorn = run(
        "gunicorn",
        [
            str(BIN / "gunicorn"),
            "backend.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
        ],
    )
    servers = Servers(url=url, gunicorn=gunicorn, worker=worker, logs=logs)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health/", timeout=5) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if gunicorn.poll() is not None or time.monotonic() > deadline:
            servers.stop()
            raise SystemExit(f"gunicorn did not become healthy; see {logs / 'gunicorn.log'}")
        time.sleep(0.5)
    say(f"gunicorn on {url} ({workers} workers), a Celery worker; logs in {logs}")
    return servers


# --- CPU ----------------------------------------------------------------------------


def cpu_by_pid(processes) -> dict[int, float]:
    """User + system CPU seconds of each process."""
    import psutil  # installed with locust

    seconds = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
    return seconds


def tree(pid: int) -> list:
    import psutil

    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return []


def database_backends(name: str) -> list:
    """PostgreSQL's server processes for this database (others may use the server)."""
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline"]):
        line = " ".join(process.info["cmdline"] or [])
        if line.startswith("postgres:") and f" {name} " in f"{line} ":
            found.append(process)
    return found


def cpu_busy() -> float:
    """Busy CPU seconds of the whole machine so far (every process, ours or not)."""
    import psutil

    times = psutil.cpu_times()._asdict()
    # guest time is counted in user time already; idle and iowait are not busy.
    idle = ("idle", "iowait", "guest", "guest_nice")
    return sum(v for k, v in times.items() if k not in idle)


def cpu_sample(servers: Servers, database: str) -> dict:
    return {
        "machine": {0: cpu_busy()},
        "gunicorn": cpu_by_pid(tree(servers.gunicorn.pid)),
        "celery": cpu_by_pid(tree(servers.worker.pid)),
        "postgres": cpu_by_pid(database_backends(database)),
    }


def cpu_used(start: dict, end: dict) -> dict[str, float]:
    """CPU seconds per part between two samples; a process born in between counts whole."""
    return {
        part: sum(seconds - start.get(part, {}).get(pid, 0.0) for pid, seconds in pids.items())
        for part, pids in end.items()
    }


# --- a phase ------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    seconds: float
    samples: dict[str, list[float]]
    failures: dict[str, dict[str, int]]
    cpu: dict[str, float]

    def rows(self) -> dict[str, list[float]]:
        return {n: s for n, s in self.samples.items() if not n.startswith(SIGN_IN)}

    def all(self) -> list[float]:
        return [ms for samples in self.rows().values() for ms in samples]

    def errors(self, name: str | None = None) -> int:
        names = [name] if name else [n for n in self.failures if not n.startswith(SIGN_IN)]
        return sum(sum(self.failures.get(n, {}).values()) for n in names)

    def throughput(self) -> float:
        return len(self.all()) / self.seconds


def phase_run(
    phase: str, plan_path: Path, servers: Servers, args: argparse.Namespace, duration: int
) -> Phase:
    out = servers.logs / f"{phase}.json"
    argv = [
        str(BIN / "python"),
        str(ROOT / "bench" / "load_locust.py"),
        "--plan",
        str(plan_path),
        "--phase",
        phase,
        "--host",
        servers.url,
        "--users",
        str(args.users),
        "--duration",
        str(duration),
        "--warmup",
        str(args.warmup),
        "--out",
        str(out),
        "--leave-out",
        args.leave_out,
    ]
    say(f"Running {phase}: {args.users} users, {args.warmup} s warm-up, {duration} s counted")
    log = servers.logs / f"locust-{phase}.log"
    with open(log, "wb") as output:
        locust = subprocess.Popen(argv, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        # CPU is counted over the counted window only: the child says when it begins.
        marks = {}
        database = args.database_url.rsplit("/", 1)[-1]
        while locust.poll() is None:
            for mark in ("start", "end"):
                if mark not in marks and out.with_suffix(f".{mark}").exists():
                    marks[mark] = cpu_sample(servers, database)
            time.sleep(0.1)
    end = marks.get("end") or cpu_sample(servers, database)
    if locust.returncode != 0 or not out.exists():
        raise SystemExit(f"locust failed ({locust.returncode}); see {log}")
    result = json.loads(out.read_text())
    start = marks.get("start", end)
    finish = result.get("cpu_at_end", {})
    cpu = cpu_used(start, end)
    if "locust" in finish:  # the child measured its own CPU just before it exited
        cpu["locust"] = finish["locust"]
    return Phase(phase, result["seconds"], result["samples"], result["failures"], cpu)


# --- the report ---------------------------------------------------------------------


def nearest_rank(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def figures(samples: list[float], seconds: float) -> list[str]:
    if not samples:
        return ["0", "0.0", "-", "-", "-"]
    return [
        f"{len(samples)}",
        f"{len(samples) / seconds:.1f}",
        f"{nearest_rank(samples, 0.50):.0f}",
        f"{nearest_rank(samples, 0.95):.0f}",
        f"{nearest_rank(samples, 0.99):.0f}",
    ]


HEADER = ["request", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"]


def print_phase(phase: Phase) -> None:
    rows = []
    for name, samples in sorted(phase.rows().items(), key=lambda kv: -len(kv[1])):
        rows.append([name, *figures(samples, phase.seconds), str(phase.errors(name))])
    rows.append([f"all ({phase.name})", *figures(phase.all(), phase.seconds), str(phase.errors())])
    say_table(rows, HEADER)
    signs = {n: s for n, s in phase.samples.items() if n.startswith(SIGN_IN)}
    if signs:
        said = ", ".join(
            f"{n.removeprefix(SIGN_IN).strip(' :')} {len(s)} "
            f"(median {nearest_rank(s, 0.5):.0f} ms, {phase.errors(n)} failed)"
            for n, s in signs.items()
        )
        say(f"  sign-ins, at the start and not in the figures above: {said}")
    for name, messages in phase.failures.items():
        for message, n in messages.items():
            say(f"  error: {name}: {message} x{n}")
    available = (os.cpu_count() or 1) * phase.seconds
    cpu = phase.cpu
    say(
        "  CPU over the counted window: "
        + ", ".join(
            f"{part} {cpu[part] / phase.seconds:.2f} cores"
            for part in ("gunicorn", "postgres", "celery", "locust")
            if part in cpu
        )
        + f"; the whole machine {cpu.get('machine', 0.0) / available:.0%} busy"
    )
    if phase.all():
        # Less sensitive to a shared machine than the throughput: what one request costs.
        each = 1000 * cpu.get("gunicorn", 0.0) / len(phase.all())
        say(f"  gunicorn CPU per request: {each:.1f} ms")


def loads(averages: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in averages)


def print_report(mixed: Phase, ceiling: Phase, args, load_before, load_after) -> None:
    say()
    left_out = f", leaving out {args.leave_out}" if args.leave_out else ""
    say(f"Mixed traffic, {args.users} users without waiting, {mixed.seconds:.0f} s{left_out}:")
    print_phase(mixed)
    say()
    say(f"The ceiling, GET /api/v1/me/ alone, {args.users} users, {ceiling.seconds:.0f} s:")
    print_phase(ceiling)
    ratio = mixed.throughput() / ceiling.throughput() if ceiling.all() else float("nan")
    p99 = nearest_rank(mixed.all(), 0.99) if mixed.all() else float("nan")
    errors = mixed.errors() + ceiling.errors()
    say()
    say(
        f"mixed / ceiling throughput: {mixed.throughput():.1f} / {ceiling.throughput():.1f} "
        f"req/s = {ratio:.2f} (target >= {RATIO_TARGET:.2f}: "
        f"{'met' if ratio >= RATIO_TARGET else 'MISSED'})"
    )
    say(
        f"mixed p99: {p99:.0f} ms (target < {P99_TARGET_MS:.0f} ms: "
        f"{'met' if p99 < P99_TARGET_MS else 'MISSED'})"
    )
    say(f"errors: {errors} (target 0: {'met' if errors == 0 else 'MISSED'})")
    say(
        f"machine: {os.cpu_count()} cores; load average (1, 5, 15 min) before "
        f"{loads(load_before)}, after {loads(load_after)}"
    )


# --- main ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=f"Needs locust, which is not an app dependency: {INSTALL}",
    )
    parser.add_argument("--users", type=int, default=12, help="virtual users (default 12)")
    parser.add_argument("--duration", type=int, default=120, help="seconds of mixed traffic")
    parser.add_argument("--ceiling-duration", type=int, default=30, help="seconds of /me/ alone")
    parser.add_argument("--warmup", type=int, default=10, help="seconds not counted, per phase")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * cores + 1,
        help=f"gunicorn workers (default {2 * cores + 1})",
    )
    parser.add_argument(
        "--clients", type=int, default=600, help="seed_demo --clients (default 600)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run")
    parser.add_argument(
        "--leave-out",
        default="",
        help="request names to leave out of the mix, comma-separated: 'GET /follow-ups/ (page)'",
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_LOAD_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_LOAD_REDIS_URL", DEFAULT_REDIS)
    )
    args = parser.parse_args(argv)
    if importlib.util.find_spec("locust") is None:
        raise SystemExit(f"bench/load.py needs locust: {INSTALL}")
    counts = mix_counts(args.users)

    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The build's notification emails go nowhere (the servers' settings are production's).
    os.environ["EMAIL_URL"] = "dummymail://"
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        raise SystemExit("The database's name must contain 'bench'.")
    fresh = not (args.reuse and database_exists(args.database_url))
    django_setup(args.database_url)
    from django.core.management import call_command
    from django.db import connections

    if fresh:
        build(args.database_url, args.clients)
    else:
        say(f"Reusing {args.database_url.rsplit('/', 1)[-1]}")
        call_command("migrate", verbosity=0, interactive=False)
        staff_add()
    people = people_ready()
    plan = plan_make(people, counts)
    before = counts_now()
    say(
        "Data: "
        + ", ".join(f"{k} {v}" for k, v in before.items())
        + f"; users per role {', '.join(f'{k} {v}' for k, v in counts.items())}"
    )
    connections.close_all()

    logs = Path(tempfile.mkdtemp(prefix="continuum-load-"))
    plan_path = logs / "plan.json"
    plan_path.touch(mode=0o600)
    plan_path.write_text(json.dumps(plan))
    load_before = os.getloadavg()
    servers = servers_start(server_env(args.database_url, args.redis_url), args.workers, logs)
    try:
        mixed = phase_run("mixed", plan_path, servers, args, args.duration)
        ceiling = phase_run("ceiling", plan_path, servers, args, args.ceiling_duration)
    finally:
        servers.stop()
        plan_path.unlink(missing_ok=True)  # it holds this run's passwords and secrets
    load_after = os.getloadavg()
    after = counts_now()
    print_report(mixed, ceiling, args, load_before, load_after)
    say(
        "written during the run: "
        + ", ".join(f"{k} +{after[k] - before[k]}" for k in after if after[k] != before[k])
    )
    say(f"at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; gunicorn and worker logs in {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
