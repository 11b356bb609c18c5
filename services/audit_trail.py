"""Reading the audit trail: organisation admins only.

Writing it is services/audit.py's (below every other service, so that each can
audit); reading it needs to know who the caller is, so it sits above access.
Anyone but an organisation admin is told there is nothing here (NotFound), as for
the operations endpoints: the trail says who looked at which client, which is
itself sensitive.
"""

from datetime import datetime
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from backend.audit.models import AuditAction, AuditEvent
from services.access import access_scope
from services.errors import InvalidInput, NotFound

MSG_TO_BEFORE_FROM = "`to` must not be before `from`."


def audit_trail_readable_by(user: AbstractBaseUser) -> bool:
    return access_scope(user).is_org_admin


def audit_events(
    *,
    reader: AbstractBaseUser,
    client: UUID | None = None,
    actor: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    action: AuditAction | None = None,
) -> QuerySet[AuditEvent]:
    """The audit rows matching every filter given, newest first (`since` <= at <
    `until`), with each row's actor joined in: one query however many rows."""
    if not audit_trail_readable_by(reader):
        raise NotFound()
    if since is not None and until is not None and until < since:
        raise InvalidInput(MSG_TO_BEFORE_FROM, field="to")
    rows = AuditEvent.objects.select_related("actor")
    if client is not None:
        rows = rows.filter(client_id=client)
    if actor is not None:
        rows = rows.filter(actor_id=actor)
    if since is not None:
        rows = rows.filter(at__gte=since)
    if until is not None:
        rows = rows.filter(at__lt=until)
    if action is not None:
        rows = rows.filter(action=action)
    # The id breaks ties between the rows of one bulk insert, so pages do not overlap.
    return rows.order_by("-at", "-id")
