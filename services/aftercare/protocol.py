"""The follow-up protocol: which milestones a client leaving a program gets,
on which site-local days, and who on the alumni team is given them.

Hour offsets are elapsed time; day offsets are calendar days at the site
responsible for the follow-up.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Prefetch, Q, QuerySet

from backend.aftercare.models import (
    OPEN_FOLLOW_UP_STATUSES,
    AlumniTeamMembership,
    FollowUpMilestone,
    FollowUpProtocol,
    OffsetUnit,
)
from backend.network.models import Program, Site
from services import access
from services.errors import (
    NotFound,
)


def protocol_for(program: Program) -> FollowUpProtocol | None:
    """The active protocol of the program the client leaves: the program's own,
    else its level's, else the default; None if the admin deactivated them all."""
    candidates = FollowUpProtocol.objects.filter(is_active=True).filter(
        Q(program=program)
        | Q(program__isnull=True, level_id=program.level_id)
        | Q(program__isnull=True, level__isnull=True)
    )
    by_scope = {(p.program_id is not None, p.level_id is not None): p for p in candidates}
    return (
        by_scope.get((True, False)) or by_scope.get((False, True)) or by_scope.get((False, False))
    )


def follow_up_dates(
    milestone: FollowUpMilestone, anchor_at: datetime, site: Site
) -> tuple[date, date]:
    """(due_on, window_ends_on), calendar days at `site`.

    Hours are elapsed time: 48 hours after 23:30 on the evening before the
    clocks spring forward is 00:30 on the third day by the wall clock, not
    23:30 on the second. Days are calendar days from the anchor's local day.
    """
    zone = site.zone
    if milestone.offset_unit == OffsetUnit.HOURS:
        due_on = (anchor_at + timedelta(hours=milestone.offset)).astimezone(zone).date()
    else:
        due_on = anchor_at.astimezone(zone).date() + timedelta(days=milestone.offset)
    return due_on, due_on + timedelta(days=milestone.window_days)


def _assignable_users() -> QuerySet:
    """The users a follow-up may be given to: the active alumni coordinators
    (access.alumni_coordinators), as one subquery."""
    return get_user_model().objects.filter(pk__in=access.alumni_coordinators().values("pk"))


def _open_follow_up_count() -> Count:
    """A user's load: their open (scheduled or due) follow-ups, counted in SQL."""
    return Count(
        "assigned_follow_ups",
        filter=Q(assigned_follow_ups__status__in=OPEN_FOLLOW_UP_STATUSES),
        distinct=True,
    )


def follow_up_assignee_pick(site: Site) -> AbstractBaseUser | None:
    """The member of the site's alumni team with the fewest open follow-ups
    (ties: the username), else the least-loaded alumni coordinator of all,
    else nobody. Members who lost the role are skipped.

    Best effort: two discharges at once may pick the same person; nothing is
    locked for a balance that the next assignment corrects anyway.
    """
    users = _assignable_users()
    members = users.filter(alumni_memberships__site=site)
    pool = members if members.exists() else users
    return pool.annotate(load=_open_follow_up_count()).order_by("load", "username", "pk").first()


def follow_up_assignees(user: AbstractBaseUser, *, site_id: UUID | None = None) -> QuerySet:
    """Whom `user` may give follow-ups to, by username: every active alumni
    coordinator (the rule of the reassignment services) when the user may
    reassign some follow-up (access.follow_up_reassign_sites), else nobody.

    Each carries `open_follow_ups` (their scheduled and due follow-ups at
    every site: the load that follow_up_assignee_pick balances) and their
    alumni team memberships, with the site, prefetched. With `site_id`, only
    the members of that site's alumni team; a site whose follow-ups the user
    may not reassign is NotFound (field `site`), as if it did not exist.
    """
    sites = access.follow_up_reassign_sites(user)
    if site_id is not None:
        if not sites.filter(pk=site_id).exists():
            raise NotFound(field="site")
    elif not sites.exists():
        return get_user_model().objects.none()
    users = _assignable_users()
    if site_id is not None:
        users = users.filter(alumni_memberships__site_id=site_id)
    memberships = AlumniTeamMembership.objects.select_related("site").order_by("site__name", "pk")
    return (
        users.only("pk", "username", "first_name", "last_name")
        .annotate(open_follow_ups=_open_follow_up_count())
        .prefetch_related(Prefetch("alumni_memberships", queryset=memberships))
        .order_by("username", "pk")
    )
