"""The demo network and its synthetic history, for `manage.py seed_demo`.

Three steps, each safe to repeat: the five sites and their programs, the demo
users with their roles, and a few hundred synthetic clients whose journeys
through the continuum are replayed through the real services (client_create,
episode_admit, transfer_*, episode_discharge) with a backdated `now`, so the
demo data obeys every rule that a coordinator's clicks would.

The journeys are replayed as one timeline, every client's steps interleaved
in time order, rather than one client after another: the open placements and
approved transfers in the database are then the census at the simulated
moment, so the capacity rule is checked against that day's census, not today's.

Everything is synthetic: names come from small lists, phone numbers from the
555-01xx range reserved for fiction, e-mail addresses from example.com.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from backend.aftercare.models import (
    AftercarePlan,
    AlumniTeamMembership,
    AttemptResult,
    ContactChannel,
    FollowUp,
    FollowUpStatus,
)
from backend.care.models import (
    Client,
    DischargeType,
    Episode,
    Placement,
    ReferralSource,
    Transfer,
    TransferStatus,
)
from backend.network.models import LevelCode, LevelOfCare, Program, Site
from backend.partners.models import Consent, ConsentExpiry, Partner, PartnerKind, Purpose
from services import access, census, followup_work
from services import consent as consents
from services.access import Role
from services.aftercare import follow_ups, plans
from services.clients import client_create
from services.clock import resolve_now, site_today
from services.episodes import episode_admit, episode_discharge
from services.errors import CapacityExceeded
from services.handoffs import handoff_acknowledge, handoff_item_complete
from services.partners import partner_create
from services.referrals.partner import partner_referral_submit
from services.transfers import (
    transfer_approve,
    transfer_cancel,
    transfer_complete,
    transfer_decline,
    transfer_request,
)

# The documented password of the demo users, for the demo path only: the
# seed_demo command falls back to it when neither --password nor
# DEMO_PASSWORD is given.
DEFAULT_DEMO_PASSWORD = "continuum-demo"
DEFAULT_CLIENTS = 200
DEFAULT_DAYS = 120
DEFAULT_SEED = 2024
# Demo clients are recognised by their MRN, so that a second run skips them.
DEMO_MRN_PREFIX = "DEMO"
PROGRESS_EVERY = 50

L = LevelCode

# --- the network ---------------------------------------------------------------

# Every demo site is in Texas: one zone for the simulated office hours and days.
DEMO_ZONE = "America/Chicago"
DEMO_TZ = zoneinfo.ZoneInfo(DEMO_ZONE)


@dataclass(frozen=True)
class _SiteSpec:
    code: str
    name: str
    address_line: str
    city: str
    postal_code: str
    phone: str
    # Rough coordinates, only to send a client to the nearest site offering a level.
    latitude: float
    longitude: float
    # The share of the demo clients who live near the site.
    share: float


# fmt: off
SITES = (
    _SiteSpec("austin", "Austin", "4800 Bee Caves Road", "Austin", "78746",
              "(512) 555-0140", 30.27, -97.74, 0.30),
    _SiteSpec("houston", "Houston", "2100 West Loop South", "Houston", "77027",
              "(713) 555-0182", 29.76, -95.37, 0.28),
    _SiteSpec("san-antonio", "San Antonio", "8400 Datapoint Drive", "San Antonio", "78229",
              "(210) 555-0123", 29.42, -98.49, 0.18),
    _SiteSpec("willow-bend", "Willow Bend", "6121 West Park Boulevard", "Plano", "75093",
              "(972) 555-0167", 33.03, -96.79, 0.13),
    _SiteSpec("cedar-park", "Cedar Park", "1400 Cypress Creek Road", "Cedar Park", "78613",
              "(512) 555-0195", 30.51, -97.82, 0.11),
)
# Capacity in the level's unit (detox, residential, sober living: beds; PHP, IOP:
# slots; intervention, alumni: caseload). Detox only at the two medical sites,
# intervention at Austin only, alumni run from Austin and Houston.
PROGRAMS = {
    "austin":      {L.INTERVENTION: 20, L.DETOX: 16, L.RESIDENTIAL: 40, L.PHP: 30, L.IOP: 40,
                    L.SOBER_LIVING: 20, L.ALUMNI: 400},
    "houston":     {L.DETOX: 12, L.RESIDENTIAL: 32, L.PHP: 25, L.IOP: 35, L.SOBER_LIVING: 16,
                    L.ALUMNI: 300},
    "san-antonio": {L.RESIDENTIAL: 24, L.PHP: 20, L.IOP: 30},
    "willow-bend": {L.RESIDENTIAL: 16, L.IOP: 20, L.SOBER_LIVING: 12},
    "cedar-park":  {L.PHP: 15, L.IOP: 25, L.SOBER_LIVING: 10},
}
# fmt: on
SITE_SPECS = {spec.code: spec for spec in SITES}
PROGRAM_SUFFIX = {
    L.INTERVENTION: "Intervention",
    L.DETOX: "Detox",
    L.RESIDENTIAL: "Residential",
    L.PHP: "PHP",
    L.IOP: "IOP",
    L.SOBER_LIVING: "Sober Living",
    L.ALUMNI: "Alumni",
}


@dataclass
class DemoNetwork:
    sites: dict[str, Site]
    # (site code, level code) -> program, with its site and level loaded.
    programs: dict[tuple[str, str], Program]
    sites_created: int = 0
    programs_created: int = 0


@transaction.atomic
def demo_network_ensure() -> DemoNetwork:
    """Create the five demo sites and their programs, or bring them back to the demo's values."""
    network = DemoNetwork(sites={}, programs={})
    levels = {level.code: level for level in LevelOfCare.objects.all()}
    for spec in SITES:
        site, created = Site.objects.update_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "time_zone": DEMO_ZONE,
                "address_line": spec.address_line,
                "city": spec.city,
                "region": "TX",
                "postal_code": spec.postal_code,
                "phone": spec.phone,
            },
        )
        network.sites[spec.code] = site
        network.sites_created += created
        for level_code, capacity in PROGRAMS[spec.code].items():
            program, created = Program.objects.update_or_create(
                site=site,
                level=levels[level_code],
                defaults={
                    "name": f"{spec.name} {PROGRAM_SUFFIX[level_code]}",
                    "capacity": capacity,
                    "is_active": True,
                },
            )
            network.programs[(spec.code, level_code)] = program
            network.programs_created += created
    return network


# --- the users -------------------------------------------------------------------


@dataclass(frozen=True)
class _UserSpec:
    username: str
    first_name: str
    last_name: str
    role: Role
    site_code: str | None = None
    is_superuser: bool = False


USERS = (
    _UserSpec("admin", "Dana", "Whitfield", Role.ORGANISATION_ADMIN, is_superuser=True),
    _UserSpec("coordinator.austin", "Maria", "Gonzalez", Role.CARE_COORDINATOR, "austin"),
    _UserSpec("coordinator.houston", "James", "Carter", Role.CARE_COORDINATOR, "houston"),
    _UserSpec("manager.austin", "Priya", "Shah", Role.SITE_MANAGER, "austin"),
    _UserSpec("alumni", "Marcus", "Reed", Role.ALUMNI_COORDINATOR),
)
DEMO_USERNAMES = tuple(spec.username for spec in USERS)


@dataclass
class DemoUsers:
    users: dict[str, AbstractBaseUser]
    created: int = 0


@transaction.atomic
def demo_users_ensure(*, password: str, network: DemoNetwork) -> DemoUsers:
    """Create or update the demo users, (re)set their password and grant their roles."""
    user_model = get_user_model()
    result = DemoUsers(users={})
    for spec in USERS:
        user, created = user_model.objects.get_or_create(username=spec.username)
        user.first_name = spec.first_name
        user.last_name = spec.last_name
        user.email = f"{spec.username}@example.com"
        user.is_active = True
        user.is_staff = user.is_superuser = spec.is_superuser
        user.set_password(password)
        user.save()
        site = network.sites[spec.site_code] if spec.site_code else None
        access.role_grant(user=user, role=spec.role, site=site)
        result.users[spec.username] = user
        result.created += created
    return result


# --- the clients -----------------------------------------------------------------

# fmt: off
FIRST_NAMES = (
    "Alejandro", "Amanda", "Andre", "Angela", "Brandon", "Brianna", "Carlos", "Carmen",
    "Chloe", "Christopher", "Daniel", "Deshawn", "Diana", "Elena", "Emily", "Ethan",
    "Gabriel", "Grace", "Hannah", "Isaiah", "Jacob", "Jasmine", "Javier", "Jennifer",
    "Jessica", "Jordan", "Joshua", "Kayla", "Kevin", "Lauren", "Linh", "Lucia",
    "Marcus", "Megan", "Miguel", "Natalie", "Nathan", "Olivia", "Omar", "Priscilla",
    "Rachel", "Ricardo", "Samantha", "Sofia", "Tanya", "Tyler", "Victoria", "Wei",
)
LAST_NAMES = (
    "Adams", "Alvarez", "Baker", "Bennett", "Brooks", "Castillo", "Chen", "Coleman",
    "Cruz", "Davis", "Delgado", "Edwards", "Flores", "Foster", "Garcia", "Green",
    "Gutierrez", "Harris", "Hernandez", "Hughes", "Jackson", "Johnson", "Kim", "Lee",
    "Lopez", "Martinez", "Mendoza", "Miller", "Mitchell", "Morales", "Nguyen", "Ortiz",
    "Patel", "Perez", "Ramirez", "Reyes", "Rivera", "Robinson", "Sanchez", "Scott",
    "Simmons", "Taylor", "Thompson", "Torres", "Tran", "Walker", "Washington", "Williams",
)
STREETS = (
    "Oak Hollow Drive", "Mesquite Lane", "Bluebonnet Trail", "Pecan Street", "Live Oak Court",
    "Cypress Bend", "Ranch Road", "Magnolia Avenue", "Cedar Ridge Drive", "Lone Star Way",
)
# fmt: on

# The length of a stay at each level, in days (low, high).
STAY_DAYS = {
    L.INTERVENTION: (2, 10),
    L.DETOX: (3, 7),
    L.RESIDENTIAL: (21, 45),
    L.PHP: (14, 28),
    L.IOP: (21, 56),
    L.SOBER_LIVING: (30, 120),
    L.ALUMNI: (90, 365),
}
# Most admissions start in detox or residential; some go straight to IOP or PHP,
# some begin with an intervention.
ENTRY_LEVELS = {L.DETOX: 42, L.RESIDENTIAL: 30, L.IOP: 12, L.INTERVENTION: 10, L.PHP: 6}
REFERRALS = {
    ReferralSource.SELF: 20,
    ReferralSource.FAMILY: 22,
    ReferralSource.PHYSICIAN: 12,
    ReferralSource.HOSPITAL: 14,
    ReferralSource.COURT: 6,
    ReferralSource.EMPLOYER: 5,
    ReferralSource.PAYER: 5,
    ReferralSource.OTHER_PROVIDER: 10,
    ReferralSource.OTHER: 2,
}
DISCHARGE = "discharge"
# Where a stay that runs its course leads: down the continuum, or out of care.
NEXT_STEP = {
    L.INTERVENTION: {L.DETOX: 55, L.RESIDENTIAL: 30, DISCHARGE: 15},
    L.DETOX: {L.RESIDENTIAL: 70, L.PHP: 12, L.IOP: 8, DISCHARGE: 10},
    L.RESIDENTIAL: {L.PHP: 45, L.IOP: 30, L.SOBER_LIVING: 10, DISCHARGE: 15},
    L.PHP: {L.IOP: 75, L.SOBER_LIVING: 10, DISCHARGE: 15},
    L.IOP: {L.SOBER_LIVING: 25, L.ALUMNI: 45, DISCHARGE: 30},
    L.SOBER_LIVING: {L.ALUMNI: 60, DISCHARGE: 40},
    L.ALUMNI: {DISCHARGE: 100},
}
# Clients live at home for these levels: they step down near home, not near the last site.
NEAR_HOME_LEVELS = {L.PHP, L.IOP, L.SOBER_LIVING, L.ALUMNI}
# The chance that a stay ends before its plan, and how such stays end.
EARLY_EXIT = {L.DETOX: 0.12, L.RESIDENTIAL: 0.08, L.PHP: 0.06, L.IOP: 0.06, L.SOBER_LIVING: 0.05}
EARLY_EXIT_TYPES = {
    DischargeType.AGAINST_MEDICAL_ADVICE: 55,
    DischargeType.ADMINISTRATIVE: 20,
    DischargeType.TRANSFERRED_OUT: 12,
    DischargeType.OTHER: 10,
    DischargeType.DECEASED: 3,
}
DISCHARGE_NOTES = {
    DischargeType.COMPLETED: "Completed the plan; aftercare and relapse-prevention plan in place.",
    DischargeType.AGAINST_MEDICAL_ADVICE: "Left against medical advice; outreach scheduled.",
    DischargeType.ADMINISTRATIVE: "Administrative discharge after repeated program violations.",
    DischargeType.TRANSFERRED_OUT: "Referred to a provider outside the network.",
    DischargeType.OTHER: "Chose not to continue treatment at this time.",
    DischargeType.DECEASED: "Deceased; family notified, case reviewed.",
}
# Some clients who leave early come back within weeks.
READMIT_AFTER = {DischargeType.AGAINST_MEDICAL_ADVICE, DischargeType.ADMINISTRATIVE}
# A struggling client steps up mid-stay to a more structured level.
STEP_UP_TO = {
    L.PHP: (L.RESIDENTIAL,),
    L.IOP: (L.RESIDENTIAL, L.PHP),
    L.SOBER_LIVING: (L.IOP, L.RESIDENTIAL),
}
SITE_CHANGE_LEVELS = {L.RESIDENTIAL, L.PHP, L.IOP, L.SOBER_LIVING}
P_STEP_UP = 0.10
P_SITE_CHANGE = 0.06
P_DECLINE = 0.07
P_CANCEL = 0.05
P_READMIT = 0.35
ADMISSION_ATTEMPTS = 3
# Transfers refused for want of a place, in one stay, before the client is referred out.
CAPACITY_REFUSALS_PER_STAY = 3

STEP_DOWN_REASONS = (
    "Stable; meets criteria for the next level of care.",
    "Treatment goals at this level met; step down per plan.",
    "Medically cleared; continuing the plan at a lower level.",
)
STEP_UP_REASONS = (
    "Relapse; needs more structure.",
    "Cravings and missed sessions; team recommends a higher level.",
    "Worsening symptoms; reassessment recommends a step up.",
)
DECLINE_REASONS = (
    "Clinical criteria for this level not met yet.",
    "Insurance authorization pending; resubmit after review.",
)
CANCEL_REASONS = (
    "Client chose to remain at the current level for now.",
    "Team reassessed: continue at this level.",
)
CAPACITY_DECLINE_REASON = "No place available on the planned date."
HANDOFF_NOTES = "Plan, medications and recent assessments shared with the receiving team."

# The first admissions follow these, so that even a small demo shows every
# kind of move. A trait is used once, and random turns wait until it is.
STEP_UP, SITE_CHANGE, DECLINE, CANCEL = "step_up", "site_change", "decline", "cancel"
SHOWCASE = (
    (L.DETOX, ()),
    (L.IOP, (DischargeType.COMPLETED,)),
    (L.IOP, (STEP_UP,)),
    (L.RESIDENTIAL, (SITE_CHANGE,)),
    (L.DETOX, (DECLINE,)),
    (L.RESIDENTIAL, (CANCEL,)),
    (L.DETOX, (DischargeType.AGAINST_MEDICAL_ADVICE,)),
    (L.INTERVENTION, ()),
    (L.RESIDENTIAL, (DischargeType.ADMINISTRATIVE,)),
    (L.RESIDENTIAL, (DischargeType.TRANSFERRED_OUT,)),
    (L.IOP, (DischargeType.OTHER,)),
    (L.DETOX, (DischargeType.DECEASED,)),
)


@dataclass
class DemoClients:
    requested: int
    existing: int = 0
    registered: int = 0
    admissions: int = 0
    # Registered, but every program of their level stayed full.
    not_admitted: int = 0
    # Admissions and approvals refused by the capacity rule (then placed elsewhere or later).
    capacity_refusals: int = 0

    @property
    def skipped(self) -> bool:
        return self.existing > 0


@dataclass(eq=False)
class _Journey:
    """One client's course, advanced one event at a time."""

    mrn: str
    home: str
    admit_at: datetime
    entry: str
    traits: set[str]
    client: Client | None = None
    episode: Episode | None = None
    program: Program | None = None
    since: datetime | None = None
    transfer: Transfer | None = None
    stepped_up: bool = False
    changed_site: bool = False
    readmitted: bool = False
    requests_this_stay: int = 0
    refusals_this_stay: int = 0

    def chance(self, probability: float) -> float:
        return 0.0 if self.traits else probability


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    action: Callable = field(compare=False)
    journey: _Journey = field(compare=False)
    kwargs: dict = field(compare=False, default_factory=dict)


def _local_day(moment: datetime) -> date:
    return moment.astimezone(DEMO_TZ).date()


class _Replay:
    """Plans the journeys and replays them in time order through the services."""

    def __init__(
        self,
        *,
        network: DemoNetwork,
        users: dict[str, AbstractBaseUser],
        seed: int,
        now: datetime,
        result: DemoClients,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.rng = random.Random(seed)
        self.network = network
        self.admin = users["admin"]
        self.alumni = users["alumni"]
        self.coordinators = {
            "austin": users["coordinator.austin"],
            "houston": users["coordinator.houston"],
        }
        self.now = now
        self.result = result
        self.progress = progress
        self.reported = 0
        self.queue: list[_Event] = []
        self.seq = itertools.count()

    # -- helpers --

    def pick(self, weights: dict):
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def on_day(self, day: date, first_hour: int, last_hour: int) -> datetime:
        """A moment within office hours of a local day, in UTC."""
        moment = time(self.rng.randint(first_hour, last_hour - 1), self.rng.randrange(0, 60, 5))
        return datetime.combine(day, moment, tzinfo=DEMO_TZ).astimezone(UTC)

    def schedule(self, at: datetime, action: Callable, journey: _Journey, **kwargs) -> None:
        heapq.heappush(self.queue, _Event(at, next(self.seq), action, journey, kwargs))

    def team(self, program: Program) -> AbstractBaseUser:
        """A member of the program's care team, to act for it."""
        if program.level_id == L.ALUMNI:
            return self.alumni
        return self.coordinators.get(program.site.code, self.admin)

    def programs_near(self, level: str, prefer: list[str]) -> list[Program]:
        """The programs of `level`: at the preferred sites first, then nearest the first."""
        offering = {code: p for (code, lvl), p in self.network.programs.items() if lvl == level}
        origin = SITE_SPECS[prefer[0]]

        def rank(code: str) -> tuple[int, float]:
            spec = SITE_SPECS[code]
            preferred = prefer.index(code) if code in prefer else len(prefer)
            return preferred, math.dist(
                (spec.latitude, spec.longitude), (origin.latitude, origin.longitude)
            )

        return [offering[code] for code in sorted(offering, key=rank)]

    def destination(self, journey: _Journey, level: str) -> Program:
        here = journey.program.site.code
        prefer = [journey.home, here] if level in NEAR_HOME_LEVELS else [here, journey.home]
        return self.programs_near(level, prefer)[0]

    # -- the timeline --

    def journeys(self, count: int, days: int) -> list[_Journey]:
        """`count` clients admitted at random over the `days` days before today."""
        first_day = _local_day(self.now) - timedelta(days=days)
        shares = {spec.code: spec.share for spec in SITES}
        admissions = sorted(
            self.on_day(first_day + timedelta(days=self.rng.randrange(days)), 7, 20)
            for _ in range(count)
        )
        journeys = []
        for index, admit_at in enumerate(admissions):
            entry, traits = SHOWCASE[index] if index < len(SHOWCASE) else (None, ())
            journeys.append(
                _Journey(
                    mrn=f"{DEMO_MRN_PREFIX}{index + 1:05d}",
                    home=self.pick(shares),
                    admit_at=admit_at,
                    entry=entry or self.pick(ENTRY_LEVELS),
                    traits=set(traits),
                )
            )
        return journeys

    def run(self, journeys: list[_Journey]) -> None:
        for journey in journeys:
            self.schedule(journey.admit_at, self.admit, journey)
        # One savepoint per simulated day inside the run's transaction
        # (demo_clients_generate): a failed run leaves no half-made demo behind.
        while self.queue and self.queue[0].at <= self.now:
            day = _local_day(self.queue[0].at)
            with transaction.atomic():
                while (
                    self.queue
                    and self.queue[0].at <= self.now
                    and _local_day(self.queue[0].at) == day
                ):
                    event = heapq.heappop(self.queue)
                    event.action(event.journey, event.at, **event.kwargs)
            if self.result.registered // PROGRESS_EVERY > self.reported // PROGRESS_EVERY:
                self.report(day)
        if self.result.registered != self.reported:
            self.report(_local_day(self.now))

    def report(self, day: date) -> None:
        self.reported = self.result.registered
        if self.progress:
            self.progress(
                f"  {self.reported}/{self.result.requested} clients registered "
                f"(simulated up to {day})"
            )

    # -- plans: how a stay will end; each schedules the next step --

    def plan_stay(self, journey: _Journey, days: int | None = None) -> None:
        days = days or self.rng.randint(*STAY_DAYS[journey.program.level_id])
        journey.requests_this_stay = journey.refusals_this_stay = 0
        if not (
            self.plan_early_exit(journey, days)
            or self.plan_step_up(journey, days)
            or self.plan_site_change(journey, days)
        ):
            self.plan_end(journey, _local_day(journey.since) + timedelta(days=days))

    def plan_early_exit(self, journey: _Journey, days: int) -> bool:
        level = journey.program.level_id
        if level not in EARLY_EXIT:
            return False
        exit_type = next((t for t in journey.traits if t in EARLY_EXIT_TYPES), None)
        if exit_type is None:
            if self.rng.random() >= journey.chance(EARLY_EXIT[level]):
                return False
            exit_type = self.pick(EARLY_EXIT_TYPES)
        journey.traits.discard(exit_type)
        after = timedelta(days=days * self.rng.uniform(0.25, 0.8))
        at = journey.since + max(after, timedelta(hours=6))
        self.schedule(at, self.discharge, journey, discharge_type=exit_type)
        return True

    def plan_step_up(self, journey: _Journey, days: int) -> bool:
        level = journey.program.level_id
        if level not in STEP_UP_TO or journey.stepped_up:
            return False
        if STEP_UP not in journey.traits and self.rng.random() >= journey.chance(P_STEP_UP):
            return False
        journey.traits.discard(STEP_UP)
        journey.stepped_up = True
        target = self.destination(journey, self.rng.choice(STEP_UP_TO[level]))
        leave = _local_day(journey.since) + timedelta(days=self.rng.randint(4, min(14, days - 1)))
        self.plan_request(journey, target, leave, self.rng.choice(STEP_UP_REASONS))
        return True

    def plan_site_change(self, journey: _Journey, days: int) -> bool:
        """A move to the same level at another site, mid-stay (the client relocates)."""
        level, here = journey.program.level_id, journey.program.site.code
        if level not in SITE_CHANGE_LEVELS or journey.changed_site:
            return False
        if SITE_CHANGE not in journey.traits and self.rng.random() >= journey.chance(P_SITE_CHANGE):
            return False
        elsewhere = [
            p for p in self.programs_near(level, [journey.home, here]) if p.site.code != here
        ]
        if not elsewhere:
            return False
        journey.traits.discard(SITE_CHANGE)
        journey.changed_site = True
        target = elsewhere[0]
        after = self.rng.randint(3, min(10, days - 2))
        self.plan_request(
            journey,
            target,
            _local_day(journey.since) + timedelta(days=after),
            f"Relocating closer to family near {target.site.name}.",
            next_stay_days=max(days - after, 7),
        )
        return True

    def plan_end(self, journey: _Journey, last_day: date) -> None:
        """The stay runs its course: a step down, or the end of the episode, on `last_day`."""
        level = journey.program.level_id
        step = self.pick(NEXT_STEP[level])
        if DischargeType.COMPLETED in journey.traits:
            journey.traits.discard(DischargeType.COMPLETED)
            step = DISCHARGE
        if step == DISCHARGE:
            kind = DischargeType.OTHER if level == L.INTERVENTION else DischargeType.COMPLETED
            at = self.on_day(last_day, 10, 16)
            self.schedule(at, self.discharge, journey, discharge_type=kind)
            return
        if level == L.INTERVENTION:
            reason = "Agreed to treatment after the intervention."
        else:
            reason = self.rng.choice(STEP_DOWN_REASONS)
        self.plan_request(journey, self.destination(journey, step), last_day, reason)

    def plan_request(
        self,
        journey: _Journey,
        target: Program,
        leave: date,
        reason: str,
        *,
        not_before: datetime | None = None,
        next_stay_days: int | None = None,
    ) -> None:
        """Ask for the move one to five days ahead of `leave`, and settle how it fares."""
        earliest = _local_day(not_before or journey.since) + timedelta(days=1)
        ask_day = max(leave - timedelta(days=self.rng.randint(1, 5)), earliest)
        leave = max(leave, ask_day + timedelta(days=1))
        # At most one refusal or change of mind per stay.
        first = journey.requests_this_stay == 0
        if DECLINE in journey.traits or (first and self.rng.random() < journey.chance(P_DECLINE)):
            fate = DECLINE
        elif CANCEL in journey.traits or (first and self.rng.random() < journey.chance(P_CANCEL)):
            fate = CANCEL
        else:
            fate = "complete"
        journey.traits.discard(fate)
        self.schedule(
            self.on_day(ask_day, 8, 17),
            self.request,
            journey,
            target=target,
            leave_at=self.on_day(leave, 9, 14),
            reason=reason,
            fate=fate,
            next_stay_days=next_stay_days,
        )

    # -- steps: each one is a service call at its own moment --

    def admit(
        self, journey: _Journey, at: datetime, *, level: str | None = None, attempt: int = 0
    ) -> None:
        if journey.client is None:
            self.register(journey, at)
        level = level or journey.entry
        if level == L.INTERVENTION:
            referral = self.rng.choice([ReferralSource.INTERVENTIONIST, ReferralSource.FAMILY])
        else:
            referral = self.pick(REFERRALS)
        for program in self.programs_near(level, [journey.home]):
            try:
                journey.episode = episode_admit(
                    actor=self.team(program),
                    client=journey.client,
                    program=program,
                    admitted_at=at,
                    referral_source=referral,
                    now=at,
                )
            except CapacityExceeded:
                self.result.capacity_refusals += 1
                continue
            self.result.admissions += 1
            journey.program, journey.since = program, at
            self.plan_stay(journey)
            return
        # Every program of the level is full: wait a few days, then give up.
        if attempt + 1 < ADMISSION_ATTEMPTS:
            retry = self.on_day(_local_day(at) + timedelta(days=self.rng.randint(1, 3)), 8, 18)
            self.schedule(retry, self.admit, journey, level=level, attempt=attempt + 1)
        elif not journey.readmitted:
            self.result.not_admitted += 1

    def register(self, journey: _Journey, admit_at: datetime) -> None:
        rng, spec = self.rng, SITE_SPECS[journey.home]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        age = int(rng.triangular(19, 68, 32))
        # Registered by the organisation admin: only admins choose an MRN, and
        # the demo's MRNs (DEMO00001...) are how a second run knows it ran.
        journey.client = client_create(
            actor=self.admin,
            registered_site=self.network.sites[journey.home],
            mrn=journey.mrn,
            first_name=first,
            last_name=last,
            date_of_birth=date(admit_at.year - age, rng.randint(1, 12), rng.randint(1, 28)),
            phone=f"{spec.phone[:5]} 555-01{rng.randint(0, 99):02d}",
            email=f"{first}.{last}.{journey.mrn[-3:]}@example.com".lower(),
            address=(
                f"{rng.randint(100, 9899)} {rng.choice(STREETS)}, {spec.city}, "
                f"TX {spec.postal_code}"
            ),
            now=admit_at - timedelta(minutes=rng.randint(30, 36 * 60)),
        )
        self.result.registered += 1

    def request(
        self,
        journey: _Journey,
        at: datetime,
        *,
        target: Program,
        leave_at: datetime,
        reason: str,
        fate: str,
        next_stay_days: int | None,
    ) -> None:
        journey.transfer = transfer_request(
            actor=self.team(journey.program),
            client=journey.client,
            to_program=target,
            planned_for=_local_day(leave_at),
            reason=reason,
            handoff_notes=HANDOFF_NOTES,
            now=at,
        )
        journey.requests_this_stay += 1
        window = leave_at - at

        def within(low: float, high: float) -> datetime:
            return at + window * self.rng.uniform(low, high)

        if fate == DECLINE:
            self.schedule(
                within(0.1, 0.8),
                self.decline,
                journey,
                reason=self.rng.choice(DECLINE_REASONS),
                next_stay_days=next_stay_days,
            )
        elif fate == CANCEL:
            # Withdrawn while requested, or after the receiving side approved.
            cancel_at = within(0.5, 0.9)
            if self.rng.random() < 0.5:
                self.schedule(within(0.05, 0.4), self.approve, journey, cancel_at=cancel_at)
            else:
                self.schedule(cancel_at, self.cancel, journey)
        else:
            self.schedule(
                within(0.05, 0.7),
                self.approve,
                journey,
                leave_at=leave_at,
                next_stay_days=next_stay_days,
            )

    def approve(
        self,
        journey: _Journey,
        at: datetime,
        *,
        leave_at: datetime | None = None,
        next_stay_days: int | None = None,
        cancel_at: datetime | None = None,
    ) -> None:
        transfer = journey.transfer
        try:
            transfer_approve(actor=self.team(transfer.to_program), transfer=transfer, now=at)
        except CapacityExceeded:
            self.result.capacity_refusals += 1
            journey.refusals_this_stay += 1
            self.decline(
                journey,
                at,
                reason=CAPACITY_DECLINE_REASON,
                next_stay_days=next_stay_days,
                elsewhere=True,
            )
            return
        # The receiving team acknowledges the hand-off within its SLA (most
        # of the time: a few stay unacknowledged, so escalations have a story).
        if self.rng.random() < 0.95:
            handoff_acknowledge(
                actor=self.team(transfer.to_program),
                handoff=transfer.handoff,
                now=min(at + timedelta(minutes=self.rng.randint(10, 180)), self.now),
            )
        if cancel_at is not None:
            self.schedule(cancel_at, self.cancel, journey)
        else:
            self.schedule(leave_at, self.complete, journey, next_stay_days=next_stay_days)

    def decline(
        self,
        journey: _Journey,
        at: datetime,
        *,
        reason: str,
        next_stay_days: int | None,
        elsewhere: bool = False,
    ) -> None:
        """The receiving side refuses. For want of a place the sending side tries the
        same level at the nearest other site; otherwise the same program, days later."""
        transfer = journey.transfer
        transfer_decline(
            actor=self.team(transfer.to_program), transfer=transfer, reason=reason, now=at
        )
        journey.transfer = None
        if journey.refusals_this_stay >= CAPACITY_REFUSALS_PER_STAY:
            # No place anywhere in the network: refer the client out.
            leave = self.on_day(_local_day(at) + timedelta(days=1), 10, 16)
            self.schedule(
                leave, self.discharge, journey, discharge_type=DischargeType.TRANSFERRED_OUT
            )
            return
        target = transfer.to_program
        if elsewhere:
            options = self.programs_near(target.level_id, [target.site.code])
            skip = {target.pk, journey.program.pk}
            target = next((p for p in options if p.pk not in skip), target)
        leave = _local_day(at) + timedelta(days=self.rng.randint(2, 4))
        self.plan_request(
            journey, target, leave, transfer.reason, not_before=at, next_stay_days=next_stay_days
        )

    def cancel(self, journey: _Journey, at: datetime) -> None:
        transfer_cancel(
            actor=self.team(journey.program),
            transfer=journey.transfer,
            reason=self.rng.choice(CANCEL_REASONS),
            now=at,
        )
        journey.transfer = None
        self.plan_end(journey, _local_day(at) + timedelta(days=self.rng.randint(4, 10)))

    def complete(self, journey: _Journey, at: datetime, *, next_stay_days: int | None) -> None:
        transfer = journey.transfer
        receiving = self.team(transfer.to_program)
        # The checklist is worked through before the client arrives.
        for item in transfer.handoff.items.filter(completed_at__isnull=True):
            handoff_item_complete(
                actor=receiving, handoff=transfer.handoff, item_id=item.pk, now=at
            )
        transfer_complete(actor=receiving, transfer=transfer, arrived_at=at, now=at)
        journey.transfer = None
        if transfer.to_program.level_id == transfer.from_program.level_id:
            # A site change means the client moved: later steps down stay near the new home.
            journey.home = transfer.to_program.site.code
        journey.program, journey.since = transfer.to_program, at
        self.plan_stay(journey, next_stay_days)

    def discharge(self, journey: _Journey, at: datetime, *, discharge_type: str) -> None:
        episode_discharge(
            actor=self.team(journey.program),
            episode=journey.episode,
            discharge_type=discharge_type,
            discharged_at=at,
            notes=DISCHARGE_NOTES[discharge_type],
            now=at,
        )
        journey.episode = journey.program = journey.since = None
        readmit = discharge_type in READMIT_AFTER and not journey.readmitted
        if readmit and self.rng.random() < P_READMIT:
            journey.readmitted = True
            back = self.on_day(_local_day(at) + timedelta(days=self.rng.randint(5, 30)), 7, 20)
            level = self.rng.choice([L.DETOX, L.DETOX, L.RESIDENTIAL])
            self.schedule(back, self.admit, journey, level=level)


def demo_clients_count() -> int:
    return Client.objects.filter(mrn__startswith=DEMO_MRN_PREFIX).count()


@transaction.atomic
def demo_clients_generate(
    *,
    network: DemoNetwork,
    users: DemoUsers,
    clients: int,
    days: int,
    seed: int,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoClients:
    """Register `clients` synthetic clients and replay their last `days` days of care.

    Does nothing (and says so in the result) when demo clients already exist,
    so that a second run adds nothing. The same seed and `now` give the same data.
    """
    result = DemoClients(requested=clients, existing=demo_clients_count())
    if result.skipped or clients == 0:
        return result
    if progress:
        progress(f"Generating {clients} clients over {days} days (seed {seed})...")
    replay = _Replay(
        network=network,
        users=users.users,
        seed=seed,
        now=now or timezone.now(),
        result=result,
        progress=progress,
    )
    replay.run(replay.journeys(clients, days))
    return result


# --- what the demo holds ------------------------------------------------------------


@dataclass(frozen=True)
class DemoTotals:
    sites: int
    programs: int
    users: int
    clients: int
    episodes_open: int
    episodes_discharged: int
    placements_open: int
    placements_closed: int
    transfers_by_status: dict[str, int]
    transfers_by_direction: dict[str, int]
    discharges_by_type: dict[str, int]


def demo_totals() -> DemoTotals:
    """What the demo holds: its sites, programs and users, and its clients' records."""
    sites = Site.objects.filter(code__in=SITE_SPECS)
    of_demo_clients = {"client__mrn__startswith": DEMO_MRN_PREFIX}
    episodes = Episode.objects.filter(**of_demo_clients)
    placements = Placement.objects.filter(**of_demo_clients)
    transfers = Transfer.objects.filter(**of_demo_clients).select_related(
        "from_program__level", "to_program__level"
    )
    statuses = Counter(transfers.values_list("status", flat=True))
    directions = Counter(transfer.direction for transfer in transfers)
    discharges = Counter(
        episodes.filter(discharged_at__isnull=False).values_list("discharge_type", flat=True)
    )
    return DemoTotals(
        sites=sites.count(),
        programs=Program.objects.filter(site__in=sites).count(),
        users=get_user_model().objects.filter(username__in=DEMO_USERNAMES).count(),
        clients=demo_clients_count(),
        episodes_open=episodes.filter(discharged_at__isnull=True).count(),
        episodes_discharged=episodes.filter(discharged_at__isnull=False).count(),
        placements_open=placements.filter(ended_at__isnull=True).count(),
        placements_closed=placements.filter(ended_at__isnull=False).count(),
        transfers_by_status={status: statuses[status] for status in TransferStatus.values},
        transfers_by_direction=dict(sorted(directions.items())),
        discharges_by_type={kind: discharges[kind] for kind in DischargeType.values},
    )


# --- aftercare: the alumni team's year so far ---------------------------------------

# How the demo's alumni team fared: the share of follow-ups worked at all, the share
# of those reaching the client (after one to three tries), and what clients said.
P_WORKED = 0.85
P_REACHED = 0.7
SAID = {
    "in_recovery": 66,
    "using": 9,
    "relapsed": 9,
    "in_treatment_elsewhere": 5,
    "declined_to_say": 11,
}
LEFT_FOR_THE_QUEUE = timedelta(days=2)  # the last days' follow-ups wait in the queue


@dataclass
class DemoAftercare:
    plans_written: int = 0
    worked: int = 0
    reached: int = 0
    memberships: int = 0


def demo_aftercare_work(*, users: DemoUsers, now: datetime | None = None) -> DemoAftercare:
    """Give the demo's alumni coordinator every site, write the consent of each
    plan, and work the follow-ups whose window has closed (attempts and outcomes,
    through the services, dated within their windows), leaving the last days'
    for the queue; then run the scan and record the census snapshots.

    Idempotent: each follow-up's fate is drawn from its own id, and only plans
    with no consent yet and follow-ups with no attempt are touched."""
    now = resolve_now(now)
    done = DemoAftercare()
    alumni = users.users["alumni"]
    for site in Site.objects.filter(code__in=SITE_SPECS):
        _, created = AlumniTeamMembership.objects.get_or_create(
            user=alumni, site=site, defaults={"is_lead": site.code == "austin"}
        )
        done.memberships += created

    for plan in (
        AftercarePlan.objects.filter(
            client__mrn__startswith=DEMO_MRN_PREFIX, consent_to_contact=False, created_at__lte=now
        )
        .select_related("client", "episode")
        .order_by("client__mrn", "episode__admitted_at")
    ):
        current = plans.aftercare_episode_of(plan.client)
        if current != plan.episode or not access.can_edit_aftercare_plan(alumni, plan.episode):
            continue  # back in treatment: the plan is their care team's now
        # Seeded by what the same --seed makes again (MRN, admission), not by the
        # row's random UUID: the same seed then gives the same year of aftercare.
        rng = random.Random(f"{plan.client.mrn}:{plan.episode.admitted_at.date()}")
        phone, sms = rng.random() < 0.9, rng.random() < 0.6
        email = rng.random() < 0.4 or not (phone or sms)
        plans.aftercare_plan_upsert(
            actor=alumni,
            client=plan.client,
            changes={
                "consent_to_contact": True,
                "consent_phone": phone,
                "consent_sms": sms,
                "consent_email": email,
                "mutual_help_meetings": rng.random() < 0.7,
                "outpatient_therapist": rng.random() < 0.5,
                "contact_hours_from": time(9, 0),
                "contact_hours_to": time(19, 0),
            },
            now=max(plan.created_at, min(plan.created_at + timedelta(hours=2), now)),
        )
        done.plans_written += 1

    due = (
        FollowUp.objects.filter(
            client__mrn__startswith=DEMO_MRN_PREFIX,
            status__in=(FollowUpStatus.SCHEDULED, FollowUpStatus.DUE, FollowUpStatus.MISSED),
            ended_at__isnull=True,
            attempts__isnull=True,
        )
        .select_related("site", "plan", "client")
        .order_by("due_on", "client__mrn", "anchor_at", "milestone")
    )
    for follow_up in due:
        zone = zoneinfo.ZoneInfo(follow_up.site.time_zone)
        window_end = datetime.combine(follow_up.window_ends_on, time(18), tzinfo=zone)
        if window_end > now - LEFT_FOR_THE_QUEUE:
            continue
        rng = random.Random(
            f"{follow_up.client.mrn}:{follow_up.anchor_at.date()}:{follow_up.milestone}"
        )
        if rng.random() >= P_WORKED:
            continue  # missed: the scan will say so
        channel = ContactChannel.PHONE if follow_up.plan.consent_phone else ContactChannel.EMAIL
        if not (follow_up.plan.consent_phone or follow_up.plan.consent_email):
            continue
        first_day = datetime.combine(follow_up.due_on, time(10), tzinfo=zone)
        reached = rng.random() < P_REACHED
        tries = rng.randint(1, 3)
        at = max(first_day, follow_up.anchor_at + timedelta(hours=1))
        for attempt in range(tries):
            last = attempt == tries - 1
            follow_ups.attempt_record(
                actor=alumni,
                follow_up=follow_up,
                channel=channel,
                result=AttemptResult.REACHED if last and reached else AttemptResult.NO_ANSWER,
                at=at,
                now=at,
            )
            at = min(at + timedelta(hours=rng.randint(3, 20)), now)
        said = rng.choices(list(SAID), weights=list(SAID.values()))[0] if reached else ""
        follow_ups.follow_up_complete(
            actor=alumni,
            follow_up=follow_up,
            reached=reached,
            self_reported_status=said,
            engaged_meetings=reached and rng.random() < 0.6,
            engaged_therapy=reached and rng.random() < 0.4,
            now=at,
        )
        done.worked += 1
        done.reached += reached
    followup_work.follow_up_scan(now=now)
    census.census_snapshot_fill(now=now)
    return done


# --- partner systems and their consents (docs/consent.md) -------------------------

# A payer and a referring hospital; their credentials are issued in the admin
# (or with create_partner) and never printed by the demo.
DEMO_PARTNERS = {
    "Lone Star Health Plan (demo)": (
        PartnerKind.HEALTH_PLAN,
        ["clients:read", "episodes:read", "fhir:read"],
    ),
    "Hill Country Hospital (demo)": (
        PartnerKind.TREATING_PROVIDER,
        ["availability:read", "referrals:write", "referrals:read", "clients:read", "episodes:read"],
    ),
}
DEMO_CONSENT_DOCUMENT = b"%PDF-1.4\n% Demo consent form (synthetic)\n"


@dataclass
class DemoPartners:
    created: int = 0
    consents: int = 0
    referrals: int = 0


# What the demo hospital has sent: people who are not yet clients, in the
# coordinators' queue at /referrals/ (synthetic names).
DEMO_PARTNER_REFERRALS = [
    (
        "Avery",
        "Demo-Referral",
        date(1988, 6, 14),
        "detox",
        "austin",
        "emergent",
        "Alcohol withdrawal, CIWA 16; seen in our ED overnight, medically stable.",
    ),
    (
        "Reese",
        "Demo-Referral",
        date(1995, 1, 30),
        "residential",
        "houston",
        "urgent",
        "Opioid use disorder on buprenorphine induction; needs a residential bed.",
    ),
    (
        "Kai",
        "Demo-Referral",
        date(1979, 11, 2),
        "iop",
        None,
        "routine",
        "Stepping down from inpatient psychiatry; asks for evening IOP.",
    ),
]


def demo_partners_ensure(*, users: DemoUsers, now: datetime | None = None) -> DemoPartners:
    """The demo's payer and referring hospital, at every demo site, and a few
    consents of clients in care, recorded through consent_record: to the payer
    by name for payment, and single TPO consents to treating providers as a
    class. Idempotent: a partner that has consents gets no more."""
    now = resolve_now(now)
    done = DemoPartners()
    sites = list(Site.objects.filter(code__in=SITE_SPECS))
    admin = users.users["admin"]
    in_care = list(
        Client.objects.filter(
            mrn__startswith=DEMO_MRN_PREFIX, episodes__discharged_at__isnull=True
        ).order_by("mrn")[:5]
    )
    for name, (kind, scopes) in DEMO_PARTNERS.items():
        partner = Partner.objects.filter(name=name).first()
        if partner is None:
            partner, _credential = partner_create(name=name, kind=kind, scopes=scopes, sites=sites)
            done.created += 1
        if (
            partner.consents.exists()
            or Consent.objects.filter(recipient_class=kind, client__in=in_care).exists()
        ):
            continue
        payer = kind == PartnerKind.HEALTH_PLAN
        for client in in_care[:3] if payer else in_care[3:]:
            signed_on = site_today(client.registered_site, now) - timedelta(days=1)
            consents.consent_record(
                actor=admin,
                client=client,
                information_kinds=["demographics", "episodes"],
                information_description="Name, date of birth, dates and levels of care.",
                recipient_partner=partner if payer else None,
                recipient_class="" if payer else kind,
                purpose=Purpose.PAYMENT if payer else Purpose.TPO,
                right_to_revoke_stated=True,
                expiry=ConsentExpiry.DATE if payer else ConsentExpiry.NONE,
                expires_on=signed_on + timedelta(days=365) if payer else None,
                signed_on=signed_on,
                signed_by=f"{client.first_name} {client.last_name}",
                document=DEMO_CONSENT_DOCUMENT,
                document_name=f"consent-{client.mrn}.pdf",
                now=now,
            )
            done.consents += 1
    hospital = Partner.objects.filter(kind=PartnerKind.TREATING_PROVIDER, name__in=DEMO_PARTNERS)
    hospital = hospital.first()
    if hospital is not None and not hospital.referrals.exists():
        by_code = {site.code: site for site in sites}
        for first, last, born, level, site_code, urgency, summary in DEMO_PARTNER_REFERRALS:
            partner_referral_submit(
                partner=hospital,
                first_name=first,
                last_name=last,
                date_of_birth=born,
                requested_level=level,
                requested_site=by_code.get(site_code),
                urgency=urgency,
                clinical_summary=summary,
                referrer_name="Discharge planning desk (demo)",
                referrer_phone="512-555-0199",
                now=now,
            )
            done.referrals += 1
    return done
