"""Read-only selectors behind the staff's web workspaces (/board/, /clients/<id>/,
/transfers/, /follow-ups/; docs/workspaces.md).

Nothing here writes: every action of a workspace calls the same service
function as the API. Every queryset starts from a selector of services/access.py,
so a workspace sees exactly what the API would show the same user. Each
selector costs a constant number of queries, whatever the number of rows: the
pages assert it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from uuid import UUID

from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When

from backend.aftercare.models import ContactAttempt, FollowUp, Referral, ReferralStatus
from backend.care.models import (
    ACTIVE_TRANSFER_STATUSES,
    Client,
    Placement,
    Transfer,
    TransferEvent,
    TransferStatus,
)
from backend.handoffs.models import Handoff, HandoffItem, HandoffStatus
from backend.network.models import Program, Site
from backend.partners.models import Urgency
from services import access, audit_trail, census, clients
from services.aftercare import protocol, queue
from services.capacity import programs_with_occupancy
from services.clock import local_today, resolve_now

# --- whose workspace is which ----------------------------------------------------


class Workspace:
    """The landing page of each kind of user: `/` sends them there."""

    BOARD = "board"
    FOLLOW_UPS = "follow_ups"
    CENSUS = "census"
    NONE = "none"


def workspace_for(user) -> str:
    """A site's staff (coordinators and managers) work from the board; the alumni
    team from its queue; an organisation admin, who is on no care team, from
    the network's census. Someone with no role has no workspace."""
    scope = access.access_scope(user)
    if scope.care_site_ids:
        return Workspace.BOARD
    if scope.is_alumni_coordinator:
        return Workspace.FOLLOW_UPS
    if scope.is_org_admin:
        return Workspace.CENSUS
    return Workspace.NONE


def board_sites(user) -> list[Site]:
    """The sites whose board the user may open: their care team's sites (every
    site for organisation admins), by name."""
    scope = access.access_scope(user)
    if scope.is_org_admin:
        return list(Site.objects.order_by("name", "id"))
    return list(Site.objects.filter(pk__in=list(scope.care_site_ids)).order_by("name", "id"))


def managed_site_ids(user) -> frozenset[UUID]:
    return access.access_scope(user).managed_site_ids


# --- the board -----------------------------------------------------------------------


def days_since(start: dt.datetime, zone: str, now: dt.datetime) -> int:
    """Calendar days at the site from `start` to `now`: 0 on the first day."""
    return (local_today(zone, now) - local_today(zone, start)).days


@dataclass
class ProgramLine:
    """One program of the board: the census row and the clients in it."""

    census: dict
    placements: list = field(default_factory=list)


@dataclass
class Board:
    sites: list[Site]
    programs: list[ProgramLine]
    incoming: list[Transfer]
    outgoing: list[Transfer]
    handoffs: list[Handoff]
    counts: dict
    now: dt.datetime


def _board_placements(user, site_ids) -> QuerySet[Placement]:
    return (
        access.placements_visible_to(user)
        .filter(ended_at__isnull=True, program__site_id__in=site_ids)
        # The client's name and MRN and the program's site: what the board shows.
        .select_related("client", "program")
        .only(
            "id",
            "client_id",
            "program_id",
            "episode_id",
            "started_at",
            "ended_at",
            "client__first_name",
            "client__last_name",
            "client__mrn",
            "program__site_id",
        )
        .order_by("program_id", "client__last_name", "client__first_name", "id")
    )


def board_transfers(user, site_ids, *, statuses=ACTIVE_TRANSFER_STATUSES) -> QuerySet[Transfer]:
    """Transfers from or to the programs of `site_ids` that the user may see."""
    site_ids = list(site_ids)
    return (
        access.transfers_visible_to(user)
        .filter(status__in=statuses)
        .filter(Q(from_program__site_id__in=site_ids) | Q(to_program__site_id__in=site_ids))
        .select_related(
            "client",
            "from_program__site",
            "from_program__level",
            "to_program__site",
            "to_program__level",
        )
        .order_by("requested_at", "id")
    )


def _waiting_handoffs(user, site_ids) -> QuerySet[Handoff]:
    return (
        access.handoffs_visible_to(user)
        .filter(status=HandoffStatus.OPEN, receiving_site_id__in=list(site_ids))
        .select_related("transfer__client", "transfer__from_program", "transfer__to_program")
        .order_by("acknowledge_due_at", "id")
    )


def board(user, sites: list[Site], *, now: dt.datetime | None = None) -> Board:
    """Everything the board shows for `sites`, in a constant number of queries:
    the census of their programs (with the API's site totals), the clients in
    each program with their days there, active transfers in and out with their
    age, and hand-offs waiting for acknowledgement with the time left."""
    now = resolve_now(now)
    site_ids = [site.pk for site in sites]
    zones = {site.pk: site.time_zone for site in sites}
    rows = [row for row in census.census_at(user=user) if row["site"] in zones]
    lines = {row["program"]: ProgramLine(census=row) for row in rows}
    for placement in _board_placements(user, site_ids):
        placement.site_zone = zones[placement.program.site_id]
        placement.days_in_program = days_since(placement.started_at, placement.site_zone, now)
        line = lines.get(placement.program_id)
        if line is not None:
            line.placements.append(placement)
    incoming, outgoing = [], []
    for transfer in board_transfers(user, site_ids):
        transfer.age = now - transfer.requested_at
        # A move within one site is both: it is listed where it is acted on,
        # with the receiving side (approve, complete).
        (incoming if transfer.to_program.site_id in zones else outgoing).append(transfer)
    waiting = list(_waiting_handoffs(user, site_ids))
    for handoff in waiting:
        handoff.time_left = handoff.acknowledge_due_at - now
        handoff.overdue = handoff.acknowledge_due_at <= now
    return Board(
        sites=sites,
        programs=list(lines.values()),
        incoming=incoming,
        outgoing=outgoing,
        handoffs=waiting,
        counts=_counts(
            rows,
            len(incoming),
            len(outgoing),
            [h.acknowledge_due_at for h in waiting],
            open_referral_count(user, site_ids),
            now,
        ),
        now=now,
    )


def _counts(rows, incoming: int, outgoing: int, due: list, referrals: int, now) -> dict:
    return {
        "referrals": referrals,
        "programs": rows,
        "totals": census.census_totals(rows),
        "incoming": incoming,
        "outgoing": outgoing,
        "handoffs_waiting": len(due),
        "handoffs_overdue": sum(1 for at in due if at <= now),
        "now": now,
    }


def board_counts(user, sites: list[Site], *, now: dt.datetime | None = None) -> dict:
    """The board's figures alone (the live refresh): counts, no client named."""
    now = resolve_now(now)
    site_ids = [site.pk for site in sites]
    zones = {site.pk for site in sites}
    rows = [row for row in census.census_at(user=user) if row["site"] in zones]
    transfers = list(board_transfers(user, site_ids).values_list("to_program__site_id", flat=True))
    incoming = sum(1 for site_id in transfers if site_id in zones)
    due = list(_waiting_handoffs(user, site_ids).values_list("acknowledge_due_at", flat=True))
    referrals = open_referral_count(user, site_ids)
    return _counts(rows, incoming, len(transfers) - incoming, due, referrals, now)


# --- programs to choose from ---------------------------------------------------------


def programs_for_admission(user) -> QuerySet[Program]:
    """Active programs the user may admit to (their care team's), with their
    occupancy: a program without room says so on the form."""
    scope = access.access_scope(user)
    programs = Program.objects.filter(is_active=True)
    if not scope.is_org_admin:
        programs = programs.filter(site_id__in=list(scope.care_site_ids))
    return programs_with_occupancy(programs.select_related("site", "level")).order_by(
        "site__name", "level__position", "name"
    )


def programs_for_transfer() -> QuerySet[Program]:
    """Every active program of the network (visible to all staff), with occupancy."""
    return programs_with_occupancy(
        Program.objects.filter(is_active=True).select_related("site", "level")
    ).order_by("site__name", "level__position", "name")


def referral_programs() -> QuerySet[Program]:
    """Treatment programs a follow-up may refer back to (the service refuses alumni)."""
    return programs_for_transfer().exclude(level_id="alumni")


# --- clients -----------------------------------------------------------------------------


def client_for_page(user, client_id) -> Client | None:
    """The client of /clients/<id>/ when the user may see them (their record,
    or, for the alumni team, their aftercare), else None: a 404."""
    return (
        access.aftercare_clients_visible_to(user)
        .select_related("registered_site")
        .filter(pk=client_id)
        .first()
    )


@dataclass
class Journey:
    """A client's course: `entries` is the timeline, oldest first."""

    client: Client
    sees_record: bool
    episodes: list
    placements: list
    transfers: list
    follow_ups: list
    current_placement: Placement | None
    active_transfer: Transfer | None
    entries: list = field(default_factory=list)


def client_journey(user, client: Client) -> Journey:
    """Stays, transfers with their events and hand-offs, discharges and the
    aftercare year, in a constant number of queries. The alumni team may see a
    client's aftercare without their record (a client never in an alumni
    program): then only the follow-ups are shown, as the API would."""
    sees_record = access.clients_visible_to(user).filter(pk=client.pk).exists()
    episodes, placements, transfers = [], [], []
    if sees_record:
        episodes = list(client.episodes.order_by("admitted_at", "id"))
        placements = list(
            client.placements.select_related("program__site", "program__level").order_by(
                "started_at", "id"
            )
        )
        transfers = list(
            Transfer.objects.filter(client=client)
            .select_related(
                "from_program__site",
                "to_program__site",
                "from_program__level",
                "to_program__level",
                "handoff",
            )
            .prefetch_related(
                Prefetch("events", queryset=TransferEvent.objects.select_related("actor")),
                Prefetch(
                    "handoff__items",
                    queryset=HandoffItem.objects.select_related("completed_by").order_by(
                        "position"
                    ),
                ),
            )
            .order_by("requested_at", "id")
        )
    follow_ups = list(
        access.follow_ups_visible_to(user)
        .filter(client=client)
        .select_related("site", "assignee", "plan", "from_program", "referral__to_program")
        .prefetch_related(
            Prefetch("attempts", queryset=ContactAttempt.objects.select_related("by"))
        )
        .order_by("due_on", "id")
    )
    current = next((p for p in placements if p.ended_at is None), None)
    active = next((t for t in transfers if t.status in ACTIVE_TRANSFER_STATUSES), None)
    journey = Journey(
        client=client,
        sees_record=sees_record,
        episodes=episodes,
        placements=placements,
        transfers=transfers,
        follow_ups=follow_ups,
        current_placement=current,
        active_transfer=active,
    )
    journey.entries = _timeline(journey)
    return journey


# The client page shows this many of the latest audit events (the rest: the CSV).
CLIENT_AUDIT_SHOWN = 25


@dataclass
class ClientAudit:
    events: list
    # Older events exist than those shown.
    more: bool


def client_audit(user, client: Client) -> ClientAudit | None:
    """The latest audit events of the client's record, newest first, for an organisation
    admin; None for anyone else, before any query of the trail is made."""
    if not audit_trail.audit_trail_readable_by(user):
        return None
    rows = list(audit_trail.audit_events(reader=user, client=client.pk)[: CLIENT_AUDIT_SHOWN + 1])
    return ClientAudit(events=rows[:CLIENT_AUDIT_SHOWN], more=len(rows) > CLIENT_AUDIT_SHOWN)


def _timeline(journey: Journey) -> list[dict]:
    """(kind, at, record) of each event of the course, oldest first."""
    entries = []
    for episode in journey.episodes:
        entries.append({"kind": "admission", "at": episode.admitted_at, "record": episode})
        if episode.discharged_at:
            entries.append({"kind": "discharge", "at": episode.discharged_at, "record": episode})
    for placement in journey.placements:
        entries.append({"kind": "stay", "at": placement.started_at, "record": placement})
    for transfer in journey.transfers:
        entries.append({"kind": "transfer", "at": transfer.requested_at, "record": transfer})
    for follow_up in journey.follow_ups:
        at = dt.datetime.combine(follow_up.due_on, dt.time(12), tzinfo=dt.UTC)
        entries.append({"kind": "follow_up", "at": at, "record": follow_up})
    order = {"admission": 0, "stay": 1, "transfer": 2, "discharge": 3, "follow_up": 4}
    return sorted(entries, key=lambda e: (e["at"], order[e["kind"]]))


def transfer_for_action(user, transfer_id) -> Transfer | None:
    """A transfer the user may see (else None: a 404), for an action on it."""
    return access.transfers_visible_to(user).filter(pk=transfer_id).first()


def handoff_for_action(user, handoff_id) -> Handoff | None:
    return access.handoffs_visible_to(user).select_related("transfer").filter(pk=handoff_id).first()


def follow_up_for_action(user, follow_up_id) -> FollowUp | None:
    return access.follow_ups_visible_to(user).filter(pk=follow_up_id).first()


def open_episode(client: Client):
    return client.episodes.filter(discharged_at__isnull=True).first()


# --- the transfers page -------------------------------------------------------------------


def recent_transfers(user, site_ids, *, days: int = 30, now=None) -> QuerySet[Transfer]:
    """Transfers of the sites that ended (completed, declined, cancelled) in the last `days`."""
    since = resolve_now(now) - dt.timedelta(days=days)
    ended = (TransferStatus.COMPLETED, TransferStatus.DECLINED, TransferStatus.CANCELLED)
    return (
        board_transfers(user, site_ids, statuses=ended)
        .filter(updated_at__gte=since)
        .order_by("-updated_at", "id")
    )


# --- the follow-up queue --------------------------------------------------------------------

QUEUE_BUCKETS = ("due", "overdue", "upcoming")
QUEUE_PAGE = 50  # rows per bucket on the page; the API pages the rest


def follow_up_queue_page(user, *, mine: bool, now=None) -> dict[str, list[FollowUp]]:
    """The three open buckets of the queue (the API's follow_up_queue), each
    with the client's contact details, consent and contact hours."""
    now = resolve_now(now)
    buckets = {}
    for bucket in QUEUE_BUCKETS:
        rows = queue.follow_up_queue(user, bucket=bucket, assignee=user if mine else None, now=now)
        buckets[bucket] = list(
            rows.select_related("plan", "from_program").prefetch_related(
                Prefetch("attempts", queryset=ContactAttempt.objects.select_related("by"))
            )[:QUEUE_PAGE]
        )
    return buckets


# --- what needs a site manager --------------------------------------------------------------


@dataclass
class ManagerNeeds:
    full_requests: list[Transfer]
    escalated: list[Handoff]
    overdue_follow_ups: list[FollowUp]

    @property
    def count(self) -> int:
        return len(self.full_requests) + len(self.escalated) + len(self.overdue_follow_ups)


def manager_needs(user, *, now=None) -> ManagerNeeds:
    """For a site manager's sites: requested transfers into a program with no
    room (only a manager's capacity override can approve them), hand-offs
    escalated to the managers, and overdue follow-ups."""
    now = resolve_now(now)
    site_ids = list(managed_site_ids(user))
    full = programs_with_occupancy(Program.objects.filter(site_id__in=site_ids)).filter(
        available__lte=0
    )
    requests = list(
        board_transfers(user, site_ids, statuses=[TransferStatus.REQUESTED]).filter(
            to_program__in=full.values("pk")
        )
    )
    escalated = list(
        _waiting_handoffs(user, site_ids).filter(
            escalation_level__gte=1, acknowledge_due_at__lte=now
        )
    )
    overdue = list(
        queue.follow_up_queue(user, bucket="overdue", now=now)
        .filter(site_id__in=site_ids)
        .select_related("plan")
        .order_by(F("due_on").asc(), "id")[:QUEUE_PAGE]
    )
    return ManagerNeeds(full_requests=requests, escalated=escalated, overdue_follow_ups=overdue)


def transfer_sides(user, transfer: Transfer) -> tuple[bool, bool]:
    """(sending, receiving): whether the user is on the care team of the
    transfer's origin and of its destination (the services' own test)."""
    return (
        access.can_act_for_program(user, transfer.from_program),
        access.can_act_for_program(user, transfer.to_program),
    )


def may_override_capacity(user, program: Program) -> bool:
    return access.can_override_capacity(user, program)


def transfers_with_steps(user, site_ids) -> QuerySet[Transfer]:
    """The active transfers of the sites with their hand-off and checklist, for
    the forms of their next steps."""
    return (
        board_transfers(user, site_ids)
        .select_related("handoff")
        .prefetch_related(
            Prefetch("handoff__items", queryset=HandoffItem.objects.order_by("position")),
            Prefetch("events", queryset=TransferEvent.objects.select_related("actor")),
        )
    )


def follow_up_assignees(user) -> list:
    """Whom the user may give follow-ups to, with their load (the API's list);
    empty for those who may not reassign."""
    return list(protocol.follow_up_assignees(user))


def may_reassign_follow_ups(user) -> bool:
    return access.follow_up_reassign_sites(user).exists()


def may_see_follow_ups(user) -> bool:
    """The queue is for whoever sees some follow-ups: the alumni team, a site's
    staff (their site's), organisation admins."""
    return access.access_scope(user).is_staff_of_anything


# --- the referral queue ----------------------------------------------------------------

# Emergent first, then urgent, then routine; a referral back into care (no
# urgency) with the routine ones; oldest first within each.
_URGENCY_RANK = Case(
    When(partner_details__urgency=Urgency.EMERGENT, then=Value(0)),
    When(partner_details__urgency=Urgency.URGENT, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _open_referrals(user, site_ids) -> QuerySet[Referral]:
    of_sites = Q(pk__in=[])
    for site_id in site_ids:
        of_sites |= access.referrals_of_site_q(site_id)
    return access.referrals_visible_to(user).filter(of_sites, status=ReferralStatus.OPEN)


def open_referral_count(user, site_ids) -> int:
    """How many open referrals wait for the teams of these sites (the board's figure)."""
    return _open_referrals(user, site_ids).count()


def open_referrals(user, site_ids) -> list[Referral]:
    """The open referrals the teams of these sites work: partners' referrals for
    them and referrals back into care to their programs, with what their cards
    show, most urgent first. Each partner referral carries `sites` (the sites it
    may be admitted at) and, until matched, `duplicates` (clients the user may
    see with the person's name and date of birth: one query for the page)."""
    referrals = list(
        _open_referrals(user, site_ids)
        .select_related(
            "client",
            "to_program__site",
            "to_program__level",
            "created_by",
            "partner_details__partner",
            "partner_details__requested_level",
            "partner_details__requested_site",
        )
        .prefetch_related("partner_details__partner__sites")
        .annotate(urgency_rank=_URGENCY_RANK)
        .order_by("urgency_rank", "created_at", "id")
    )
    people = []
    for referral in referrals:
        details = getattr(referral, "partner_details", None)
        referral.details = details
        if details is None:
            continue
        referral.sites = access.partner_referral_sites(referral)
        if referral.client_id is None:
            people.append((details.first_name, details.last_name, details.date_of_birth))
    found = clients.client_duplicates_many(user, people)
    for referral in referrals:
        if referral.details is not None and referral.client_id is None:
            d = referral.details
            referral.duplicates = found.get(
                clients.person_key(d.first_name, d.last_name, d.date_of_birth), []
            )
    return referrals


def referral_for_action(user, referral_id) -> Referral | None:
    return (
        access.referrals_visible_to(user)
        .select_related("partner_details__partner", "to_program")
        .filter(pk=referral_id)
        .first()
    )
