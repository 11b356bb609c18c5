"""A query parameter that is given must be a value the schema allows: a blank id,
choice, boolean or instant, or a page size that is not a whole number of 1 or more,
is a 400 naming it, not a filter or a page size silently dropped (found by
tests/contract, schemathesis's negative cases)."""

import pytest

from backend.api.filters import BLANK
from backend.api.pagination import MSG_PAGE_SIZE
from tests.api.helpers import assert_problem, error_for

BLANK_PARAMETERS = [
    ("/api/v1/clients/", "registered_site"),
    ("/api/v1/clients/", "in_care"),
    ("/api/v1/transfers/", "to_site"),
    ("/api/v1/programs/", "site"),
    ("/api/v1/placements/", "site"),
    ("/api/v1/handoffs/", "site"),
    ("/api/v1/referrals/", "to_site"),
    ("/api/v1/follow-ups/", "site"),
    ("/api/v1/follow-ups/assignees/", "site"),
    ("/api/v1/census/", "site"),
    ("/api/v1/census/daily/", "site"),
    ("/api/v1/aftercare/metrics/", "site"),
    ("/api/v1/audit/", "to"),
]


@pytest.mark.parametrize(
    ("path", "name"), BLANK_PARAMETERS, ids=[f"{p}?{n}=" for p, n in BLANK_PARAMETERS]
)
def test_a_blank_parameter_is_a_400_naming_it(api, users, path, name):
    # given an organisation admin, who may read every one of these
    client = api.as_user(users.admin)

    # when the parameter is given with no value
    response = client.get(path, {name: ""})

    # then it is refused, by name
    body = assert_problem(response, 400, code="invalid", fields={name})
    assert error_for(body, name)["message"] == BLANK


def test_a_blank_free_text_filter_is_no_filter(api, users, client_in_care):
    # given a client the Austin coordinator sees
    # when the name search is given empty
    response = api.as_user(users.austin).get("/api/v1/clients/", {"name": ""})

    # then it is the whole list, as without it
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(client_in_care.pk)]


@pytest.mark.parametrize("value", ["0", "-1", "null", "", "1.5", "٣"])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400(api, users, value):
    # when a list is asked for with that page size
    response = api.as_user(users.austin).get("/api/v1/sites/", {"page_size": value})

    # then page_size is named
    body = assert_problem(response, 400, code="invalid", fields={"page_size"})
    assert error_for(body, "page_size")["message"] == MSG_PAGE_SIZE


@pytest.mark.parametrize(("value", "rows"), [("1", 1), ("500", 2)])
def test_a_page_size_is_obeyed_up_to_200(api, network, users, value, rows):
    # given two sites, Austin and Houston
    # when sites are listed with that page size
    response = api.as_user(users.admin).get("/api/v1/sites/", {"page_size": value})

    # then that many come back (500 is capped at 200, more than there are)
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows
