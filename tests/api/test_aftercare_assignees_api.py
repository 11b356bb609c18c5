"""GET /api/v1/follow-ups/assignees/: whom follow-ups may be given to.

The cast: Lee leads Austin's alumni team and sits on Houston's; Max is on
Austin's team; `alumni` (the fixtures' alumni coordinator) is on no team. Ola
is still on Austin's team but lost the role, Ina holds the role but is
inactive, and Sam is a superuser without it: none of them may be given a
follow-up, so none is listed. Open follow-ups are counted by hand below.
"""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from backend.aftercare.models import AlumniTeamMembership, FollowUpStatus
from backend.api.filters import BLANK
from backend.audit.models import AuditEvent
from services.access import Role, role_grant
from tests.api.helpers import assert_problem, error_for
from tests.api.test_query_counts import FEW, MANY, queries_for
from tests.factories import UserFactory, follow_up_row

ASSIGNEES = "/api/v1/follow-ups/assignees/"
DAY = dt.timedelta(days=1)


def alumni_coordinator(username: str, *, teams=(), **fields):
    """An alumni coordinator on the alumni teams of `teams`: (site, is_lead) pairs."""
    user = UserFactory(username=username, **fields)
    role_grant(user=user, role=Role.ALUMNI_COORDINATOR)
    for site, is_lead in teams:
        AlumniTeamMembership.objects.create(user=user, site=site, is_lead=is_lead)
    return user


def _usernames(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["username"] for row in response.json()["results"]]


@pytest.fixture
def team(network, users):
    austin, houston = network.austin, network.houston
    lee = alumni_coordinator(
        "alumni.lee", first_name="Lee", last_name="Park", teams=[(austin, True), (houston, False)]
    )
    max_ = alumni_coordinator("alumni.max", teams=[(austin, False)])
    ola = UserFactory(username="alumni.ola")  # on Austin's team, without the role
    AlumniTeamMembership.objects.create(user=ola, site=austin)
    ina = alumni_coordinator("alumni.ina", teams=[(austin, False)], is_active=False)
    sam = UserFactory(username="sam", is_superuser=True)

    today = timezone.now().date()
    row = lambda program, **fields: follow_up_row(program, users.austin, **fields)  # noqa: E731
    # Lee: scheduled and due at Austin, due at Houston (3 open); completed,
    # missed and cancelled ones are not open.
    row(network.austin_iop, due_on=today + 5 * DAY, assignee=lee)
    row(network.austin_iop, due_on=today, status=FollowUpStatus.DUE, assignee=lee)
    row(network.houston_iop, due_on=today, status=FollowUpStatus.DUE, assignee=lee)
    row(
        network.austin_iop,
        due_on=today - 3 * DAY,
        status=FollowUpStatus.COMPLETED,
        completed_at=timezone.now(),
        completed_by=lee,
        reached=True,
        assignee=lee,
    )
    row(network.austin_iop, due_on=today - 20 * DAY, status=FollowUpStatus.MISSED, assignee=lee)
    row(
        network.austin_iop,
        due_on=today + DAY,
        status=FollowUpStatus.CANCELLED,
        ended_at=timezone.now(),
        ended_reason="readmitted",
        assignee=lee,
    )
    # alumni: one due at Houston; Ola, who lost the role, still has one.
    row(network.houston_iop, due_on=today, status=FollowUpStatus.DUE, assignee=users.alumni)
    row(network.austin_iop, due_on=today, status=FollowUpStatus.DUE, assignee=ola)
    return SimpleNamespace(lee=lee, max=max_, ola=ola, ina=ina, sam=sam)


# --- who may ask, and what they get -------------------------------------------------


@pytest.mark.parametrize("viewer", ["alumni", "max", "lee", "admin", "manager"])
def test_whoever_may_reassign_lists_the_alumni_coordinators_with_teams_and_load(
    api, network, users, team, viewer
):
    # given an alumni coordinator on no team, one on Austin's, Austin's lead,
    # an organisation admin or Austin's site manager
    caller = getattr(team, viewer, None) or getattr(users, viewer)

    # when they ask whom follow-ups may be given to
    response = api.as_user(caller).get(ASSIGNEES)

    # then every active alumni coordinator, by username, with their teams and open follow-ups
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 3
    assert response.json()["results"] == [
        {
            "id": users.alumni.pk,
            "username": "alumni",
            "full_name": users.alumni.get_full_name(),
            "alumni_teams": [],
            "open_follow_ups": 1,
        },
        {
            "id": team.lee.pk,
            "username": "alumni.lee",
            "full_name": "Lee Park",
            "alumni_teams": [
                {"site": str(network.austin.pk), "site_name": "Austin", "is_lead": True},
                {"site": str(network.houston.pk), "site_name": "Houston", "is_lead": False},
            ],
            "open_follow_ups": 3,
        },
        {
            "id": team.max.pk,
            "username": "alumni.max",
            "full_name": team.max.get_full_name(),
            "alumni_teams": [
                {"site": str(network.austin.pk), "site_name": "Austin", "is_lead": False}
            ],
            "open_follow_ups": 0,
        },
    ]


@pytest.mark.parametrize("viewer", ["austin", "houston", "nobody"])
def test_site_coordinators_and_users_without_a_role_get_an_empty_list(api, users, team, viewer):
    # given a site's care coordinator, who may not reassign, or a user with no role
    # when they ask
    response = api.as_user(getattr(users, viewer)).get(ASSIGNEES)

    # then there is nobody they may give follow-ups to
    assert response.status_code == 200, response.content
    assert (response.json()["count"], response.json()["results"]) == (0, [])


def test_an_anonymous_caller_gets_401(api, team):
    assert_problem(api.get(ASSIGNEES), 401, code="not_authenticated")


def test_everyone_listed_may_be_given_a_follow_up_and_nobody_else(api, network, users, team):
    # given a due follow-up at Austin, and everyone the alumni coordinator may name
    follow_up = follow_up_row(network.austin_iop, users.austin, due_on=timezone.now().date())
    alumni = api.as_user(users.alumni)
    listed = {row["id"] for row in alumni.get(ASSIGNEES).json()["results"]}
    everyone = [*vars(users).values(), *vars(team).values()]

    # when the follow-up is given to each in turn
    accepted = set()
    for user in everyone:
        answer = alumni.post(f"/api/v1/follow-ups/{follow_up.pk}/reassign/", {"assignee": user.pk})
        if answer.status_code == 200:
            accepted.add(user.pk)
        else:
            assert_problem(answer, 400, fields={"assignee"})

    # then exactly the listed users were accepted
    assert accepted == listed == {users.alumni.pk, team.lee.pk, team.max.pk}


def test_reading_the_list_writes_no_audit_row(api, users, team):
    # the list holds staff, not any client's record
    before = AuditEvent.objects.count()
    assert api.as_user(users.alumni).get(ASSIGNEES).status_code == 200
    assert AuditEvent.objects.count() == before


# --- one site's alumni team ------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "site", "expected"),
    [
        ("alumni", "austin", ["alumni.lee", "alumni.max"]),
        ("alumni", "houston", ["alumni.lee"]),
        ("admin", "houston", ["alumni.lee"]),
        ("manager", "austin", ["alumni.lee", "alumni.max"]),
    ],
)
def test_a_site_narrows_the_list_to_its_alumni_team(
    api, network, users, team, viewer, site, expected
):
    response = api.as_user(getattr(users, viewer)).get(
        ASSIGNEES, {"site": str(getattr(network, site).pk)}
    )

    assert _usernames(response) == expected
    # each member's teams and load are all of theirs, not only this site's
    lee = next(row for row in response.json()["results"] if row["username"] == "alumni.lee")
    assert (len(lee["alumni_teams"]), lee["open_follow_ups"]) == (2, 3)


@pytest.mark.parametrize(
    ("viewer", "site"),
    [
        ("manager", "houston"),  # another site's manager
        ("houston_manager", "austin"),
        ("austin", "austin"),  # a coordinator may reassign at no site, even their own
        ("nobody", "austin"),
        ("alumni", "unknown"),
    ],
)
def test_a_site_whose_follow_ups_the_caller_may_not_reassign_is_a_404_naming_site(
    api, network, users, team, viewer, site
):
    site_id = (
        "00000000-0000-4000-8000-000000000000" if site == "unknown" else getattr(network, site).pk
    )

    response = api.as_user(getattr(users, viewer)).get(ASSIGNEES, {"site": str(site_id)})

    assert_problem(response, 404, code="not_found", fields={"site"})


def test_a_malformed_or_empty_site_is_a_400_naming_it(api, users, team):
    alumni = api.as_user(users.alumni)

    problem = assert_problem(alumni.get(ASSIGNEES, {"site": "austin"}), 400, fields={"site"})
    assert error_for(problem, "site")["message"] == "Must be a valid UUID."

    problem = assert_problem(alumni.get(ASSIGNEES, {"site": ""}), 400, fields={"site"})
    assert error_for(problem, "site")["message"] == BLANK


# --- the cost of the list ---------------------------------------------------------------


def _add_coordinators(n: int, network, users) -> None:
    """n alumni coordinators, each on both sites' teams with two open follow-ups."""
    today = timezone.now().date()
    for _ in range(n):
        user = alumni_coordinator(
            f"alumni.{UserFactory._meta.model.objects.count()}",
            teams=[(network.austin, False), (network.houston, True)],
        )
        for program in (network.austin_iop, network.houston_iop):
            follow_up_row(program, users.austin, due_on=today, assignee=user)


@pytest.mark.parametrize("params", [{}, {"site": "austin"}], ids=["all", "a-site"])
def test_the_list_costs_the_same_queries_for_2_coordinators_as_for_20(api, network, users, params):
    # given two alumni coordinators (the fixtures' one and one more)
    params = {k: str(getattr(network, v).pk) for k, v in params.items()}
    admin = api.as_user(users.admin)
    _add_coordinators(FEW - 1, network, users)
    few, few_body = queries_for(admin, ASSIGNEES, params)

    # when there are twenty
    _add_coordinators(MANY - FEW, network, users)
    many, many_body = queries_for(admin, ASSIGNEES, params)

    # then the list grew, its cost did not, and the counts are each coordinator's own
    expected = (FEW, MANY) if not params else (FEW - 1, MANY - 1)
    assert (few_body["count"], many_body["count"]) == expected
    assert {row["open_follow_ups"] for row in many_body["results"] if row["alumni_teams"]} == {2}
    assert many == few


def test_a_page_of_2_costs_the_same_queries_as_a_page_of_20(api, network, users):
    _add_coordinators(MANY, network, users)
    admin = api.as_user(users.admin)

    small, small_body = queries_for(admin, ASSIGNEES, {"page_size": FEW})
    large, large_body = queries_for(admin, ASSIGNEES, {"page_size": MANY})

    assert (len(small_body["results"]), len(large_body["results"])) == (FEW, MANY)
    assert small == large
