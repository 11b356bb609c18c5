"""services.access.access_scope: every place a role can be held, read in one query."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from services.access import (
    PERM_ADMIN,
    PERM_ALUMNI,
    PERM_COORDINATE,
    PERM_MANAGE,
    Role,
    access_scope,
    role_grant,
    roles_of,
)
from tests.factories import SiteFactory, UserFactory


def fresh(user):
    # access_scope keeps its answer on the user object: a new instance reads again.
    return get_user_model().objects.get(pk=user.pk)


def test_a_user_without_roles_has_no_scope_in_one_query(db):
    user = UserFactory()
    SiteFactory()

    user = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        scope = access_scope(user)

    assert len(queries) == 1
    assert not scope.is_org_admin
    assert not scope.is_alumni_coordinator
    assert scope.care_site_ids == frozenset()
    assert not scope.is_staff_of_anything


def test_direct_roles_of_every_kind_are_read_in_one_query(db):
    austin, houston, _ = SiteFactory(), SiteFactory(), SiteFactory()
    user = UserFactory()
    role_grant(user=user, role=Role.CARE_COORDINATOR, site=austin)
    role_grant(user=user, role=Role.SITE_MANAGER, site=houston)
    role_grant(user=user, role=Role.ALUMNI_COORDINATOR)

    user = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        scope = access_scope(user)

    assert len(queries) == 1
    assert scope.care_site_ids == {austin.pk, houston.pk}
    assert scope.managed_site_ids == {houston.pk}
    assert scope.is_alumni_coordinator
    assert not scope.is_org_admin


def test_roles_held_through_a_group_count(db):
    # django-guardian and Django's ModelBackend both honour group permissions.
    austin, houston = SiteFactory(), SiteFactory()
    managers = Group.objects.create(name="Houston managers")
    assign_perm(PERM_MANAGE, managers, houston)
    coordinators = Group.objects.create(name="Austin coordinators")
    assign_perm(PERM_COORDINATE, coordinators, austin)
    admins = Group.objects.create(name="Admins")
    assign_perm(PERM_ADMIN, admins)
    user = UserFactory()
    user.groups.add(managers, coordinators, admins)

    scope = access_scope(fresh(user))

    assert scope.care_site_ids == {austin.pk, houston.pk}
    assert scope.managed_site_ids == {houston.pk}
    assert scope.is_org_admin
    assert not scope.is_alumni_coordinator


def test_another_users_or_another_groups_roles_do_not_count(db):
    austin = SiteFactory()
    other = UserFactory()
    role_grant(user=other, role=Role.SITE_MANAGER, site=austin)
    role_grant(user=other, role=Role.ORGANISATION_ADMIN)
    group = Group.objects.create(name="Alumni")
    assign_perm(PERM_ALUMNI, group)
    other.groups.add(group)
    user = UserFactory()

    scope = access_scope(fresh(user))

    assert scope.care_site_ids == frozenset()
    assert not scope.is_org_admin
    assert not scope.is_alumni_coordinator


def test_other_permissions_on_a_site_are_not_roles(db):
    austin = SiteFactory()
    user = UserFactory()
    assign_perm("network.change_site", user, austin)
    assign_perm("network.view_site", user)

    scope = access_scope(fresh(user))

    assert scope.care_site_ids == frozenset()
    assert not scope.is_org_admin


def test_a_superuser_is_an_organisation_admin_and_an_inactive_user_nothing(db):
    austin = SiteFactory()
    boss = UserFactory(is_superuser=True)
    gone = UserFactory(is_active=False)
    role_grant(user=gone, role=Role.SITE_MANAGER, site=austin)
    role_grant(user=gone, role=Role.ORGANISATION_ADMIN)

    assert access_scope(fresh(boss)).is_org_admin
    gone_scope = access_scope(fresh(gone))
    assert not gone_scope.is_org_admin
    assert gone_scope.care_site_ids == frozenset()


def test_a_deleted_sites_leftover_permission_is_not_a_role(db):
    # django-guardian keeps object permissions when their object is deleted.
    austin, closed = SiteFactory(), SiteFactory()
    user = UserFactory()
    role_grant(user=user, role=Role.CARE_COORDINATOR, site=austin)
    role_grant(user=user, role=Role.SITE_MANAGER, site=closed)
    closed_id = closed.pk
    closed.delete()

    roles = roles_of(fresh(user))

    assert roles == [{"role": Role.CARE_COORDINATOR, "site": austin.pk}]
    assert closed_id not in {role["site"] for role in roles}
