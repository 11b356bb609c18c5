"""Who may see and do what. Every queryset of clinical records starts here.

Roles (granted with `role_grant`, stored as django-guardian permissions):

- care coordinator: object permission `network.coordinate_site` on a site;
- site manager: `network.manage_site` on a site (everything a coordinator may
  do there, plus capacity overrides);
- alumni coordinator: the global permission `network.coordinate_alumni`: the
  alumni level at every site;
- organisation admin: the global permission `network.administer_organisation`
  (or a Django superuser): every site, every client.

A caller sees a client who was registered at, has or had a placement at, or
has a transfer from or to one of their sites (alumni coordinators: an alumni
program anywhere). Records of a client are visible exactly when the client is.
Everything else answers "not found", never "forbidden".
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from backend.aftercare.models import AftercarePlan, FollowUp, Referral, ReferralOrigin
from backend.care.models import Client, Episode, Placement, Transfer
from backend.handoffs.models import Handoff
from backend.network.models import LevelCode, Program, Site
from backend.partners.models import Consent, Disclosure, PartnerReferral
from services.errors import MSG_NOT_YOUR_PROGRAM, MSG_OVERRIDE_NOT_ALLOWED, NotPermitted

User = AbstractBaseUser | AnonymousUser

PERM_COORDINATE = "network.coordinate_site"
PERM_MANAGE = "network.manage_site"
PERM_ALUMNI = "network.coordinate_alumni"
PERM_ADMIN = "network.administer_organisation"


class Role(enum.StrEnum):
    CARE_COORDINATOR = "care_coordinator"
    SITE_MANAGER = "site_manager"
    ALUMNI_COORDINATOR = "alumni_coordinator"
    ORGANISATION_ADMIN = "organisation_admin"


SITE_ROLES = {Role.CARE_COORDINATOR: PERM_COORDINATE, Role.SITE_MANAGER: PERM_MANAGE}
GLOBAL_ROLES = {Role.ALUMNI_COORDINATOR: PERM_ALUMNI, Role.ORGANISATION_ADMIN: PERM_ADMIN}


@dataclass(frozen=True)
class AccessScope:
    """What one user may reach, read once per request in one query (`_role_grants`)."""

    is_org_admin: bool
    is_alumni_coordinator: bool
    care_site_ids: frozenset[UUID]
    managed_site_ids: frozenset[UUID]

    @property
    def is_staff_of_anything(self) -> bool:
        return self.is_org_admin or self.is_alumni_coordinator or bool(self.care_site_ids)


_NO_ACCESS = AccessScope(False, False, frozenset(), frozenset())


def access_scope(user: User) -> AccessScope:
    """The user's roles, read in one query and kept on the user object for the request."""
    if not user.is_authenticated or not user.is_active:
        return _NO_ACCESS
    cached = getattr(user, "_continuum_access_scope", None)
    if cached is not None:
        return cached
    granted: dict[str, set[UUID]] = {}
    for codename, object_pk in _role_grants(user):
        sites = granted.setdefault(codename, set())
        if object_pk is not None:
            sites.add(UUID(object_pk))
    managed = frozenset(granted.get(_codename(PERM_MANAGE), ()))
    scope = AccessScope(
        is_org_admin=user.is_superuser or _codename(PERM_ADMIN) in granted,
        is_alumni_coordinator=_codename(PERM_ALUMNI) in granted,
        care_site_ids=managed | frozenset(granted.get(_codename(PERM_COORDINATE), ())),
        managed_site_ids=managed,
    )
    user._continuum_access_scope = scope
    return scope


def _codename(perm: str) -> str:
    return perm.partition(".")[2]


def _role_grants(user: AbstractBaseUser) -> list[tuple[str, str | None]]:
    """(codename, site id or None) for each role permission the user holds.

    The four places Django's ModelBackend and django-guardian keep them (user and
    group permissions, user and group object permissions) are read as one UNION
    ALL. It runs on every request, so it is written out: the ORM's four-way union
    took longer to compile than to run, and planned a join per relation it
    crossed. An object permission left behind by a deleted site gives an id that
    no row has, which a filter on site ids reads as nothing.
    """
    user_model = get_user_model()
    tables = {
        "perm": Permission._meta.db_table,
        "ct": ContentType._meta.db_table,
        "user_perms": user_model.user_permissions.through._meta.db_table,
        "group_perms": Group.permissions.through._meta.db_table,
        "user_groups": user_model.groups.through._meta.db_table,
        "user_obj": UserObjectPermission._meta.db_table,
        "group_obj": GroupObjectPermission._meta.db_table,
    }
    codenames = [_codename(perm) for perm in (*SITE_ROLES.values(), *GLOBAL_ROLES.values())]
    marks = ", ".join(["%s"] * len(codenames))
    role_perm = (
        f"SELECT p.id, p.codename FROM {tables['perm']} p "
        f"JOIN {tables['ct']} ct ON ct.id = p.content_type_id "
        f"WHERE ct.app_label = %s AND ct.model = %s AND p.codename IN ({marks})"
    )
    sql = f"""
        WITH role_perm AS ({role_perm})
        SELECT rp.codename, NULL FROM {tables["user_perms"]} x
            JOIN role_perm rp ON rp.id = x.permission_id WHERE x.user_id = %s
        UNION ALL
        SELECT rp.codename, NULL FROM {tables["group_perms"]} x
            JOIN {tables["user_groups"]} ug ON ug.group_id = x.group_id
            JOIN role_perm rp ON rp.id = x.permission_id WHERE ug.user_id = %s
        UNION ALL
        SELECT rp.codename, x.object_pk FROM {tables["user_obj"]} x
            JOIN role_perm rp ON rp.id = x.permission_id WHERE x.user_id = %s
        UNION ALL
        SELECT rp.codename, x.object_pk FROM {tables["group_obj"]} x
            JOIN {tables["user_groups"]} ug ON ug.group_id = x.group_id
            JOIN role_perm rp ON rp.id = x.permission_id WHERE ug.user_id = %s
    """
    params = [Site._meta.app_label, Site._meta.model_name, *codenames, *[user.pk] * 4]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def forget_access_scope(user: User) -> None:
    """Drop the cached scope (after a role change within one request or test)."""
    for attr in ("_continuum_access_scope", "_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        if hasattr(user, attr):
            delattr(user, attr)


# --- roles ---------------------------------------------------------------


@transaction.atomic
def role_grant(*, user: AbstractBaseUser, role: Role, site: Site | None = None) -> None:
    if role in SITE_ROLES:
        if site is None:
            raise ValueError(f"{role} is granted at a site.")
        # A manager's coordinator rights come from access_scope, which reads
        # either permission as care-team membership: nothing extra to grant or revoke.
        assign_perm(SITE_ROLES[role], user, site)
    else:
        assign_perm(GLOBAL_ROLES[role], user)
    forget_access_scope(user)


@transaction.atomic
def role_revoke(*, user: AbstractBaseUser, role: Role, site: Site | None = None) -> None:
    if role in SITE_ROLES:
        remove_perm(SITE_ROLES[role], user, site)
    else:
        remove_perm(GLOBAL_ROLES[role], user)
    forget_access_scope(user)


def roles_of(user: User) -> list[dict]:
    """The user's roles, for the `me` endpoint and the admin."""
    scope = access_scope(user)
    roles: list[dict] = []
    if scope.is_org_admin:
        roles.append({"role": Role.ORGANISATION_ADMIN, "site": None})
    if scope.is_alumni_coordinator:
        roles.append({"role": Role.ALUMNI_COORDINATOR, "site": None})
    # A deleted site's object permission may linger (django-guardian keeps it): not a role.
    sites = Site.objects.filter(pk__in=list(scope.care_site_ids)).values_list("pk", flat=True)
    for site_id in sorted(sites, key=str):
        role = Role.SITE_MANAGER if site_id in scope.managed_site_ids else Role.CARE_COORDINATOR
        roles.append({"role": role, "site": site_id})
    return roles


# --- what a user may see ---------------------------------------------------


def _site_filter(site_ids: Iterable[UUID], prefix: str) -> Q:
    return Q(**{f"{prefix}site_id__in": list(site_ids)})


def clients_visible_to(user: User) -> QuerySet[Client]:
    scope = access_scope(user)
    if scope.is_org_admin:
        return Client.objects.all()
    if not scope.is_staff_of_anything:
        return Client.objects.none()
    sites = list(scope.care_site_ids)
    placement_here = Q(program__site_id__in=sites)
    transfer_here = Q(from_program__site_id__in=sites) | Q(to_program__site_id__in=sites)
    if scope.is_alumni_coordinator:
        placement_here |= Q(program__level_id=LevelCode.ALUMNI)
        transfer_here |= Q(to_program__level_id=LevelCode.ALUMNI)
    # A referral back into care to one of the sites' programs: the receiving
    # team must read the record of the client it is asked to admit.
    referred_here = Q(to_program__site_id__in=sites)
    return Client.objects.filter(
        Q(registered_site_id__in=sites)
        | Exists(Placement.objects.filter(placement_here, client_id=OuterRef("pk")))
        | Exists(Transfer.objects.filter(transfer_here, client_id=OuterRef("pk")))
        | Exists(Referral.objects.filter(referred_here, client_id=OuterRef("pk")))
    )


def episodes_visible_to(user: User) -> QuerySet[Episode]:
    return Episode.objects.filter(client__in=clients_visible_to(user))


def placements_visible_to(user: User) -> QuerySet[Placement]:
    return Placement.objects.filter(client__in=clients_visible_to(user))


def handoffs_visible_to(user: User) -> QuerySet[Handoff]:
    """Hand-offs of the transfers the user may see."""
    return Handoff.objects.filter(transfer__in=transfers_visible_to(user))


def transfers_visible_to(user: User) -> QuerySet[Transfer]:
    return Transfer.objects.filter(client__in=clients_visible_to(user))


# --- what a user may do ----------------------------------------------------


def can_act_for_program(user: User, program: Program) -> bool:
    """On the care team of the program: its site's coordinators and managers,
    alumni coordinators for alumni programs, organisation admins."""
    scope = access_scope(user)
    return (
        scope.is_org_admin
        or program.site_id in scope.care_site_ids
        or (scope.is_alumni_coordinator and program.level_id == LevelCode.ALUMNI)
    )


def can_override_capacity(user: User, program: Program) -> bool:
    scope = access_scope(user)
    return scope.is_org_admin or program.site_id in scope.managed_site_ids


def can_edit_client(user: User, client: Client) -> bool:
    """Identifiers and contact details are kept by the registering site's team
    and the team of the client's current program; others who merely see the
    client (a past stay, a declined transfer) may read but not edit."""
    scope = access_scope(user)
    if scope.is_org_admin or client.registered_site_id in scope.care_site_ids:
        return True
    current = (
        Placement.objects.filter(client=client, ended_at__isnull=True)
        .select_related("program")
        .first()
    )
    return current is not None and can_act_for_program(user, current.program)


def can_register_at_site(user: User, site: Site) -> bool:
    scope = access_scope(user)
    return scope.is_org_admin or site.pk in scope.care_site_ids


def require_program_team(user: User, program: Program) -> None:
    if not can_act_for_program(user, program):
        raise NotPermitted(MSG_NOT_YOUR_PROGRAM)


def require_capacity_override(user: User, program: Program) -> None:
    if not can_override_capacity(user, program):
        raise NotPermitted(MSG_OVERRIDE_NOT_ALLOWED, field="capacity_override_reason")


# --- who is on which team (recipients of notifications) ---------------------


def _users_with_global_perm(perm: str) -> QuerySet:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    app_label, codename = perm.split(".")
    permission = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
    users = get_user_model().objects.filter(is_active=True)
    if permission is None:
        return users.none()
    return users.filter(
        Q(user_permissions=permission) | Q(groups__permissions=permission)
    ).distinct()


def _users_with_site_perms(site: Site, perms: list[str]) -> QuerySet:
    from guardian.shortcuts import get_users_with_perms

    codenames = [perm.split(".")[1] for perm in perms]
    return get_users_with_perms(
        site, only_with_perms_in=codenames, with_group_users=True, with_superusers=False
    ).filter(is_active=True)


def program_team(program: Program) -> list:
    """The care team of a program: its site's coordinators and managers, and
    for an alumni program the alumni coordinators."""
    members = list(_users_with_site_perms(program.site, [PERM_COORDINATE, PERM_MANAGE]))
    if program.level_id == LevelCode.ALUMNI:
        members += list(_users_with_global_perm(PERM_ALUMNI))
    return list({user.pk: user for user in members}.values())


def site_managers(site: Site) -> list:
    return list(_users_with_site_perms(site, [PERM_MANAGE]))


def organisation_admins() -> list:
    from django.contrib.auth import get_user_model

    admins = list(_users_with_global_perm(PERM_ADMIN))
    admins += list(get_user_model().objects.filter(is_active=True, is_superuser=True))
    return list({user.pk: user for user in admins}.values())


# --- aftercare: plans, follow-ups, referrals (docs/aftercare.md) ---------------


def alumni_coordinators() -> QuerySet:
    """Active users who hold the alumni coordinator role itself (superusers
    are not given follow-ups just because they may do anything)."""
    return _users_with_global_perm(PERM_ALUMNI)


def follow_ups_visible_to(user: User) -> QuerySet:
    """Every follow-up is alumni work: organisation admins and alumni
    coordinators see them all, at every site; a site's coordinators and
    managers see those of their sites (the site responsible for the follow-up)."""
    scope = access_scope(user)
    if scope.is_org_admin or scope.is_alumni_coordinator:
        return FollowUp.objects.all()
    if not scope.care_site_ids:
        return FollowUp.objects.none()
    return FollowUp.objects.filter(site_id__in=list(scope.care_site_ids))


def aftercare_clients_visible_to(user: User) -> QuerySet[Client]:
    """Clients whose aftercare the user may see: the clients they see anyway,
    and for alumni coordinators every client with a follow-up (they call
    clients who were never in an alumni program)."""
    scope = access_scope(user)
    if scope.is_org_admin:
        return Client.objects.all()
    if not scope.is_alumni_coordinator:
        # A site's staff see its follow-ups, whose clients had a stay there.
        return clients_visible_to(user)
    return Client.objects.filter(
        Q(pk__in=clients_visible_to(user).values("pk"))
        | Exists(FollowUp.objects.filter(client_id=OuterRef("pk")))
    )


def aftercare_plans_visible_to(user: User) -> QuerySet:
    """A plan is visible exactly when its client's aftercare is."""
    if access_scope(user).is_org_admin:
        return AftercarePlan.objects.all()
    return AftercarePlan.objects.filter(client__in=aftercare_clients_visible_to(user))


def referrals_visible_to(user: User) -> QuerySet:
    """Referrals back into care: everyone who sees the follow-up they came
    from or the client, and the receiving program's site, which must act on them."""
    scope = access_scope(user)
    if scope.is_org_admin:
        return Referral.objects.all()
    sites = list(scope.care_site_ids)
    # A partner's referral is intake: the care teams of its sites work it, and
    # the network-wide alumni team sees it only at the sites it is a care team of.
    partners_for_sites = Q(pk__in=_partner_referrals_of_sites(sites)) if sites else Q(pk__in=[])
    if scope.is_alumni_coordinator:
        return Referral.objects.filter(~Q(source=ReferralOrigin.PARTNER) | partners_for_sites)
    if not sites:
        return Referral.objects.none()
    return Referral.objects.filter(
        Q(client__in=clients_visible_to(user))
        | Q(to_program__site_id__in=sites)
        | Q(from_follow_up__site_id__in=sites)
        | partners_for_sites
    )


def referrals_of_site_q(site_id) -> Q:
    """The referrals a site's teams work: to one of its programs, or a partner's
    referral for the site."""
    return Q(to_program__site_id=site_id) | Q(pk__in=_partner_referrals_of_sites([site_id]))


def _partner_referrals_of_sites(site_ids) -> QuerySet:
    """Partner referrals for these sites: to one of them, or, with no site
    asked, from a partner that refers to one of them."""
    return PartnerReferral.objects.filter(
        Q(requested_site_id__in=site_ids)
        | Q(requested_site__isnull=True, partner__sites__in=site_ids)
    ).values("referral_id")


def partner_referral_sites(referral) -> list[UUID]:
    """The sites whose teams work a partner referral: the site asked for, or
    every site of the partner."""
    details = referral.partner_details
    if details.requested_site_id:
        return [details.requested_site_id]
    # .all(): the prefetched sites when the caller prefetched them (a page of referrals)
    return [site.pk for site in details.partner.sites.all()]


def can_work_partner_referral(user: User, referral) -> bool:
    """Match, register, decline: a care team of one of the referral's sites."""
    scope = access_scope(user)
    return scope.is_org_admin or bool(scope.care_site_ids & set(partner_referral_sites(referral)))


def can_act_on_follow_up(user: User, follow_up) -> bool:
    """Record attempts and outcomes: alumni coordinators (the assignee among
    them), organisation admins, and the coordinators and managers of the
    follow-up's site, who were the client's care team."""
    scope = access_scope(user)
    return (
        scope.is_org_admin
        or scope.is_alumni_coordinator
        or follow_up.site_id in scope.care_site_ids
    )


def can_reassign_follow_up(user: User, follow_up) -> bool:
    """Share out the work: the alumni team itself, the follow-up's site
    managers, organisation admins (not a site's coordinators)."""
    scope = access_scope(user)
    return (
        scope.is_org_admin
        or scope.is_alumni_coordinator
        or follow_up.site_id in scope.managed_site_ids
    )


def can_edit_aftercare_plan(user: User, episode: Episode) -> bool:
    """Before the client leaves, the care team of their current program
    (alumni coordinators too once the client is in an alumni program); after
    discharge, the team of the program they left and any alumni coordinator.
    Organisation admins always."""
    scope = access_scope(user)
    if scope.is_org_admin or (scope.is_alumni_coordinator and not episode.is_open):
        return True
    last = (
        Placement.objects.filter(episode=episode)
        .select_related("program")
        .order_by("-started_at")
        .first()
    )
    return last is not None and can_act_for_program(user, last.program)


def follow_up_reassign_sites(user: User) -> QuerySet[Site]:
    """The sites whose follow-ups the user may reassign (can_reassign_follow_up
    asked of a whole site): every site for organisation admins and the alumni
    team, the sites they manage for site managers, none for anyone else."""
    scope = access_scope(user)
    if scope.is_org_admin or scope.is_alumni_coordinator:
        return Site.objects.all()
    return Site.objects.filter(pk__in=list(scope.managed_site_ids))


# --- figures: the census and aftercare metrics (docs/census.md, docs/aftercare.md) ---


def programs_visible_for_census(user: User) -> QuerySet[Program]:
    """The programs whose census the user may read: those of their sites
    (alumni coordinators: alumni programs everywhere; org admins: all)."""
    scope = access_scope(user)
    if scope.is_org_admin:
        return Program.objects.all()
    visible = Q(site_id__in=list(scope.care_site_ids))
    if scope.is_alumni_coordinator:
        visible |= Q(level_id=LevelCode.ALUMNI)
    return Program.objects.filter(visible)


def aftercare_metrics_sites(user: User) -> QuerySet[Site]:
    """The sites whose aftercare metrics the user may read: those whose
    follow-ups they see (follow_ups_visible_to): every site for alumni
    coordinators and organisation admins, else the sites they are staff of."""
    scope = access_scope(user)
    if scope.is_org_admin or scope.is_alumni_coordinator:
        return Site.objects.all()
    return Site.objects.filter(pk__in=list(scope.care_site_ids))


# --- consents and the accounting of disclosures (docs/consent.md) -------------


def consent_clients_visible_to(user: User) -> QuerySet[Client]:
    """Clients whose consents and accounting of disclosures the user may read and
    record: those of the care teams of their sites (as clients_visible_to sees
    them, without the alumni team's reach) and, for organisation admins, all.
    A consent is the client's Part 2 paperwork, kept by the sites that treat them."""
    scope = access_scope(user)
    if scope.is_org_admin:
        return Client.objects.all()
    if not scope.care_site_ids:
        return Client.objects.none()
    sites = list(scope.care_site_ids)
    return Client.objects.filter(
        Q(registered_site_id__in=sites)
        | Exists(Placement.objects.filter(program__site_id__in=sites, client_id=OuterRef("pk")))
        | Exists(
            Transfer.objects.filter(
                Q(from_program__site_id__in=sites) | Q(to_program__site_id__in=sites),
                client_id=OuterRef("pk"),
            )
        )
        | Exists(Referral.objects.filter(to_program__site_id__in=sites, client_id=OuterRef("pk")))
    )


def consents_visible_to(user: User) -> QuerySet[Consent]:
    if access_scope(user).is_org_admin:
        return Consent.objects.all()
    return Consent.objects.filter(client__in=consent_clients_visible_to(user))


def disclosures_visible_to(user: User) -> QuerySet[Disclosure]:
    if access_scope(user).is_org_admin:
        return Disclosure.objects.all()
    return Disclosure.objects.filter(client__in=consent_clients_visible_to(user))
