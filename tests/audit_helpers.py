"""Test support for the append-only audit trail."""

from django.db import connection

from backend.audit.models import AuditEvent


def audit_trail_forget() -> None:
    """Empty the audit table inside the test's transaction, so that a test can
    look at only the rows its next request writes.

    The append-only trigger refuses DELETE, so on PostgreSQL the rows are removed
    with triggers switched off for this one statement (`session_replication_role`,
    which needs the superuser the test database is created by). The application has
    no such path; the test's rollback brings the rows back in any case.
    """
    if connection.vendor != "postgresql":
        AuditEvent.objects.all().delete()
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute("DELETE FROM audit_auditevent")
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
