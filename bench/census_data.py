"""A large, valid provider network and its history, generated in memory and loaded with COPY.

The generator keeps every rule the database and the services keep, so that the
load may skip the row-by-row triggers (session_replication_role = replica):

- a client has 1 to 3 episodes, one after another, never overlapping;
- an episode is 1..k placements, each starting exactly when the previous one
  ends; each move is a completed transfer (events requested, approved,
  completed, numbered 1, 2, 3 at increasing instants, the arrival at the
  instant the old placement ends and the new one starts; one arrival in five
  is entered late, its completion event some hours after the arrival);
- a discharged episode has a discharge type and its last placement ends at
  its discharge; an open episode (a client in care now) has exactly one open
  placement, its last;
- some placements also saw a transfer declined or cancelled (no move);
- a few clients in care have a transfer approved and not yet arrived (the
  program's `reserved`), a few more one only requested;
- each program's capacity is set from its occupancy now, a little above it
  (a few programs are over capacity, as after a site manager's override).

How many clients are in care now follows from the history (the steady state):
the sum of all stays divided by the window, so that a past census looks like
the present one. `verify()` re-checks the rules on the loaded tables with set
queries, since the triggers did not run.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

DAY = 86_400
HOUR = 3_600

# The continuum in order of position; intensity orders step-up and step-down.
CONTINUUM = ("intervention", "detox", "residential", "php", "iop", "sober_living", "alumni")
INTENSITY = {
    "intervention": 1,
    "detox": 6,
    "residential": 5,
    "php": 4,
    "iop": 3,
    "sober_living": 2,
    "alumni": 0,
}
LEVEL_NAMES = {
    "intervention": "Intervention",
    "detox": "Detox",
    "residential": "Residential",
    "php": "PHP",
    "iop": "IOP",
    "sober_living": "Sober Living",
    "alumni": "Alumni",
}
# Length of one stay, in days (uniform between the bounds).
STAY_DAYS = {
    "intervention": (2, 14),
    "detox": (3, 8),
    "residential": (14, 35),
    "php": (10, 28),
    "iop": (21, 56),
    "sober_living": (30, 120),
    "alumni": (30, 180),
}
FIRST_LEVEL = {
    "detox": 40,
    "residential": 15,
    "intervention": 10,
    "php": 8,
    "iop": 20,
    "sober_living": 4,
    "alumni": 3,
}
CORE_LEVELS = ("detox", "residential", "iop", "alumni")
MORE_LEVELS = ("php", "sober_living", "intervention", "residential", "iop", "php", "detox")
MAX_PLACEMENTS_PER_EPISODE = 8
REFERRAL_SOURCES = (
    "self",
    "family",
    "physician",
    "hospital",
    "court",
    "employer",
    "payer",
    "interventionist",
    "other_provider",
    "",
)
DISCHARGE_TYPES = {
    "completed": 55,
    "against_medical_advice": 20,
    "administrative": 8,
    "transferred_out_of_network": 7,
    "other": 9,
    "deceased": 1,
}
NO_MOVE_OUTCOMES = (  # (statuses after "requested", weight), each with its reason
    (("declined",), 45, "No bed for the planned day."),
    (("cancelled",), 25, "The client chose to stay."),
    (("approved", "declined"), 15, "Clinical review: not appropriate yet."),
    (("approved", "cancelled"), 15, "The client left before the move."),
)
NO_MOVE_CHANCE = 0.05  # of a placement seeing a transfer that did not happen
# Of an arrival entered late (its completion recorded after the client arrived),
# by up to 12 hours (and a small part of the new stay).
LATE_ENTRY_CHANCE = 0.2
LATE_ENTRY_MAX = 12 * HOUR
CITIES = (
    "Austin",
    "Houston",
    "Dallas",
    "San Antonio",
    "El Paso",
    "Fort Worth",
    "Phoenix",
    "Tucson",
    "Denver",
    "Boulder",
    "Albuquerque",
    "Santa Fe",
    "Tulsa",
    "Oklahoma City",
    "Little Rock",
    "Memphis",
    "Nashville",
    "Knoxville",
    "Atlanta",
    "Savannah",
    "Charlotte",
    "Raleigh",
    "Richmond",
    "Baltimore",
    "Philadelphia",
    "Pittsburgh",
    "Newark",
    "Hartford",
    "Providence",
    "Boston",
    "Portland",
    "Burlington",
    "Albany",
    "Buffalo",
    "Cleveland",
    "Columbus",
    "Cincinnati",
    "Detroit",
    "Lansing",
    "Chicago",
    "Milwaukee",
    "Madison",
    "Minneapolis",
    "Des Moines",
    "Omaha",
    "Wichita",
    "Kansas City",
    "St. Louis",
    "Louisville",
    "Indianapolis",
    "Seattle",
    "Spokane",
    "Boise",
    "Salt Lake City",
    "Reno",
)
ZONES = ("America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles")
FIRST_NAMES = (
    "Ava",
    "Ben",
    "Cara",
    "Dan",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kai",
    "Lena",
    "Max",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Ray",
    "Sara",
    "Tom",
    "Uma",
    "Vic",
    "Wes",
    "Xena",
    "Yara",
    "Zane",
    "Ana",
    "Bo",
    "Cy",
    "Di",
)
LAST_NAMES = (
    "Smith",
    "Jones",
    "Garcia",
    "Brown",
    "Miller",
    "Davis",
    "Lopez",
    "Wilson",
    "Moore",
    "Taylor",
    "Thomas",
    "Lee",
    "Martin",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Allen",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Ramirez",
)


@dataclass(frozen=True)
class Sizes:
    sites: int
    programs: int
    clients: int
    placements: int
    years: float
    seed: int = 4

    def check(self) -> None:
        if self.sites < 2 or self.programs < 2 * len(CONTINUUM):
            raise ValueError("Need at least 2 sites and 14 programs (every level twice).")
        if self.programs < self.sites:
            raise ValueError("Need at least one program per site.")
        if not self.clients <= self.placements <= self.clients * 3 * MAX_PLACEMENTS_PER_EPISODE:
            raise ValueError(
                "Each client has 1-3 episodes of 1-8 placements: "
                "clients <= placements <= 24 * clients."
            )
        if self.years < 0.25:
            raise ValueError("--years must be at least 0.25.")


@dataclass
class SiteSpec:
    id: str
    code: str
    name: str
    time_zone: str


@dataclass
class ProgramSpec:
    id: str
    site: int  # index into the sites
    level: str
    name: str
    capacity: int = 0


@dataclass
class Network:
    sites: list[SiteSpec]
    programs: list[ProgramSpec]


@dataclass
class Dataset:
    """Rows ready for COPY (text format), sorted the way production appends them."""

    now: int
    tables: dict[str, tuple[tuple[str, ...], list[str]]] = field(default_factory=dict)
    in_care_now: int = 0
    reserved_now: int = 0
    requested_now: int = 0
    seconds: float = 0.0


def _uuid_maker(rng: random.Random) -> Callable[[], str]:
    bits = rng.getrandbits
    clear = ~((0xF << 76) | (0x3 << 62))
    mark = (0x4 << 76) | (0x2 << 62)  # version 4, RFC 4122 variant

    def make() -> str:
        return f"{(bits(128) & clear) | mark:032x}"

    return make


def _timestamp_formatter() -> Callable[[int], str]:
    days: dict[int, str] = {}

    def fmt(t: int) -> str:
        day, sec = divmod(t, DAY)
        text = days.get(day)
        if text is None:
            text = days[day] = datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%d")
        return f"{text} {sec // HOUR:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}+00"

    return fmt


def network_make(sizes: Sizes) -> Network:
    """Sites in US cities, each with its share of programs: the four core levels
    first, then others (some twice: men's and women's residential, say)."""
    rng = random.Random(sizes.seed)
    uuid = _uuid_maker(rng)
    sites = []
    for n in range(sizes.sites):
        city = CITIES[n % len(CITIES)]
        name = city if n < len(CITIES) else f"{city} {n // len(CITIES) + 1}"
        slug = "".join(ch for ch in city.lower() if ch.isalnum())[:12]
        sites.append(SiteSpec(uuid(), f"s{n:03d}-{slug}", name, ZONES[n % len(ZONES)]))
    programs = []
    per_site, extra = divmod(sizes.programs, sizes.sites)
    for s, site in enumerate(sites):
        count = per_site + (s < extra)
        more = list(MORE_LEVELS)
        rng.shuffle(more)
        levels = [*CORE_LEVELS, *more]
        seen: dict[str, int] = {}
        for i in range(count):
            level = levels[i % len(levels)]
            seen[level] = seen.get(level, 0) + 1
            suffix = "" if seen[level] == 1 else f" {seen[level]}"
            programs.append(
                ProgramSpec(uuid(), s, level, f"{site.name} {LEVEL_NAMES[level]}{suffix}")
            )
    return Network(sites, programs)


class _Journeys:
    """Chains of programs: where a client goes next, and for how long."""

    def __init__(self, network: Network, rng: random.Random):
        self.rng = rng
        self.programs = network.programs
        self.by_level: dict[str, list[int]] = {level: [] for level in CONTINUUM}
        self.by_site_level: dict[tuple[int, str], list[int]] = {}
        for i, program in enumerate(network.programs):
            self.by_level[program.level].append(i)
            self.by_site_level.setdefault((program.site, program.level), []).append(i)
        offered = [level for level in CONTINUUM if self.by_level[level]]
        weights = [FIRST_LEVEL[level] for level in offered]
        self.first_levels = rng.choices(offered, weights, k=4096)
        self.stay = {
            level: (int(low * DAY), int(high * DAY)) for level, (low, high) in STAY_DAYS.items()
        }

    def next_level(self, level: str) -> str:
        r = self.rng.random()
        if level == "intervention":
            return "detox" if r < 0.6 else "residential" if r < 0.9 else "iop"
        if level == "alumni":
            return "detox" if r < 0.3 else "residential" if r < 0.5 else "iop" if r < 0.7 else level
        i = CONTINUUM.index(level)
        if r < 0.70:
            return CONTINUUM[i + 1]
        if r < 0.78 and i + 2 < len(CONTINUUM):
            return CONTINUUM[i + 2]
        if r < 0.85 or level == "detox":
            return level  # lateral or site change
        return "detox" if level == "residential" or r < 0.93 else "residential"  # step up

    def next_program(self, current: int) -> int:
        """A program other than `current`: usually at the same site, at the next level."""
        here = self.programs[current]
        for _ in range(8):
            level = self.next_level(here.level)
            local = [p for p in self.by_site_level.get((here.site, level), ()) if p != current]
            if local and self.rng.random() < 0.85:
                return self.rng.choice(local)
            anywhere = [p for p in self.by_level[level] if p != current]
            if anywhere:
                return self.rng.choice(anywhere)
        return (current + 1) % len(self.programs)

    def chain(self, length: int) -> tuple[list[int], list[int]]:
        """`length` programs and the stay (seconds) in each."""
        rng = self.rng
        level = self.first_levels[rng.getrandbits(12)]
        current = rng.choice(self.by_level[level])
        programs, stays = [current], []
        for _ in range(length - 1):
            current = self.next_program(current)
            programs.append(current)
        for p in programs:
            low, high = self.stay[self.programs[p].level]
            stays.append(rng.randint(low, high))
        return programs, stays


def _episode_counts(sizes: Sizes, rng: random.Random) -> list[list[int]]:
    """Per client, the number of placements of each of its episodes; the total
    is exactly sizes.placements."""
    target_episodes = min(max(round(sizes.placements / 2.5), sizes.clients), 3 * sizes.clients)
    mean = target_episodes / sizes.clients  # episodes per client, 1..3
    t = (mean - 1) / 2  # 1 + Binomial(2, t) has that mean
    weights = [(1 - t) ** 2, 2 * t * (1 - t), t * t]
    per_client = rng.choices((1, 2, 3), weights, k=sizes.clients)
    episodes = sum(per_client)
    kmax = MAX_PLACEMENTS_PER_EPISODE
    p = min(max((sizes.placements / episodes - 1) / (kmax - 1), 0.0), 1.0)
    rand = rng.random
    lengths = [1 + sum(rand() < p for _ in range(kmax - 1)) for _ in range(episodes)]
    gap = sizes.placements - sum(lengths)
    step = 1 if gap > 0 else -1
    while gap:
        i = rng.randrange(episodes)
        if 1 <= lengths[i] + step <= kmax:
            lengths[i] += step
            gap -= step
    out, i = [], 0
    for n in per_client:
        out.append(lengths[i : i + n])
        i += n
    return out


def generate(
    sizes: Sizes,
    network: Network,
    *,
    now: datetime,
    actors: list[int],
    progress: Callable[[str], None] = print,
) -> Dataset:
    """Every clinical row of the data set. `actors[s]` is the user id of a
    coordinator of site s: the one who admits, requests, approves and discharges there."""
    started = time.monotonic()
    rng = random.Random(sizes.seed + 1)
    uuid = _uuid_maker(rng)
    ts = _timestamp_formatter()
    rand, randint, choice = rng.random, rng.randint, rng.choice
    journeys = _Journeys(network, rng)
    programs = network.programs
    site_of = [p.site for p in programs]
    now_s = int(now.timestamp())
    window = int(sizes.years * 365.25 * DAY)
    window_start = now_s - window
    discharge_types = rng.choices(list(DISCHARGE_TYPES), list(DISCHARGE_TYPES.values()), k=4096)
    no_move_outcomes = rng.choices(NO_MOVE_OUTCOMES, [w for _, w, _ in NO_MOVE_OUTCOMES], k=4096)

    # Pass 1: the chains and their stays.
    lengths = _episode_counts(sizes, rng)
    chains = [[journeys.chain(k) for k in client] for client in lengths]
    total_stay = sum(sum(stays) for client in chains for _, stays in client)
    in_care = min(sizes.clients, round(total_stay / window))
    open_clients = set(rng.sample(range(sizes.clients), in_care))
    progress(
        f"  generated {sum(map(len, chains)):,} episode chains; "
        f"{in_care:,} clients in care now (steady state)"
    )

    clients: list[tuple[int, str]] = []
    episodes: list[tuple[int, str]] = []
    placements: list[tuple[int, str]] = []
    transfers: list[tuple[int, str]] = []
    events: list[tuple[int, str]] = []
    occupied_now = [0] * len(programs)
    open_placements: list[tuple[str, str, str, int, int]] = []

    def no_move(cid, eid, pid, program, start, end):
        """A transfer requested during [start, end) that did not happen."""
        span = end - start
        at = start + int(span * (0.05 + 0.15 * rand()))
        to = journeys.next_program(program)
        statuses, _, reason = no_move_outcomes[rng.getrandbits(12)]
        tid = uuid()
        here, there = actors[site_of[program]], actors[site_of[to]]
        events.append((at, f"{uuid()}\t{tid}\t1\t\trequested\t{here}\t{ts(at)}\t\n"))
        previous, last = "requested", at
        for number, status in enumerate(statuses, start=2):
            last += 1 + int(span * 0.1 * rand())
            actor = here if status == "cancelled" else there
            text = reason if status in ("declined", "cancelled") else ""
            events.append(
                (
                    last,
                    f"{uuid()}\t{tid}\t{number}\t{previous}\t{status}\t{actor}\t{ts(last)}"
                    f"\t{text}\n",
                )
            )
            previous = status
        transfers.append(
            (
                at,
                f"{tid}\t{cid}\t{eid}\t{pid}\t{programs[program].id}\t{programs[to].id}\t\\N"
                f"\t{previous}\t\t\t\\N\t{ts(at)}\t{here}\t{ts(last)}\t\n",
            )
        )

    def episode(cid, start, chain, *, open_for=None):
        """Write one episode from `start`; with `open_for`, the client is still
        in its last placement, `open_for` seconds after arriving there."""
        chain_programs, stays = chain
        eid = uuid()
        first_site = site_of[chain_programs[0]]
        t = start
        previous = None  # (placement id, program, started)
        for j, program in enumerate(chain_programs):
            pid = uuid()
            last = j == len(chain_programs) - 1
            end = None if last and open_for is not None else t + stays[j]
            stop = now_s if end is None else end
            if previous is not None:
                # The move from the previous placement: requested, approved, arrived at
                # t; the arrival is sometimes entered a while after it happened.
                old_pid, old_program, old_start = previous
                lead = min(3 * DAY, (t - old_start) // 2)
                requested = t - max(2, int(lead * (0.2 + 0.8 * rand())))
                approved = requested + 1 + int((t - requested - 2) * rand())
                entered = t
                if rand() < LATE_ENTRY_CHANCE:
                    entered += int(min(LATE_ENTRY_MAX, 0.04 * (stop - t)) * rand())
                tid = uuid()
                here, there = actors[site_of[old_program]], actors[site_of[program]]
                transfers.append(
                    (
                        requested,
                        f"{tid}\t{cid}\t{eid}\t{old_pid}\t{programs[old_program].id}"
                        f"\t{programs[program].id}\t{pid}\tcompleted\t\t\t"
                        f"{ts(t)[:10]}\t{ts(requested)}\t{here}\t{ts(entered)}\t\n",
                    )
                )
                events.append(
                    (requested, f"{uuid()}\t{tid}\t1\t\trequested\t{here}\t{ts(requested)}\t\n")
                )
                events.append(
                    (
                        approved,
                        f"{uuid()}\t{tid}\t2\trequested\tapproved\t{there}\t{ts(approved)}\t\n",
                    )
                )
                events.append(
                    (
                        entered,
                        f"{uuid()}\t{tid}\t3\tapproved\tcompleted\t{there}\t{ts(entered)}\t\n",
                    )
                )
            if rand() < NO_MOVE_CHANCE and stop - t > 6 * HOUR:
                no_move(cid, eid, pid, program, t, stop)
            placements.append(
                (
                    t,
                    f"{pid}\t{eid}\t{cid}\t{programs[program].id}\t{ts(t)}"
                    f"\t{ts(end) if end is not None else chr(92) + 'N'}\n",
                )
            )
            if end is None:
                occupied_now[program] += 1
                open_placements.append((cid, eid, pid, program, t))
            previous = (pid, program, t)
            t = end if end is not None else t
        admitted_by = actors[first_site]
        referral = REFERRAL_SOURCES[rng.getrandbits(12) % len(REFERRAL_SOURCES)]
        if open_for is not None:
            discharged = "\\N\t\\N\t"
        else:
            discharged = (
                f"{ts(t)}\t{actors[site_of[chain_programs[-1]]]}"
                f"\t{discharge_types[rng.getrandbits(12)]}"
            )
        episodes.append(
            (start, f"{eid}\t{cid}\t{ts(start)}\t{admitted_by}\t{referral}\t{discharged}\t\n")
        )
        return t

    for c, client_chains in enumerate(chains):
        cid = uuid()
        history = client_chains
        limit = now_s - HOUR
        last_chain = None
        if c in open_clients:
            *history, last_chain = client_chains
            programs_, stays = last_chain
            open_for = max(HOUR, int(stays[-1] * rand()))
            prior = sum(stays[:-1])
            room = now_s - window_start - open_for - 30 * DAY
            if prior > room:  # a very long chain: shorten its stays to fit the window
                stays = [max(HOUR, s * room // prior) for s in stays[:-1]] + [stays[-1]]
                prior = sum(stays[:-1])
                last_chain = (programs_, stays)
            open_start = now_s - open_for - prior
            limit = open_start - DAY
        # Episodes one after another within [window_start, limit), a day apart at least.
        stay_total = sum(sum(stays) for _, stays in history)
        room = limit - window_start - DAY * len(history)
        if stay_total > room * 0.9:
            factor = room * 0.9 / stay_total
            history = [(p, [max(HOUR, int(s * factor)) for s in stays]) for p, stays in history]
            stay_total = sum(sum(stays) for _, stays in history)
        slack = max(0, room - stay_total)
        cuts = sorted(int(slack * rand()) for _ in history)
        t, used = window_start, 0
        first_start = None
        for cut, chain in zip(cuts, history, strict=True):
            t += cut - used
            used = cut
            first_start = first_start or t
            t = episode(cid, t, chain) + DAY
        if last_chain is not None:
            episode(cid, open_start, last_chain, open_for=open_for)
            first_start = first_start or open_start
        first_program = (history[0] if history else last_chain)[0][0]
        registered = max(window_start - 30 * DAY, first_start - int(14 * DAY * rand()))
        clients.append(
            (
                registered,
                f"{cid}\tB{c + 1:09d}\t{choice(FIRST_NAMES)}\t{choice(LAST_NAMES)}\t\t"
                f"{1950 + rng.getrandbits(6) % 55}-{randint(1, 12):02d}-{randint(1, 28):02d}"
                f"\t\t\t\t{network.sites[site_of[first_program]].id}"
                f"\t{ts(registered)}\t{ts(registered)}\n",
            )
        )

    # Transfers in flight now: a few approved (the programs' `reserved`), a few requested.
    reserved_now = [0] * len(programs)
    in_flight = rng.sample(
        open_placements, min(len(open_placements), len(programs) // 3 + len(programs) // 6)
    )
    approved_count = len(programs) // 3
    for n, (cid, eid, pid, program, arrived) in enumerate(in_flight):
        to = journeys.next_program(program)
        requested = arrived + int((now_s - arrived) * (0.5 + 0.4 * rand()))
        tid = uuid()
        here, there = actors[site_of[program]], actors[site_of[to]]
        events.append((requested, f"{uuid()}\t{tid}\t1\t\trequested\t{here}\t{ts(requested)}\t\n"))
        status, updated = "requested", requested
        if n < approved_count:
            status = "approved"
            updated = requested + 1 + int((now_s - requested - 2) * rand())
            reserved_now[to] += 1
            events.append(
                (
                    updated,
                    f"{uuid()}\t{tid}\t2\trequested\tapproved\t{there}\t{ts(updated)}\t\n",
                )
            )
        transfers.append(
            (
                requested,
                f"{tid}\t{cid}\t{eid}\t{pid}\t{programs[program].id}\t{programs[to].id}\t\\N"
                f"\t{status}\t\t\t\\N\t{ts(requested)}\t{here}\t{ts(updated)}\t\n",
            )
        )

    # Capacities roughly match the occupancy now; one program in twenty is over.
    for i, program in enumerate(programs):
        busy = occupied_now[i] + reserved_now[i]
        if busy and rand() < 0.05:
            program.capacity = max(1, busy - randint(1, 2))
        else:
            program.capacity = max(2, round(busy * (1.03 + 0.2 * rand())) + 1)

    data = Dataset(now=now_s)
    for name, columns, rows in (
        ("care_client", CLIENT_COLUMNS, clients),
        ("care_episode", EPISODE_COLUMNS, episodes),
        ("care_placement", PLACEMENT_COLUMNS, placements),
        ("care_transfer", TRANSFER_COLUMNS, transfers),
        ("care_transferevent", EVENT_COLUMNS, events),
    ):
        rows.sort(key=_first)  # the order in which production would have appended them
        data.tables[name] = (columns, [line for _, line in rows])
    data.in_care_now = in_care
    data.reserved_now = sum(reserved_now)
    data.requested_now = len(in_flight) - data.reserved_now
    data.seconds = time.monotonic() - started
    return data


def _first(row: tuple[int, str]) -> int:
    return row[0]


CLIENT_COLUMNS = (
    "id",
    "mrn",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "registered_site_id",
    "created_at",
    "updated_at",
)
EPISODE_COLUMNS = (
    "id",
    "client_id",
    "admitted_at",
    "admitted_by_id",
    "referral_source",
    "discharged_at",
    "discharged_by_id",
    "discharge_type",
    "discharge_notes",
)
PLACEMENT_COLUMNS = ("id", "episode_id", "client_id", "program_id", "started_at", "ended_at")
TRANSFER_COLUMNS = (
    "id",
    "client_id",
    "episode_id",
    "from_placement_id",
    "from_program_id",
    "to_program_id",
    "to_placement_id",
    "status",
    "reason",
    "handoff_notes",
    "planned_for",
    "requested_at",
    "requested_by_id",
    "updated_at",
    "capacity_override_reason",
)
EVENT_COLUMNS = (
    "id",
    "transfer_id",
    "number",
    "from_status",
    "to_status",
    "actor_id",
    "at",
    "reason",
)
CLINICAL_TABLES = (
    "care_client",
    "care_episode",
    "care_placement",
    "care_transfer",
    "care_transferevent",
)
CHUNK = 20_000  # lines per write: big enough to keep PostgreSQL busy, small enough to report


SECONDARY_INDEXES = """
    SELECT i.relname, pg_get_indexdef(i.oid)
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    WHERE t.relname = ANY(%s) AND NOT x.indisunique
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid)
"""
EXCLUSIONS = """
    SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
    FROM pg_constraint WHERE contype = 'x' AND conrelid::regclass::text = ANY(%s)
"""


def load(conninfo: str, data: Dataset, progress: Callable[[str], None] = print) -> float:
    """COPY every table in one transaction, rows frozen and marked all-visible
    (COPY FREEZE after TRUNCATE), with the row triggers (foreign keys and the
    deferred episode check) off: the generator keeps those rules and verify()
    re-checks them. Unique and check constraints are enforced row by row; the
    secondary indexes and the exclusion constraint are dropped before and
    rebuilt after, from their own definitions, which is faster than keeping
    them up to date row by row and re-checks the no-overlap rule on every row.
    Returns the seconds spent."""
    import psycopg
    from psycopg.copy import QueuedLibpqWriter

    started = time.monotonic()
    tables = list(CLINICAL_TABLES)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute(f"TRUNCATE {', '.join(CLINICAL_TABLES)} CASCADE")
        indexes = cur.execute(SECONDARY_INDEXES, [tables]).fetchall()
        exclusions = cur.execute(EXCLUSIONS, [tables]).fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        for table, name, _ in exclusions:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for table in CLINICAL_TABLES:
            columns, lines = data.tables[table]
            t0 = time.monotonic()
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FREEZE)"
            with cur.copy(sql, writer=QueuedLibpqWriter(cur)) as copy:
                for i in range(0, len(lines), CHUNK):
                    copy.write("".join(lines[i : i + CHUNK]))
            seconds = time.monotonic() - t0
            progress(
                f"  {table:<20} {len(lines):>10,} rows in {seconds:6.1f} s "
                f"({len(lines) / max(seconds, 1e-9):>9,.0f} rows/s)"
            )
        t0 = time.monotonic()
        for _, definition in indexes:
            cur.execute(definition)
        for table, name, definition in exclusions:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        progress(
            f"  rebuilt {len(indexes)} indexes and {len(exclusions)} exclusion constraint(s) "
            f"in {time.monotonic() - t0:.1f} s"
        )
        cur.execute("SET session_replication_role = origin")
        conn.commit()
    return time.monotonic() - started


# Each query returns the rows breaking one rule: all must come back empty.
CHECKS = {
    "placements reference their episode, client and program": """
        SELECT p.id FROM care_placement p
        LEFT JOIN care_episode e ON e.id = p.episode_id
        LEFT JOIN care_client c ON c.id = p.client_id
        LEFT JOIN network_program g ON g.id = p.program_id
        WHERE e.id IS NULL OR c.id IS NULL OR g.id IS NULL OR e.client_id <> p.client_id""",
    "episodes reference their client and users": """
        SELECT e.id FROM care_episode e
        LEFT JOIN care_client c ON c.id = e.client_id
        LEFT JOIN auth_user u ON u.id = e.admitted_by_id
        WHERE c.id IS NULL OR u.id IS NULL""",
    "an open episode has one open placement, a discharged one none; "
    "placements lie within their episode": """
        SELECT e.id FROM care_episode e
        JOIN (
            SELECT episode_id, count(*) FILTER (WHERE ended_at IS NULL) AS open,
                   min(started_at) AS first, max(ended_at) AS last
            FROM care_placement GROUP BY episode_id
        ) p ON p.episode_id = e.id
        WHERE (e.discharged_at IS NULL AND p.open <> 1)
           OR (e.discharged_at IS NOT NULL AND (p.open <> 0 OR p.last <> e.discharged_at))
           OR p.first <> e.admitted_at""",
    "every episode has placements": """
        SELECT e.id FROM care_episode e
        WHERE NOT EXISTS (SELECT 1 FROM care_placement p WHERE p.episode_id = e.id)""",
    "placements of an episode follow each other without a gap": """
        SELECT id FROM (
            SELECT id, started_at, lag(ended_at) OVER w AS previous_end,
                   row_number() OVER w AS n
            FROM care_placement WINDOW w AS (PARTITION BY episode_id ORDER BY started_at)
        ) x WHERE n > 1 AND previous_end IS DISTINCT FROM started_at""",
    "transfers reference their rows; completed ones join the two placements": """
        SELECT t.id FROM care_transfer t
        JOIN care_placement f ON f.id = t.from_placement_id
        LEFT JOIN care_placement n ON n.id = t.to_placement_id
        WHERE f.client_id <> t.client_id OR f.episode_id <> t.episode_id
           OR f.program_id <> t.from_program_id
           OR (t.status = 'completed' AND (n.id IS NULL OR n.program_id <> t.to_program_id
               OR n.started_at <> f.ended_at OR n.episode_id <> t.episode_id))
           OR NOT EXISTS (SELECT 1 FROM network_program g WHERE g.id = t.to_program_id)""",
    "events are numbered 1.. at increasing instants and end in the transfer's status": """
        SELECT t.id FROM care_transfer t
        JOIN LATERAL (
            SELECT count(*) AS n, max(number) AS top,
                   bool_and(at > prev_at OR prev_at IS NULL) AS rising,
                   (array_agg(to_status ORDER BY number DESC))[1] AS last_status,
                   max(at) AS last_at
            FROM (SELECT number, to_status, at, lag(at) OVER (ORDER BY number) AS prev_at
                  FROM care_transferevent e WHERE e.transfer_id = t.id) ev
        ) e ON true
        WHERE e.n = 0 OR e.n <> e.top OR NOT e.rising OR e.last_status <> t.status
           OR e.last_at <> t.updated_at""",
    "events reference their transfer": """
        SELECT e.id FROM care_transferevent e
        LEFT JOIN care_transfer t ON t.id = e.transfer_id WHERE t.id IS NULL""",
}


def verify(conninfo: str) -> float:
    """Re-check, with set queries, the rules the load's skipped triggers keep."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute("SET work_mem = '256MB'")
        for rule, sql in CHECKS.items():
            cur.execute(f"SELECT count(*) FROM ({sql}) broken")
            broken = cur.fetchone()[0]
            if broken:
                raise AssertionError(f"{broken} rows break the rule: {rule}")
    return time.monotonic() - started
