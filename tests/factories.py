"""factory_boy factories: each test builds the rows its story needs.

Rows are made directly here (test setup); the behaviour under test always
goes through services/.
"""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from backend.care.models import Client, Episode, Placement
from backend.network.models import LevelOfCare, Program, Site


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pw-for-tests-only")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"site{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("-", " ").title())
    time_zone = "America/Chicago"


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program
        django_get_or_create = ("site", "level")

    site = factory.SubFactory(SiteFactory)
    level = factory.LazyFunction(lambda: LevelOfCare.objects.get(code="residential"))
    name = factory.LazyAttribute(lambda o: f"{o.site.name} {o.level.name}")
    capacity = 10


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    mrn = factory.Sequence(lambda n: f"T{n:08d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.LazyFunction(lambda: dt.date(1988, 6, 1))
    registered_site = factory.SubFactory(SiteFactory)


def placed_client(program: Program, admitted_by, *, started_at=None, **client_kwargs) -> Client:
    """A client in care: an open episode with one open placement in `program`."""
    started_at = started_at or timezone.now() - dt.timedelta(days=3)
    client = ClientFactory(registered_site=program.site, **client_kwargs)
    # One transaction: PostgreSQL checks "an open episode has an open placement" at commit.
    with transaction.atomic():
        episode = Episode.objects.create(
            client=client, admitted_at=started_at, admitted_by=admitted_by
        )
        Placement.objects.create(
            episode=episode, client=client, program=program, started_at=started_at
        )
    return client


def finish_checklist(transfer, actor, now=None) -> None:
    """The receiving team acknowledges the hand-off and ticks every item, as
    it would before the client arrives (through the services)."""
    from backend.handoffs.models import HandoffStatus
    from services import handoffs

    handoff = transfer.handoff
    if handoff.status == HandoffStatus.OPEN:
        handoffs.handoff_acknowledge(actor=actor, handoff=handoff, now=now)
    for item in handoff.items.filter(completed_at__isnull=True):
        handoffs.handoff_item_complete(actor=actor, handoff=handoff, item_id=item.pk, now=now)


# --- aftercare (issue 5) ---------------------------------------------------------


def discharged_episode(program: Program, by, *, admitted_at, discharged_at, **client_kwargs):
    """A client's past episode in `program`, written directly (no follow-ups)."""
    client = ClientFactory(registered_site=program.site, **client_kwargs)
    with transaction.atomic():
        episode = Episode.objects.create(
            client=client,
            admitted_at=admitted_at,
            admitted_by=by,
            discharged_at=discharged_at,
            discharged_by=by,
            discharge_type="completed",
        )
        Placement.objects.create(
            episode=episode,
            client=client,
            program=program,
            started_at=admitted_at,
            ended_at=discharged_at,
        )
    return episode


def follow_up_row(program: Program, by, *, due_on, window_days=3, episode=None, **fields):
    """One follow-up of a discharged client at `program`'s site, written directly
    (a queue or a load needs rows in every state, not a year of services)."""
    from backend.aftercare.models import AftercarePlan, FollowUp, FollowUpProtocol

    if episode is None:
        anchor = dt.datetime.combine(due_on, dt.time(12), tzinfo=dt.UTC) - dt.timedelta(days=7)
        episode = discharged_episode(
            program, by, admitted_at=anchor - dt.timedelta(days=30), discharged_at=anchor
        )
    plan, _ = AftercarePlan.objects.get_or_create(
        episode=episode,
        defaults={
            "client": episode.client,
            "created_at": episode.discharged_at,
            "created_by": by,
            "updated_at": episode.discharged_at,
            "updated_by": by,
        },
    )
    fields.setdefault("milestone", f"m{FollowUp.objects.count()}")
    fields.setdefault("milestone_name", "7 days")
    return FollowUp.objects.create(
        client=episode.client,
        episode=episode,
        plan=plan,
        protocol=FollowUpProtocol.objects.get(name="Default follow-ups"),
        from_program=program,
        site=program.site,
        anchor_at=episode.discharged_at,
        due_on=due_on,
        window_ends_on=due_on + dt.timedelta(days=window_days),
        created_at=episode.discharged_at,
        updated_at=episode.discharged_at,
        **fields,
    )
