#!/usr/bin/env python
"""The virtual users of the load benchmark, run by bench/load.py (locust as a library).

    .venv/bin/python bench/load_locust.py --plan PLAN.json --phase mixed|ceiling
        --host http://127.0.0.1:PORT --users 12 --duration 120 --warmup 10 --out OUT.json

bench/load.py writes the plan (who signs in with which password, each coordinator's
clients and programs, the partners' credentials) and reads OUT.json: every counted
request's time by name, and the failures. Requests made during the warm-up are not
counted; OUT.start appears when counting begins, OUT.end when it ends. Nothing here waits between
requests: each user sends its next request when the last one is answered.

Every request carries `X-Forwarded-Proto: https`: gunicorn runs with the production
settings behind a TLS proxy that the bench stands in for. For the same reason each
user's cookie jar sends the Secure session and CSRF cookies over the plain HTTP hop
(`ProxiedCookies`), so the cookie settings stay production's too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import re
import time
import uuid
from collections import Counter, defaultdict
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import gevent
import psutil
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

PLAN: dict = {}
PROXY = {"X-Forwarded-Proto": "https"}
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
SIGN_IN = "sign in"
_SERIALS: dict[type, itertools.count] = {}


class Ready:
    """How many virtual users have finished signing in (or failed to)."""

    count = 0


def serial(cls: type) -> int:
    """0, 1, 2... for the virtual users of one class, in the order they start."""
    return next(_SERIALS.setdefault(cls, itertools.count()))


class Counted:
    """The counted window's request times by name, and its failures."""

    on = False
    samples: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, Counter] = defaultdict(Counter)


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    # Sign-ins happen before the counted window: they are kept, and reported apart.
    if not Counted.on and not name.startswith(SIGN_IN):
        return
    Counted.samples[name].append(response_time)
    if exception is not None:
        Counted.failures[name][str(exception)[:120]] += 1


class ProxiedCookies(DefaultCookiePolicy):
    """Secure cookies go back over http too: the hop from the proxy to gunicorn."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


class Caller(FastHttpUser):
    """A virtual user: signs in once at its start, then sends requests without waiting."""

    abstract = True
    wait_time = constant(0)
    api: dict[str, str] = PROXY

    def on_start(self) -> None:
        try:
            self.sign_in()
        finally:
            Ready.count += 1

    def sign_in(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def credentials_post(self, path: str, **body) -> dict:
        """A sign-in; a failure stops this user (its requests would all be 401s)."""
        with self.client.post(
            path, headers=PROXY, name=f"{SIGN_IN}: POST {path}", catch_response=True, **body
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}")
                raise StopUser()
            return answer.json()

    def get(self, path: str, name: str, params: dict | None = None, page: bool = False):
        """A GET that must answer 200 (a redirect to the sign-in page is a failure)."""
        with self.client.get(
            path,
            params=params,
            headers=PROXY if page else self.api,
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} {(answer.text or '')[:80]}")
                return None
            return answer

    def post(self, path: str, name: str, body: dict, expect: int, headers: dict | None = None):
        with self.client.post(
            path,
            json=body,
            headers={**self.api, **(headers or {})},
            name=name,
            catch_response=True,
        ) as answer:
            if answer.status_code != expect:
                answer.failure(f"{answer.status_code} {(answer.text or '')[:80]}")
                return None
            return answer.json()

    @staticmethod
    def results(answer) -> list[dict]:
        return answer.json().get("results", []) if answer is not None else []


class Staff(Caller):
    """A member of staff: an API token, a session for the pages, or both."""

    abstract = True
    # One sign-in per virtual user, at its start: the token and the session last the
    # whole run (STAFF_TOKEN_TTL is hours, the idle timeout 15 minutes), so the bench
    # never repeats a sign-in and never sends a wrong password (django-axes).
    wants_token = True
    wants_session = False

    roster = ""  # the plan's list of {"username", "site"} this class signs in as

    def identity(self, n: int) -> str:
        """The n-th user of this class signs in as the n-th of its roster (round the list)."""
        people = PLAN[self.roster]
        me = people[n % len(people)]
        self.site = me["site"]
        return me["username"]

    def sign_in(self) -> None:
        self.username = self.identity(serial(type(self)))
        password = PLAN["passwords"][self.username]
        self.api = dict(PROXY)
        if self.wants_token:
            token = self.credentials_post(
                "/api/v1/auth/token/", json={"username": self.username, "password": password}
            )
            self.api["Authorization"] = f"Bearer {token['token']}"
        if self.wants_session:
            self.session_sign_in(password)

    def session_sign_in(self, password: str) -> None:
        self.client.cookiejar.set_policy(ProxiedCookies())
        page = self.client.get(
            "/accounts/login/", headers=PROXY, name=f"{SIGN_IN}: GET /accounts/login/"
        )
        token = CSRF_INPUT.search(page.content or b"")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.username,
                "password": password,
                "csrfmiddlewaretoken": token.group(1).decode() if token else "",
            },
            # CSRF over HTTPS checks the Origin against the host.
            headers={**PROXY, "Origin": f"https://{self.host.split('://', 1)[1]}"},
            allow_redirects=False,
            name=f"{SIGN_IN}: POST /accounts/login/",
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"{answer.status_code}")
                raise StopUser()


def site_clients(site: str) -> list[str]:
    return PLAN["sites"][site]["clients"]


def fetch(path, name: str, params=None, page: bool = False):
    """A task that GETs `path` and must get a 200. `path` and `params` may be
    functions of the user (its site, one of its clients)."""

    def run(user) -> None:
        user.get(
            path(user) if callable(path) else path,
            name,
            params(user) if callable(params) else params,
            page=page,
        )

    run.__name__ = name
    return run


def days_ago(days: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).date().isoformat()


def of_site(user) -> dict:
    return {"site": user.site}


def a_client(user) -> str:
    return random.choice(site_clients(user.site))


class Coordinator(Staff):
    """A site's care coordinator through the API: lists and reads clients, reads
    transfers, hand-offs and notifications, and moves clients of its own between
    programs of its site (request, approve, then cancel, which frees the place)."""

    roster = "coordinators"

    def identity(self, n: int) -> str:
        self.slot = PLAN[self.roster][n % len(PLAN[self.roster])]
        self.own = itertools.cycle(self.slot["clients"])
        return super().identity(n)

    tasks = {
        fetch(
            "/api/v1/clients/",
            "GET /api/v1/clients/?in_care (25)",
            {"in_care": "true", "page_size": 25},
        ): 4,
        fetch(lambda u: f"/api/v1/clients/{a_client(u)}/", "GET /api/v1/clients/{id}/"): 4,
        fetch(
            lambda u: f"/api/v1/clients/{a_client(u)}/journey/",
            "GET /api/v1/clients/{id}/journey/",
        ): 2,
        fetch(
            "/api/v1/transfers/",
            "GET /api/v1/transfers/?site&status (25)",
            lambda u: {"site": u.site, "status": ["requested", "approved"], "page_size": 25},
        ): 2,
        fetch(
            "/api/v1/handoffs/",
            "GET /api/v1/handoffs/?receiving_site (25)",
            lambda u: {"receiving_site": u.site, "page_size": 25},
        ): 1,
        fetch(
            "/api/v1/notifications/",
            "GET /api/v1/notifications/?unread (25)",
            {"unread": "true", "page_size": 25},
        ): 1,
    }

    @task(1)
    def transfer_cycle(self):
        if not self.slot["clients"] or not self.slot["programs"]:
            return
        client, program = next(self.own)
        choices = [p for p in self.slot["programs"] if p != program]
        if not choices:
            return
        made = self.post(
            "/api/v1/transfers/",
            "POST /api/v1/transfers/",
            {"client": client, "to_program": random.choice(choices), "reason": "Bench move."},
            201,
        )
        if made is None:
            return
        approved = self.post(
            f"/api/v1/transfers/{made['id']}/approve/",
            "POST /api/v1/transfers/{id}/approve/",
            {"reason": "Bed held."},
            200,
        )
        # Cancelled by the sending side, approved or not: the client stays put, the
        # place is freed, and the next cycle finds the same room.
        self.post(
            f"/api/v1/transfers/{made['id']}/cancel/",
            "POST /api/v1/transfers/{id}/cancel/",
            {"reason": "Bench: plans changed." if approved else "Bench: not approved."},
            200,
        )


class Workspace(Staff):
    """A coordinator in the browser: the board (and its refresh), the transfers and
    referrals pages, and a client's page, with a session."""

    wants_token = False
    wants_session = True
    roster = "workspace"

    tasks = {
        fetch("/board/", "GET /board/ (page)", page=True): 4,
        fetch("/board/counts/", "GET /board/counts/ (page)", page=True): 2,
        fetch("/transfers/", "GET /transfers/ (page)", page=True): 2,
        fetch("/referrals/", "GET /referrals/ (page)", page=True): 1,
        fetch(lambda u: f"/clients/{a_client(u)}/", "GET /clients/{id}/ (page)", page=True): 3,
    }


class Manager(Staff):
    """A site manager: the census in the API, the dashboards and the board."""

    wants_session = True
    roster = "managers"

    tasks = {
        fetch("/api/v1/census/", "GET /api/v1/census/?site", of_site): 3,
        fetch("/api/v1/census/", "GET /api/v1/census/?totals", {"totals": "true"}): 1,
        fetch("/api/v1/census/daily/", "GET /api/v1/census/daily/?site", of_site): 2,
        fetch(
            "/api/v1/census/movement/",
            "GET /api/v1/census/movement/?site&from",
            lambda u: {"site": u.site, "from": days_ago(30)},
        ): 1,
        fetch("/api/v1/programs/", "GET /api/v1/programs/?site", of_site): 1,
        fetch("/dashboard/census/", "GET /dashboard/census/ (page)", page=True): 2,
        fetch("/dashboard/aftercare/", "GET /dashboard/aftercare/ (page)", page=True): 1,
        fetch("/board/", "GET /board/ (page)", page=True): 1,
    }


class Alumni(Staff):
    """The alumni team: the follow-up queue in the API and in the browser, one
    follow-up and its client's plan, and an attempt recorded now and then."""

    wants_session = True

    roster = "alumni"

    def identity(self, n: int) -> str:
        self.queue: list[dict] = []
        return super().identity(n)

    @task(4)
    def due(self):
        answer = self.get(
            "/api/v1/follow-ups/", "GET /api/v1/follow-ups/ (due, 25)", {"page_size": 25}
        )
        found = self.results(answer)
        if found:
            self.queue = found

    tasks = {
        fetch(
            "/api/v1/follow-ups/",
            "GET /api/v1/follow-ups/?status=overdue (25)",
            {"status": "overdue", "page_size": 25},
        ): 1,
        fetch("/follow-ups/", "GET /follow-ups/ (page)", page=True): 2,
    }

    @task(2)
    def one(self):
        if self.queue:
            follow_up = random.choice(self.queue)
            self.get(f"/api/v1/follow-ups/{follow_up['id']}/", "GET /api/v1/follow-ups/{id}/")

    @task(1)
    def plan(self):
        if self.queue:
            client = random.choice(self.queue)["client"]["id"]
            self.get(
                f"/api/v1/clients/{client}/aftercare-plan/",
                "GET /api/v1/clients/{id}/aftercare-plan/",
            )

    @task(1)
    def attempt(self):
        if self.queue:
            follow_up = random.choice(self.queue)
            self.post(
                f"/api/v1/follow-ups/{follow_up['id']}/attempts/",
                "POST /api/v1/follow-ups/{id}/attempts/",
                {"channel": "in_person", "result": "no_answer", "notes": "Bench visit."},
                201,
            )


class Partner(Caller):
    """A partner system with OAuth2 client credentials."""

    abstract = True
    kind = ""

    def sign_in(self) -> None:
        mine = [p for p in PLAN["partners"] if p["kind"] == self.kind]
        me = mine[serial(type(self)) % len(mine)]
        self.sites = me["sites"]
        token = self.credentials_post(
            "/oauth/token/",
            data={
                "grant_type": "client_credentials",
                "client_id": me["client_id"],
                "client_secret": me["client_secret"],
            },
        )
        self.api = {**PROXY, "Authorization": f"Bearer {token['access_token']}"}


class Referrer(Partner):
    """A referring hospital: availability, referrals sent (each with its own
    Idempotency-Key), and its referrals' status."""

    kind = "treating_provider"

    tasks = {
        fetch("/api/v1/partner/availability/", "GET /api/v1/partner/availability/"): 4,
        fetch(
            "/api/v1/partner/availability/",
            "GET /api/v1/partner/availability/?level",
            {"level": "detox"},
        ): 2,
        fetch(
            "/api/v1/partner/referrals/", "GET /api/v1/partner/referrals/ (25)", {"page_size": 25}
        ): 1,
    }

    @task(1)
    def refer(self):
        with self.client.post(
            "/api/v1/partner/referrals/",
            json={
                "first_name": "Bench",
                "last_name": f"Referral {uuid.uuid4().hex[:8]}",
                "date_of_birth": "1990-04-01",
                "requested_level": random.choice(["detox", "residential", "iop"]),
                "site": random.choice(self.sites),
                "urgency": "routine",
                "referrer_name": "Bench discharge desk",
                "clinical_summary": "Synthetic referral from the load bench.",
            },
            headers={**self.api, "Idempotency-Key": str(uuid.uuid4())},
            name="POST /api/v1/partner/referrals/",
            catch_response=True,
        ) as answer:
            if answer.status_code != 201:
                answer.failure(f"{answer.status_code} {(answer.text or '')[:80]}")


class Payer(Partner):
    """A health plan reading the clients who consented to it, and their episodes."""

    kind = "health_plan"

    def sign_in(self) -> None:
        self.consented: list[str] = []
        super().sign_in()

    @task(2)
    def clients(self):
        answer = self.get(
            "/api/v1/partner/clients/",
            "GET /api/v1/partner/clients/ (25)",
            {"purpose": "payment", "page_size": 25},
        )
        self.consented = [c["id"] for c in self.results(answer)] or self.consented

    @task(2)
    def client(self):
        if self.consented:
            self.get(
                f"/api/v1/partner/clients/{random.choice(self.consented)}/",
                "GET /api/v1/partner/clients/{id}/",
                {"purpose": "payment"},
            )

    @task(1)
    def episodes(self):
        if self.consented:
            self.get(
                f"/api/v1/partner/clients/{random.choice(self.consented)}/episodes/",
                "GET /api/v1/partner/clients/{id}/episodes/",
                {"purpose": "payment"},
            )


class Ceiling(Staff):
    """The framework's ceiling: GET /api/v1/me/, a trivial endpoint of ours."""

    roster = "coordinators"

    @task
    def me(self):
        self.get("/api/v1/me/", "GET /api/v1/me/")


ROLES = {
    "coordinator": Coordinator,
    "workspace": Workspace,
    "manager": Manager,
    "alumni": Alumni,
    "referrer": Referrer,
    "payer": Payer,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--phase", choices=["mixed", "ceiling"], required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--duration", type=int, required=True)
    parser.add_argument("--warmup", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--leave-out", default="", help="comma-separated request names")
    args = parser.parse_args()
    left_out = {name.strip() for name in args.leave_out.split(",") if name.strip()}
    PLAN.update(json.loads(args.plan.read_text()))

    if args.phase == "mixed":
        classes = []
        for role, count in PLAN["counts"].items():
            cls = ROLES[role]
            cls.fixed_count = count
            cls.tasks = [t for t in cls.tasks if t.__name__ not in left_out]
            classes.append(cls)
    else:
        Ceiling.fixed_count = args.users
        classes = [Ceiling]
    for cls in classes:
        cls.host = args.host
    environment = Environment(user_classes=classes, host=args.host, events=events)
    runner = environment.create_local_runner()
    runner.start(args.users, spawn_rate=args.users)
    # The warm-up begins once every user has signed in (Argon2 makes each sign-in
    # slow on purpose, more so under load), so no counted request waits behind one.
    deadline = time.monotonic() + 120
    while Ready.count < args.users and time.monotonic() < deadline:
        gevent.sleep(0.1)
    gevent.sleep(args.warmup)
    me = psutil.Process()
    cpu_start = sum(me.cpu_times()[:2])
    Counted.on = True
    args.out.with_suffix(".start").touch()
    started = time.monotonic()
    gevent.sleep(args.duration)
    Counted.on = False
    seconds = time.monotonic() - started
    args.out.with_suffix(".end").touch()
    cpu = sum(me.cpu_times()[:2]) - cpu_start
    runner.quit()
    args.out.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "samples": Counted.samples,
                "failures": {name: dict(c) for name, c in Counted.failures.items()},
                "cpu_at_end": {"locust": cpu},
            }
        )
    )


if __name__ == "__main__":
    main()
