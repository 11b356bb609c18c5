"""Row locks, always taken in one order: client, then transfer, then program;
and a job lock for work that one run at a time is enough for.

Every write about a client locks the client's row first, so that one
client's admissions, transfers and discharges queue up instead of
interleaving, and no two transactions can wait on each other in a circle.
A change of the history dated in the past takes the census snapshot's job
lock in shared mode before all of them (services/census_history.py).
(SQLite, the demo database, serialises all writers and ignores these.)
"""

from collections.abc import Iterable
from uuid import UUID

from django.db import connection

from backend.care.models import Client, Transfer
from backend.network.models import Program


def client_lock(client_id: UUID) -> Client:
    return Client.objects.select_for_update().get(pk=client_id)


def clients_lock(client_ids: Iterable[UUID]) -> None:
    """Several clients' rows in one query, in id order (PostgreSQL locks the rows
    of `ORDER BY ... FOR UPDATE` in that order), so that two writers about the
    same clients queue up instead of waiting on each other in a circle."""
    list(
        Client.objects.select_for_update()
        .filter(pk__in=list(client_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def transfer_lock(transfer_id: UUID) -> Transfer:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related(
            "from_program__level",
            "from_program__site",
            "to_program__level",
            "to_program__site",
            "from_placement",
        )
        .get(pk=transfer_id)
    )


def program_lock(program_id: UUID) -> Program:
    """Admissions and approvals into one program queue up on its row, so two
    coordinators racing for the last bed are served one after the other."""
    return (
        Program.objects.select_for_update(of=("self",))
        .select_related("site", "level")
        .get(pk=program_id)
    )


def job_lock(name: str, *, wait: bool = False) -> bool:
    """Take a transaction-scoped lock named `name` (a PostgreSQL advisory lock),
    for jobs that one run at a time is enough for: True once this transaction
    holds it; without `wait`, False at once if another transaction does. On
    SQLite, which serialises writers anyway, always True."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [name])
        return cursor.fetchone()[0]


def job_lock_shared(name: str) -> None:
    """Wait for, then take, the job lock `name` in shared mode for this
    transaction: any number of holders at once, but never while a run of the
    job holds it (and the job's run waits for them, or gives up). On SQLite,
    nothing to do."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(hashtext(%s))", [name])
