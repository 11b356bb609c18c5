"""Audit rows: who read or changed which client's record, and when.

Writes are audited inside the service's transaction, so a change and its
audit row commit together or not at all. Reads are audited by the API layer
through `audit_reads`, one bulk insert per response whatever its size.
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
        for object_id, client_id in records
    ]
    if rows:
        AuditEvent.objects.bulk_create(rows)
    return len(rows)
