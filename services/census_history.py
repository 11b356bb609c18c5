"""Corrections of the history, as the stored midnight census sees them.

The services that change stays and holds (admissions, discharges, arrivals,
transfer events) call these in their transaction: a change dated in the past
first waits for a snapshot run that is recording (census_history_lock), then
marks the stored days it changes stale (census_history_changed). The census
reads a stale day as computed from the history, and the next snapshot run
(services/census.py, census_snapshot_fill) records it again. docs/census.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q

from backend.census.models import CensusSnapshot
from backend.network.models import Program
from services.clock import site_today
from services.locks import job_lock_shared

SNAPSHOT_JOB = "census_snapshot_fill"


def census_history_lock(*, at: dt.datetime, now: dt.datetime) -> None:
    """Before a change of the history dated `at`: when it is dated in the past,
    wait for a snapshot run that is recording now, and keep runs from starting
    until this transaction ends. So no run can record a day computed without
    the change after the change marked that day stale (census_history_changed).
    Taken first, before any row lock, so that it can wait on nothing else."""
    if at < now:
        job_lock_shared(SNAPSHOT_JOB)


def census_history_changed(*, programs: Iterable[Program], since: dt.datetime) -> int:
    """The stays or holds of these programs changed at `since` (an admission,
    discharge, arrival or transfer event dated then): their stored midnight
    census from the local day of `since` at each program's site on is stale,
    to be read as computed and recorded again by the next snapshot run. Called
    by the service that makes the change, in its transaction, with the
    programs' sites loaded; one query, which finds nothing to mark unless the
    change is dated before a stored midnight. Returns the rows marked.

    Rows already stale are marked again: if a run is recording them at this
    moment (it holds their row locks), this waits for it and leaves them stale."""
    by_day: dict[dt.date, set] = {}
    for program in programs:
        by_day.setdefault(site_today(program.site, since), set()).add(program.pk)
    if not by_day:
        return 0
    days = Q()
    for day, ids in by_day.items():
        days |= Q(program_id__in=sorted(ids), day__gte=day)
    return CensusSnapshot.objects.filter(days).update(stale=True)
