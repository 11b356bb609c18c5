"""`manage.py grant_role`: roles granted and revoked through services.access."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from backend.accounts.management.commands.grant_role import (
    MSG_SITE_NOT_ALLOWED,
    MSG_SITE_REQUIRED,
    MSG_UNKNOWN_USER,
)
from services.access import Role, access_scope, role_grant
from tests.factories import SiteFactory, UserFactory


def grant_role(*args: str) -> str:
    out = StringIO()
    call_command("grant_role", *args, stdout=out)
    return out.getvalue()


def scope_of(username: str):
    # A fresh instance: access_scope caches on the user object.
    return access_scope(get_user_model().objects.get(username=username))


def test_grant_role_makes_a_user_care_coordinator_at_one_site(db):
    # given
    austin = SiteFactory(code="austin", name="Austin")
    SiteFactory(code="houston", name="Houston")
    UserFactory(username="sam")

    # when
    output = grant_role("sam", "care_coordinator", "--site", "austin")

    # then
    scope = scope_of("sam")
    assert scope.care_site_ids == {austin.pk}
    assert scope.managed_site_ids == frozenset()
    assert "Granted care_coordinator at Austin (austin) to sam." in output
    assert "Roles of sam now: care_coordinator at austin." in output


def test_grant_role_makes_a_user_site_manager(db):
    # given
    houston = SiteFactory(code="houston", name="Houston")
    UserFactory(username="lee")

    # when
    grant_role("lee", "site_manager", "--site", "houston")

    # then
    assert scope_of("lee").managed_site_ids == {houston.pk}


@pytest.mark.parametrize(
    ("role", "flag"),
    [("organisation_admin", "is_org_admin"), ("alumni_coordinator", "is_alumni_coordinator")],
)
def test_grant_role_gives_an_organisation_wide_role_without_a_site(db, role, flag):
    # given
    UserFactory(username="kim")

    # when
    output = grant_role("kim", role)

    # then
    assert getattr(scope_of("kim"), flag)
    assert f"Granted {role} to kim." in output


def test_revoke_takes_a_site_role_away(db):
    # given
    austin = SiteFactory(code="austin", name="Austin")
    role_grant(user=UserFactory(username="sam"), role=Role.CARE_COORDINATOR, site=austin)

    # when
    output = grant_role("sam", "care_coordinator", "--site", "austin", "--revoke")

    # then
    assert scope_of("sam").care_site_ids == frozenset()
    assert "Revoked care_coordinator at Austin (austin) from sam." in output
    assert "Roles of sam now: none." in output


def test_revoke_takes_an_organisation_wide_role_away(db):
    # given
    role_grant(user=UserFactory(username="kim"), role=Role.ORGANISATION_ADMIN)

    # when
    grant_role("kim", "organisation_admin", "--revoke")

    # then
    assert not scope_of("kim").is_org_admin


def test_unknown_user_is_an_error(db):
    # when / then
    with pytest.raises(CommandError, match=re.escape(MSG_UNKNOWN_USER.format(username="ghost"))):
        grant_role("ghost", "alumni_coordinator")


def test_unknown_role_is_an_error_naming_the_roles(db):
    # given
    UserFactory(username="sam")

    # when / then
    with pytest.raises(CommandError, match="care_coordinator, site_manager") as error:
        grant_role("sam", "boss")
    assert '"boss"' in str(error.value)


def test_unknown_site_is_an_error_naming_the_sites(db):
    # given
    SiteFactory(code="austin")
    UserFactory(username="sam")

    # when / then
    with pytest.raises(CommandError, match='No site with code "dallas"; sites: austin'):
        grant_role("sam", "care_coordinator", "--site", "dallas")


@pytest.mark.parametrize("role", ["care_coordinator", "site_manager"])
def test_a_site_role_needs_a_site(db, role):
    # given
    UserFactory(username="sam")

    # when / then
    with pytest.raises(CommandError, match=re.escape(MSG_SITE_REQUIRED.format(role=role))):
        grant_role("sam", role)


def test_an_organisation_wide_role_takes_no_site(db):
    # given
    SiteFactory(code="austin")
    UserFactory(username="sam")

    # when / then
    with pytest.raises(
        CommandError, match=re.escape(MSG_SITE_NOT_ALLOWED.format(role="organisation_admin"))
    ):
        grant_role("sam", "organisation_admin", "--site", "austin")
    assert not scope_of("sam").is_org_admin
