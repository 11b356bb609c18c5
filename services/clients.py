"""Registering clients and keeping their identifiers and contact details."""

import secrets
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q

from backend.audit.models import AuditAction
from backend.care.models import Client
from backend.network.models import Site
from services import access
from services.audit import audit_reads, audit_record
from services.clock import local_today, resolve_now, site_today
from services.errors import (
    MSG_BORN_AFTER_ADMISSION,
    MSG_DOB_RANGE,
    MSG_MRN_ADMIN_ONLY,
    MSG_MRN_TAKEN,
    MSG_NOT_CLIENTS_TEAM,
    MSG_SITE_REQUIRED,
    InvalidInput,
    NotPermitted,
)

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
EDITABLE_FIELDS = (
    "mrn",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "phone",
    "email",
    "address",
)


def _check_date_of_birth(value: date, today: date) -> None:
    if not EARLIEST_BIRTH_DATE <= value <= today:
        raise InvalidInput(MSG_DOB_RANGE, field="date_of_birth")


def _require_mrn_authority(scope: access.AccessScope, mrn: str) -> None:
    """MRNs are unique across the organisation, so "already in use" would tell
    a site's staff that a client they cannot see exists: only organisation
    admins choose or correct an MRN; everyone else gets a generated one."""
    if mrn and not scope.is_org_admin:
        raise NotPermitted(MSG_MRN_ADMIN_ONLY, field="mrn")


def _new_mrn() -> str:
    # Random rather than sequential: an MRN leaks nothing about how many
    # clients the organisation has. The unique constraint catches the rare clash.
    return f"CN{secrets.randbelow(10**8):08d}"


@transaction.atomic
def client_create(
    *,
    actor: AbstractBaseUser,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    registered_site: Site | None = None,
    mrn: str = "",
    preferred_name: str = "",
    phone: str = "",
    email: str = "",
    address: str = "",
    now: datetime | None = None,
) -> Client:
    now = resolve_now(now)
    scope = access.access_scope(actor)
    if registered_site is None:
        sites = Site.objects.filter(pk__in=list(scope.care_site_ids))[:2]
        if len(sites) != 1:
            raise InvalidInput(MSG_SITE_REQUIRED, field="registered_site")
        registered_site = sites[0]
    if not access.can_register_at_site(actor, registered_site):
        raise NotPermitted("You may register clients only at your own sites.")
    _require_mrn_authority(scope, mrn)
    _check_date_of_birth(date_of_birth, site_today(registered_site, now))

    fields = {
        "first_name": first_name,
        "last_name": last_name,
        "preferred_name": preferred_name,
        "date_of_birth": date_of_birth,
        "phone": phone,
        "email": email,
        "address": address,
        "registered_site": registered_site,
    }
    for attempt in range(5):
        candidate = mrn or _new_mrn()
        try:
            with transaction.atomic():
                client = Client.objects.create(mrn=candidate, **fields)
            break
        except IntegrityError as exc:
            if mrn or attempt == 4:
                raise InvalidInput(MSG_MRN_TAKEN, field="mrn") from exc
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="client",
        object_id=client.pk,
        client_id=client.pk,
        now=now,
    )
    return client


def client_changes_check(*, client: Client, changes: dict, now: datetime | None = None) -> None:
    """Raise InvalidInput for a change that breaks a rule (the admin's form runs it too)."""
    now = resolve_now(now)
    if "date_of_birth" in changes:
        born = changes["date_of_birth"]
        _check_date_of_birth(born, site_today(client.registered_site, now))
        # The day of the first admission is the day at the admitting program's site.
        first = (
            client.placements.order_by("started_at")
            .values_list("started_at", "program__site__time_zone")
            .first()
        )
        if first is not None and local_today(first[1], first[0]) < born:
            raise InvalidInput(MSG_BORN_AFTER_ADMISSION, field="date_of_birth")


@transaction.atomic
def client_update(
    *, actor: AbstractBaseUser, client: Client, changes: dict, now: datetime | None = None
) -> Client:
    """Change identifiers or contact details; the audit row names the fields, not the values."""
    now = resolve_now(now)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput("This field cannot be changed.", field=sorted(unknown)[0])
    client = Client.objects.select_for_update().get(pk=client.pk)
    if not access.can_edit_client(actor, client):
        raise NotPermitted(MSG_NOT_CLIENTS_TEAM)
    if changes.get("mrn", client.mrn) != client.mrn:
        _require_mrn_authority(access.access_scope(actor), changes["mrn"])
    client_changes_check(client=client, changes=changes, now=now)
    changed = sorted(name for name, value in changes.items() if getattr(client, name) != value)
    if not changed:
        # Nothing to write, but the caller gets the record back: that is a read.
        audit_reads(actor=actor, object_type="client", records=[(client.pk, client.pk)], now=now)
        return client
    for name in changed:
        setattr(client, name, changes[name])
    try:
        with transaction.atomic():
            client.save(update_fields=[*changed, "updated_at"])
    except IntegrityError as exc:
        raise InvalidInput(MSG_MRN_TAKEN, field="mrn") from exc
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="client",
        object_id=client.pk,
        client_id=client.pk,
        detail={"fields": changed},
        now=now,
    )
    return client


def client_duplicates(
    user, *, first_name: str, last_name: str, date_of_birth: date
) -> list[Client]:
    """Clients the user may see with the same name and date of birth: a likely
    duplicate of one about to be registered. Only visible clients are
    compared, so the hint never tells of a client the user may not see."""
    found = client_duplicates_many(user, [(first_name, last_name, date_of_birth)])
    return found.get(person_key(first_name, last_name, date_of_birth), [])[:5]


def person_key(first_name: str, last_name: str, date_of_birth: date) -> tuple:
    """How a likely duplicate is recognised: name (either case) and date of birth."""
    return (first_name.strip().lower(), last_name.strip().lower(), date_of_birth)


def client_duplicates_many(user, people) -> dict[tuple, list[Client]]:
    """client_duplicates for several people in one query: by person_key."""
    if not people:
        return {}
    match = Q(pk__in=[])
    for first_name, last_name, date_of_birth in people:
        match |= Q(
            first_name__iexact=first_name.strip(),
            last_name__iexact=last_name.strip(),
            date_of_birth=date_of_birth,
        )
    found: dict[tuple, list[Client]] = {}
    for client in access.clients_visible_to(user).filter(match).select_related("registered_site"):
        key = person_key(client.first_name, client.last_name, client.date_of_birth)
        found.setdefault(key, []).append(client)
    return found
