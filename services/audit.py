"""Audit rows: who read or changed which client's record, and when.

Writes are audited inside the service's transaction, so a change and its
audit row commit together or not at all (`audit_record_bulk` writes the rows
of a change to many records in one insert). Reads are audited through
`audit_reads`, one bulk insert per response whatever its size: by the API layer
and the admin for what they show, and by a service when a write that changes
nothing hands the record back (a read, not an update).
"""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser

from backend.audit.models import AuditAction, AuditEvent
from services.clock import resolve_now


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
    return AuditEvent.objects.create(
        at=resolve_now(now),
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
    rows = [
        AuditEvent(
            at=at,
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
