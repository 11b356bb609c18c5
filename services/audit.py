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
import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection

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
    return audit_reads_of_kinds(
        actor=actor,
        records=((object_type, object_id, client_id) for object_id, client_id in records),
        action=action,
        detail=detail,
        now=now,
    )


def audit_reads_of_kinds(
    *,
    actor: AbstractBaseUser,
    records: Iterable[tuple[str, UUID, UUID]],
    action: AuditAction = AuditAction.VIEW,
    detail: dict | None = None,
    now: datetime | None = None,
) -> int:
    """Record that `actor` read these (object type, object id, client id)
    records, of one kind or several (a page that shows placements, transfers and
    hand-offs); one query.

    A page writes a row per record it shows, all alike but for the type and the
    ids. On PostgreSQL they go in one INSERT whose shared values are sent once
    and whose types and ids come as arrays: no model instance is built, and the
    statement runs on its own (no BEGIN and COMMIT around it). Elsewhere (the
    SQLite demo) `audit_record_bulk` writes them, one insert per type.
    """
    records = list(records)
    if not records:
        return 0
    if connection.vendor != "postgresql":
        for object_type in dict.fromkeys(kind for kind, _, _ in records):
            audit_record_bulk(
                actor=actor,
                action=action,
                object_type=object_type,
                records=((o, c, detail) for kind, o, c in records if kind == object_type),
                now=now,
            )
        return len(records)
    origin = _origin.get()
    with connection.cursor() as cursor:
        cursor.execute(
            _READS_INSERT,
            {
                "at": resolve_now(now),
                "actor": getattr(actor, "pk", None),
                "action": AuditAction(action).value,  # the value: psycopg sends an Enum's name
                "detail": json.dumps(detail or {}),
                "address": origin.address,
                "user_agent": origin.user_agent,
                "ids": [uuid.uuid4() for _ in records],
                "object_types": [object_type for object_type, _, _ in records],
                "object_ids": [object_id for _, object_id, _ in records],
                "client_ids": [client_id for _, _, client_id in records],
            },
        )
    return len(records)


def _reads_insert_sql() -> str:
    meta = AuditEvent._meta
    shared = ["at", "actor", "action", "detail", "address", "user_agent"]
    each = {"id": "uuid", "object_type": "varchar", "object_id": "uuid", "client_id": "uuid"}
    casts = {"detail": "::jsonb", "address": "::inet"}
    names = ", ".join(f'"{meta.get_field(name).column}"' for name in [*each, *shared])
    values = ", ".join(f"%({name})s{casts.get(name, '')}" for name in shared)
    arrays = ", ".join(f"%({name}s)s::{kind}[]" for name, kind in each.items())
    return (
        f'INSERT INTO "{meta.db_table}" ({names}) '
        f"SELECT {', '.join(f'rows.{name}' for name in each)}, {values} "
        f"FROM unnest({arrays}) AS rows ({', '.join(each)})"
    )


_READS_INSERT = _reads_insert_sql()
