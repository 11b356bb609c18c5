"""Audit rows: who read or changed which client's record, and when.

Writes are audited inside the service's transaction, so a change and its
audit row commit together or not at all (`audit_record_bulk` writes the rows
of a change to many records in one insert). Reads are audited through
`audit_reads`, one bulk insert per response whatever its size: by the API layer
and the admin for what they show, and by a service when a write that changes
nothing hands the record back (a read, not an update).

Where from: every row written while a request is served carries that request's
client address and user agent. The HTTP layer (backend/audit/middleware.py) sets
them for the request with `audit_origin`; this module reads them, so no call site
passes them and no service knows about requests. Outside a request (a worker's
task, a command) they are empty.
"""

import ipaddress
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser

from backend.audit.models import USER_AGENT_MAX_LENGTH, AuditAction, AuditEvent
from services.clock import resolve_now


@dataclass(frozen=True)
class AuditOrigin:
    address: str | None = None
    user_agent: str | None = None


NO_ORIGIN = AuditOrigin()
_origin: ContextVar[AuditOrigin] = ContextVar("audit_origin", default=NO_ORIGIN)


@contextmanager
def audit_origin(*, address: str | None, user_agent: str | None) -> Iterator[AuditOrigin]:
    """Within this block, audit rows record `address` and `user_agent` as where the
    read or write came from. An address that is not an IP address is stored as
    null; the user agent is cut to the column's length ("" when none was sent)."""
    origin = AuditOrigin(
        address=_valid_address(address),
        user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH],
    )
    token = _origin.set(origin)
    try:
        yield origin
    finally:
        _origin.reset(token)


def _valid_address(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((address or "").strip()))
    except ValueError:
        return None


def audit_record(
    *,
    actor: AbstractBaseUser,
    action: AuditAction,
    object_type: str,
    object_id: UUID,
    client_id: UUID,
    detail: dict | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    origin = _origin.get()
    return AuditEvent.objects.create(
        at=resolve_now(now),
        address=origin.address,
        user_agent=origin.user_agent,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        client_id=client_id,
        detail=detail or {},
    )


def audit_record_bulk(
    *,
    actor: AbstractBaseUser,
    action: AuditAction,
    object_type: str,
    records: Iterable[tuple[UUID, UUID, dict | None]],
    now: datetime | None = None,
) -> list[AuditEvent]:
    """The rows `audit_record` would write for each (object id, client id,
    detail), in one insert: for a service that changes many records at once."""
    at = resolve_now(now)
    origin = _origin.get()
    rows = [
        AuditEvent(
            at=at,
            address=origin.address,
            user_agent=origin.user_agent,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            client_id=client_id,
            detail=detail or {},
        )
        for object_id, client_id, detail in records
    ]
    return AuditEvent.objects.bulk_create(rows) if rows else []


def audit_reads(
    *,
    actor: AbstractBaseUser,
    object_type: str,
    records: Iterable[tuple[UUID, UUID]],
    action: AuditAction = AuditAction.VIEW,
    detail: dict | None = None,
    now: datetime | None = None,
) -> int:
    """Record that `actor` read these (object id, client id) pairs; one query."""
    written = audit_record_bulk(
        actor=actor,
        action=action,
        object_type=object_type,
        records=((object_id, client_id, detail) for object_id, client_id in records),
        now=now,
    )
    return len(written)
