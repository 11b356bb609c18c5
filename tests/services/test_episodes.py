"""Admission and discharge rules, through the services with a controlled clock."""

import datetime as dt

import pytest
from django.utils import timezone

from backend.audit.models import AuditEvent
from backend.care.models import Placement, TransferStatus
from services import episodes, transfers
from services.errors import (
    MSG_BEFORE_LAST_DISCHARGE,
    MSG_BEFORE_PLACEMENT,
    MSG_NOT_YOUR_PROGRAM,
    MSG_TIME_IN_FUTURE,
    CapacityExceeded,
    ClientAlreadyInCare,
    EpisodeClosed,
    InvalidInput,
    NotPermitted,
)
from tests.factories import ClientFactory, placed_client

NOW = timezone.now().replace(microsecond=0)


def test_admission_opens_an_episode_with_one_placement(network, users):
    # given a registered client
    client = ClientFactory(registered_site=network.austin)
    # when a coordinator admits them to detox
    episode = episodes.episode_admit(
        actor=users.austin,
        client=client,
        program=network.austin_detox,
        referral_source="family",
        now=NOW,
    )
    # then the episode is open with one open placement starting at admission
    assert episode.is_open and episode.admitted_at == NOW
    placement = Placement.objects.get(episode=episode)
    assert (placement.program, placement.started_at, placement.ended_at) == (
        network.austin_detox,
        NOW,
        None,
    )
    assert AuditEvent.objects.filter(client_id=client.pk, action="admit").count() == 1


def test_a_client_in_care_cannot_be_admitted_again(network, users):
    client = placed_client(network.austin_detox, users.austin)
    with pytest.raises(ClientAlreadyInCare):
        episodes.episode_admit(actor=users.austin, client=client, program=network.austin_iop)


def test_a_coordinator_cannot_admit_to_another_sites_program(network, users):
    client = ClientFactory(registered_site=network.austin)
    with pytest.raises(NotPermitted, match=MSG_NOT_YOUR_PROGRAM):
        episodes.episode_admit(actor=users.houston, client=client, program=network.austin_detox)


def test_admission_in_the_future_is_refused(network, users):
    client = ClientFactory(registered_site=network.austin)
    with pytest.raises(InvalidInput, match=MSG_TIME_IN_FUTURE) as err:
        episodes.episode_admit(
            actor=users.austin,
            client=client,
            program=network.austin_detox,
            admitted_at=NOW + dt.timedelta(hours=1),
            now=NOW,
        )
    assert err.value.field == "admitted_at"


def test_a_full_program_refuses_admission_with_occupied_and_reserved_counted(network, users):
    # given detox (capacity 2) with one client placed and one bed reserved by an approved transfer
    placed_client(network.austin_detox, users.austin)
    incoming = placed_client(network.austin_iop, users.austin)
    transfer = transfers.transfer_request(
        actor=users.austin, client=incoming, to_program=network.austin_detox
    )
    transfers.transfer_approve(actor=users.austin, transfer=transfer)
    # when another client is admitted, then it is refused
    with pytest.raises(CapacityExceeded):
        episodes.episode_admit(
            actor=users.austin,
            client=ClientFactory(registered_site=network.austin),
            program=network.austin_detox,
        )


def test_only_the_sites_manager_may_admit_beyond_capacity(network, users):
    placed_client(network.austin_detox, users.austin)
    placed_client(network.austin_detox, users.austin)
    client = ClientFactory(registered_site=network.austin)
    # a coordinator may not override
    with pytest.raises(NotPermitted):
        episodes.episode_admit(
            actor=users.austin,
            client=client,
            program=network.austin_detox,
            capacity_override_reason="Medically urgent",
        )
    # the site manager may, and the reason is audited
    episode = episodes.episode_admit(
        actor=users.manager,
        client=client,
        program=network.austin_detox,
        capacity_override_reason="Medically urgent",
    )
    audit = AuditEvent.objects.get(object_id=episode.pk, action="admit")
    assert audit.detail["capacity_override_reason"] == "Medically urgent"


def test_discharge_closes_episode_and_placement_and_cancels_pending_transfers(network, users):
    client = placed_client(
        network.austin_detox, users.austin, started_at=NOW - dt.timedelta(days=5)
    )
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.austin_residential
    )
    episode = client.episodes.get()

    episodes.episode_discharge(
        actor=users.austin, episode=episode, discharge_type="against_medical_advice", now=NOW
    )

    episode.refresh_from_db()
    transfer.refresh_from_db()
    assert (episode.discharged_at, episode.discharge_type) == (NOW, "against_medical_advice")
    assert client.placements.get().ended_at == NOW
    assert transfer.status == TransferStatus.CANCELLED
    assert transfer.events.get(to_status="cancelled").reason == "Client discharged."


def test_discharging_twice_is_a_conflict(network, users):
    client = placed_client(network.austin_detox, users.austin)
    episode = client.episodes.get()
    episodes.episode_discharge(actor=users.austin, episode=episode, discharge_type="completed")
    with pytest.raises(EpisodeClosed):
        episodes.episode_discharge(actor=users.austin, episode=episode, discharge_type="completed")


def test_discharge_before_the_placement_started_is_refused(network, users):
    client = placed_client(
        network.austin_detox, users.austin, started_at=NOW - dt.timedelta(days=1)
    )
    with pytest.raises(InvalidInput, match=MSG_BEFORE_PLACEMENT):
        episodes.episode_discharge(
            actor=users.austin,
            episode=client.episodes.get(),
            discharge_type="completed",
            discharged_at=NOW - dt.timedelta(days=2),
            now=NOW,
        )


def test_readmission_cannot_be_backdated_into_the_previous_episode(network, users):
    client = placed_client(
        network.austin_detox, users.austin, started_at=NOW - dt.timedelta(days=9)
    )
    episodes.episode_discharge(
        actor=users.austin,
        episode=client.episodes.get(),
        discharge_type="completed",
        discharged_at=NOW - dt.timedelta(days=2),
        now=NOW,
    )
    with pytest.raises(InvalidInput, match=MSG_BEFORE_LAST_DISCHARGE):
        episodes.episode_admit(
            actor=users.austin,
            client=client,
            program=network.austin_residential,
            admitted_at=NOW - dt.timedelta(days=3),
            now=NOW,
        )
    # after the discharge, a readmission is fine and opens a second episode
    episodes.episode_admit(
        actor=users.austin, client=client, program=network.austin_residential, now=NOW
    )
    assert client.episodes.count() == 2


def test_unknown_discharge_type_is_invalid(network, users):
    client = placed_client(network.austin_detox, users.austin)
    with pytest.raises(InvalidInput) as err:
        episodes.episode_discharge(
            actor=users.austin, episode=client.episodes.get(), discharge_type="escaped"
        )
    assert err.value.field == "discharge_type"


def test_an_admission_cannot_precede_the_clients_birth(network, users):
    client = ClientFactory(registered_site=network.austin, date_of_birth=dt.date(1990, 5, 1))
    with pytest.raises(InvalidInput) as err:
        episodes.episode_admit(
            actor=users.austin,
            client=client,
            program=network.austin_detox,
            admitted_at=dt.datetime(1990, 4, 30, tzinfo=dt.UTC),
            now=NOW,
        )
    assert err.value.field == "admitted_at"


def test_a_date_of_birth_after_the_first_admission_is_refused(network, users):
    from services.clients import client_update
    from services.errors import MSG_BORN_AFTER_ADMISSION

    client = placed_client(
        network.austin_detox, users.austin, started_at=NOW - dt.timedelta(days=2)
    )
    with pytest.raises(InvalidInput, match=MSG_BORN_AFTER_ADMISSION):
        client_update(
            actor=users.austin,
            client=client,
            changes={"date_of_birth": (NOW - dt.timedelta(days=1)).date()},
            now=NOW,
        )
