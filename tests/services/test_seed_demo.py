"""`manage.py seed_demo`: the demo network, its users, and synthetic journeys
replayed through the services."""

import datetime as dt
import itertools
import logging
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Q

from backend.accounts.management.demo import (
    DEFAULT_DEMO_PASSWORD,
    DEMO_USERNAMES,
    demo_clients_generate,
    demo_network_ensure,
    demo_totals,
    demo_users_ensure,
)
from backend.audit.models import AuditEvent
from backend.care.models import (
    Client,
    DischargeType,
    Episode,
    Placement,
    Transfer,
    TransferDirection,
    TransferEvent,
    TransferStatus,
)
from backend.network.models import Program, Site
from services.access import access_scope
from services.capacity import programs_with_occupancy

SITE_CODES = {"austin", "houston", "san-antonio", "willow-bend", "cedar-park"}
PASSWORD = "pw-for-tests-only"


def seed_demo(**options) -> str:
    out = StringIO()
    options.setdefault("clients", 30)
    options.setdefault("password", PASSWORD)
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def demo_user(username: str):
    # A fresh instance: access_scope caches on the user object.
    return get_user_model().objects.get(username=username)


def assert_invariants() -> None:
    """One open placement per open episode, none per discharged one, stays within
    their episode, no overlapping stays of a client, no program over capacity."""
    episodes = Episode.objects.annotate(
        open_placements=Count("placements", filter=Q(placements__ended_at__isnull=True))
    )
    for episode in episodes:
        assert episode.open_placements == (1 if episode.is_open else 0), episode
    for placement in Placement.objects.select_related("episode"):
        assert placement.client_id == placement.episode.client_id
        assert placement.started_at >= placement.episode.admitted_at
        if placement.episode.discharged_at is not None:
            assert placement.ended_at <= placement.episode.discharged_at
    for client in Client.objects.all():
        stays = list(Placement.objects.filter(client=client).order_by("started_at"))
        for earlier, later in itertools.pairwise(stays):
            assert earlier.ended_at is not None and earlier.ended_at <= later.started_at, client
    assert not programs_with_occupancy().filter(available__lt=0).exists()
    # On PostgreSQL this fires the deferred episode/placement trigger now,
    # instead of at a commit that the test's rollback never reaches.
    connection.check_constraints()


def test_seed_demo_creates_the_five_sites_and_not_every_level_everywhere(db):
    # when
    seed_demo(clients=0)

    # then
    sites = Site.objects.filter(code__in=SITE_CODES)
    assert {site.code for site in sites} == SITE_CODES
    assert {site.time_zone for site in sites} == {"America/Chicago"}
    assert all(site.address_line and site.city and site.region == "TX" for site in sites)

    def sites_offering(level: str) -> set[str]:
        return set(Program.objects.filter(level_id=level).values_list("site__code", flat=True))

    assert sites_offering("detox") == {"austin", "houston"}
    assert sites_offering("intervention") == {"austin"}
    assert 1 <= len(sites_offering("alumni")) <= 2
    assert sites_offering("iop") == SITE_CODES
    assert Program.objects.get(site__code="austin", level_id="detox").name == "Austin Detox"
    capacity_ranges = {
        "detox": (8, 16),
        "residential": (16, 40),
        "php": (15, 40),
        "iop": (15, 40),
        "sober_living": (8, 20),
        "alumni": (300, 10_000),
    }
    for program in Program.objects.exclude(level_id="intervention"):
        low, high = capacity_ranges[program.level_id]
        assert low <= program.capacity <= high, program


def test_seed_demo_users_hold_their_roles(db):
    # when
    seed_demo(clients=0)

    # then
    austin = Site.objects.get(code="austin")
    houston = Site.objects.get(code="houston")
    admin = demo_user("admin")
    assert admin.is_superuser and admin.is_staff
    assert access_scope(admin).is_org_admin
    coordinator = access_scope(demo_user("coordinator.austin"))
    assert coordinator.care_site_ids == {austin.pk}
    assert coordinator.managed_site_ids == frozenset()
    assert not coordinator.is_org_admin
    assert access_scope(demo_user("coordinator.houston")).care_site_ids == {houston.pk}
    manager = access_scope(demo_user("manager.austin"))
    assert manager.managed_site_ids == {austin.pk}
    alumni = access_scope(demo_user("alumni"))
    assert alumni.is_alumni_coordinator and not alumni.is_org_admin
    assert alumni.care_site_ids == frozenset()
    assert all(demo_user(name).first_name and demo_user(name).last_name for name in DEMO_USERNAMES)


def test_seed_demo_clients_travel_the_continuum(db):
    # when
    output = seed_demo(clients=30)

    # then every client is registered, admitted and placed
    clients = Client.objects.filter(mrn__startswith="DEMO")
    assert clients.count() == 30
    assert not clients.filter(episodes__isnull=True).exists()
    assert not clients.filter(placements__isnull=True).exists()

    # and the journeys show every kind of move and every way out of care
    transfers = list(Transfer.objects.select_related("from_program__level", "to_program__level"))
    completed = [t for t in transfers if t.status == TransferStatus.COMPLETED]
    assert completed
    directions = {t.direction for t in completed}
    assert {TransferDirection.STEP_DOWN, TransferDirection.STEP_UP} <= directions
    assert TransferDirection.SITE_CHANGE in directions
    statuses = {t.status for t in transfers}
    assert {TransferStatus.DECLINED, TransferStatus.CANCELLED} <= statuses
    discharged = Episode.objects.filter(discharged_at__isnull=False)
    assert set(discharged.values_list("discharge_type", flat=True)) == set(DischargeType.values)
    assert Episode.objects.filter(discharged_at__isnull=True).exists()

    # and every step went through the services, which audit and record events
    assert AuditEvent.objects.filter(action="admit").count() == Episode.objects.count()
    assert TransferEvent.objects.filter(to_status="completed").count() == len(completed)

    # and the command said what it made, with progress on the way
    assert "30/30 clients registered" in output
    assert "Totals:" in output and "transfers by status:" in output


def test_seeded_journeys_keep_the_invariants(db):
    # when
    seed_demo(clients=30)

    # then
    assert_invariants()


def test_seeded_history_lies_in_the_past_within_the_window(db):
    # given
    before = dt.datetime.now(dt.UTC)

    # when
    seed_demo(clients=30, days=60)

    # then
    first = Episode.objects.order_by("admitted_at").first().admitted_at
    assert before - dt.timedelta(days=62) <= first
    last_step = max(
        Placement.objects.order_by("-started_at").first().started_at,
        Transfer.objects.order_by("-updated_at").first().updated_at,
    )
    assert last_step <= dt.datetime.now(dt.UTC)


def test_running_seed_demo_twice_changes_no_counts(db):
    # given
    seed_demo(clients=30)
    totals = demo_totals()
    rows = [
        model.objects.count()
        for model in (Site, Program, Client, Episode, Placement, Transfer, TransferEvent)
    ]
    audit_rows = AuditEvent.objects.count()

    # when
    output = seed_demo(clients=30)

    # then
    assert demo_totals() == totals
    assert [
        model.objects.count()
        for model in (Site, Program, Client, Episode, Placement, Transfer, TransferEvent)
    ] == rows
    assert AuditEvent.objects.count() == audit_rows
    assert get_user_model().objects.filter(username__in=DEMO_USERNAMES).count() == 5
    assert "already exist; skipping generation" in output
    assert "(0 created)" in output


def test_password_option_sets_every_demo_users_password(db):
    # when
    seed_demo(clients=0, password="a-chosen-password")

    # then
    for username in DEMO_USERNAMES:
        assert demo_user(username).check_password("a-chosen-password")


def test_second_run_resets_the_passwords(db):
    # given
    seed_demo(clients=0, password="first-password")

    # when
    seed_demo(clients=0, password="second-password")

    # then
    assert demo_user("coordinator.austin").check_password("second-password")
    assert not demo_user("coordinator.austin").check_password("first-password")


def test_password_comes_from_demo_password_when_not_given(db, monkeypatch):
    # given
    monkeypatch.setenv("DEMO_PASSWORD", "from-the-environment")

    # when
    output = seed_demo(clients=0, password=None)

    # then
    assert demo_user("admin").check_password("from-the-environment")
    assert "passwords set from DEMO_PASSWORD" in output


def test_password_falls_back_to_the_documented_demo_default_with_a_warning(db, monkeypatch):
    # given
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)

    # when
    output = seed_demo(clients=0, password=None)

    # then
    assert demo_user("admin").check_password(DEFAULT_DEMO_PASSWORD)
    assert "demo default password is in use" in output


@pytest.mark.parametrize("option", [{"clients": -1}, {"days": 3}, {"password": ""}])
def test_seed_demo_refuses_nonsense_options(db, option):
    # when / then
    with pytest.raises(CommandError):
        seed_demo(**option)


def test_full_programs_send_clients_elsewhere_without_overfilling(db):
    # given a demo network with two places in every program
    network = demo_network_ensure()
    Program.objects.update(capacity=2)
    for program in network.programs.values():
        program.capacity = 2
    users = demo_users_ensure(password=PASSWORD, network=network)

    # when forty clients arrive in sixty days
    result = demo_clients_generate(
        network=network,
        users=users,
        clients=40,
        days=60,
        seed=7,
        now=dt.datetime(2025, 3, 1, 18, tzinfo=dt.UTC),
    )

    # then the capacity rule turned some away, and no program holds more than it may
    assert result.registered == 40
    assert result.capacity_refusals > 0
    assert_invariants()


def test_the_demo_alumni_team_has_worked_its_past_follow_ups(db):
    from backend.aftercare.models import (
        AlumniTeamMembership,
        ContactAttempt,
        FollowUp,
        FollowUpStatus,
    )
    from backend.census.models import CensusSnapshot

    # when
    output = seed_demo(clients=60, days=120)

    # then the alumni coordinator is on every site's team, the lead at Austin
    alumni = demo_user("alumni")
    memberships = AlumniTeamMembership.objects.filter(user=alumni)
    assert set(memberships.values_list("site__code", flat=True)) == SITE_CODES
    assert list(memberships.filter(is_lead=True).values_list("site__code", flat=True)) == ["austin"]
    # and past follow-ups were worked through the services, each on a consented channel
    completed = FollowUp.objects.filter(status=FollowUpStatus.COMPLETED)
    assert completed.exists()
    assert completed.filter(reached=True).exists()
    for attempt in ContactAttempt.objects.select_related("follow_up__plan"):
        assert getattr(attempt.follow_up.plan, f"consent_{attempt.channel}")
    # and the scan has run: some are due or missed, and the census is recorded
    assert FollowUp.objects.filter(status=FollowUpStatus.MISSED).exists()
    assert CensusSnapshot.objects.exists()
    assert "past follow-ups worked" in output

    # and a second run works nothing more
    attempts = ContactAttempt.objects.count()
    again = seed_demo(clients=60, days=120)
    assert ContactAttempt.objects.count() == attempts
    assert "0 past follow-ups worked" in again


def test_the_demo_has_a_payer_and_a_referring_hospital_with_consents_and_prints_no_secret(db):
    from oauth2_provider.models import Application

    from backend.partners.models import Consent, Partner

    # when the demo is seeded, then seeded again
    first = seed_demo(clients=30)
    second = seed_demo(clients=30)

    # then a health plan and a treating hospital exist, with consents recorded once
    kinds = dict(Partner.objects.values_list("name", "kind"))
    assert kinds == {
        "Lone Star Health Plan (demo)": "health_plan",
        "Hill Country Hospital (demo)": "treating_provider",
    }
    consents = Consent.objects.all()
    assert consents.filter(recipient_partner__kind="health_plan").count() == 3
    assert consents.filter(recipient_class="treating_provider", purpose="tpo").count() == 2
    assert consents.count() == 5
    # and no credential's secret or id is in what the command printed
    for application in Application.objects.all():
        assert application.client_id not in first + second
    assert "client_secret" not in first + second


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_seed_demo_output_is_its_progress_not_a_line_per_task(eager, caplog):
    # given tasks that run in this process after each commit, as in the demo without a broker
    caplog.set_level(logging.INFO)

    # when the demo is seeded
    seed_demo(clients=12)

    # then Celery wrote no line per task, and its logger is as it was afterwards
    assert not [r for r in caplog.records if r.name == "celery.app.trace"]
    assert logging.getLogger("celery.app.trace").getEffectiveLevel() == logging.INFO
