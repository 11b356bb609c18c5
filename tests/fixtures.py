"""A small network, and one user per role: the cast of most tests.

Austin offers detox, residential and IOP; Houston residential and IOP;
Austin's alumni program sits at Austin. Coordinators, a manager, an alumni
coordinator, an organisation admin and a user with no role.
"""

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from backend.network.models import LevelOfCare
from services.access import Role, role_grant
from tests.factories import ProgramFactory, SiteFactory, UserFactory


def _level(code: str) -> LevelOfCare:
    return LevelOfCare.objects.get(code=code)


def network_build() -> SimpleNamespace:
    """The network of the fixture `network`, for fixtures of a wider scope."""
    austin = SiteFactory(code="austin", name="Austin")
    houston = SiteFactory(code="houston", name="Houston")
    programs = SimpleNamespace(
        austin_detox=ProgramFactory(site=austin, level=_level("detox"), capacity=2),
        austin_residential=ProgramFactory(site=austin, level=_level("residential"), capacity=2),
        austin_iop=ProgramFactory(site=austin, level=_level("iop"), capacity=15),
        austin_alumni=ProgramFactory(site=austin, level=_level("alumni"), capacity=500),
        houston_residential=ProgramFactory(site=houston, level=_level("residential"), capacity=2),
        houston_iop=ProgramFactory(site=houston, level=_level("iop"), capacity=15),
    )
    return SimpleNamespace(austin=austin, houston=houston, **vars(programs))


@pytest.fixture
def network(db):
    return network_build()


def users_build(network) -> SimpleNamespace:
    """The cast of the fixture `users`, for fixtures of a wider scope."""

    def user(username, role=None, site=None):
        u = UserFactory(username=username)
        if role is not None:
            role_grant(user=u, role=role, site=site)
        return u

    return SimpleNamespace(
        austin=user("coordinator.austin", Role.CARE_COORDINATOR, network.austin),
        austin2=user("coordinator2.austin", Role.CARE_COORDINATOR, network.austin),
        houston=user("coordinator.houston", Role.CARE_COORDINATOR, network.houston),
        manager=user("manager.austin", Role.SITE_MANAGER, network.austin),
        houston_manager=user("manager.houston", Role.SITE_MANAGER, network.houston),
        alumni=user("alumni", Role.ALUMNI_COORDINATOR),
        admin=user("orgadmin", Role.ORGANISATION_ADMIN),
        nobody=user("nobody"),
    )


@pytest.fixture
def users(network):
    return users_build(network)


@pytest.fixture
def api():
    """An API client; `api.as_user(u)` authenticates as u with a real token."""
    from rest_framework.authtoken.models import Token

    client = APIClient()

    def as_user(user):
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def eager():
    """Celery without a broker, as in the demo, whatever REDIS_URL says."""
    from workers import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
