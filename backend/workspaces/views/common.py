"""What the workspace views share: the site picker, read audits, form factories."""

from uuid import UUID

from django.http import Http404

from backend.audit.models import AuditAction
from services.audit import audit_reads, audit_reads_of_kinds


def picked_sites(sites: list, value: str | None) -> list:
    """All of `sites`, or the one `?site=` names; 404 unless it is one of them."""
    if not value:
        return sites
    try:
        wanted = UUID(value)
    except ValueError:
        raise Http404("No such site.") from None
    chosen = [site for site in sites if site.pk == wanted]
    if not chosen:
        raise Http404("No such site.")
    return chosen


def audit_shown(request, object_type: str, records, action=AuditAction.LIST) -> None:
    """The records a page shows are a read of those clients' records, as an API
    list page is: one bulk insert per kind of record, none when there are none."""
    audit_reads(
        actor=request.user,
        object_type=object_type,
        action=action,
        records=list(records),
        detail={"path": request.path, "via": "workspace"},
    )


def audit_shown_kinds(request, shown: dict, action=AuditAction.LIST) -> None:
    """As audit_shown, for a page that shows several kinds of record: `shown`
    maps each object type to its (id, client id) pairs. One insert for them all."""
    audit_reads_of_kinds(
        actor=request.user,
        action=action,
        records=[
            (object_type, object_id, client_id)
            for object_type, records in shown.items()
            for object_id, client_id in records
        ],
        detail={"path": request.path, "via": "workspace"},
    )
