"""The way in: /api/v1/ answers an index of the API, and any other /api/ URL that no
route answers is a problem document, whether DEBUG is on or off."""

import pytest
from django.test import Client

from backend.api.errors import NO_SUCH_ENDPOINT
from tests.api.helpers import API_PREFIX, api_routes, assert_problem

# --- the index -------------------------------------------------------------------


def test_the_index_answers_without_credentials(api, db):
    # when an anonymous caller opens the API's root
    response = api.get(API_PREFIX)

    # then it names the token endpoint and the resources, as absolute URLs
    assert response.status_code == 200
    links = response.json()
    assert links["auth-token"] == "http://testserver/api/v1/auth/token/"
    assert links["clients"] == "http://testserver/api/v1/clients/"
    assert links["schema"] == "http://testserver/api/schema/"


def test_the_index_names_every_resource_of_the_api(api, db):
    # given the resources of the API: the first segment of each route's path
    resources = {route.resource for route in api_routes() if route.path != API_PREFIX}

    # when the index is read
    links = api.get(API_PREFIX).json().values()

    # then a link leads into each
    linked = {url.removeprefix(f"http://testserver{API_PREFIX}").split("/")[0] for url in links}
    assert resources - linked == set()


def test_every_link_of_the_index_leads_somewhere(api, users):
    # given an organisation admin, who may read every endpoint
    client = api.as_user(users.admin)
    links = client.get(API_PREFIX).json()

    for key, url in links.items():
        # when each link is followed
        response = client.get(url)

        # then it answers (the token endpoints take only POST; the partner API
        # refuses staff credentials)
        if key in ("auth-token", "oauth-token"):
            expected = 405
        elif key.startswith("partner-"):
            expected = 403
        else:
            expected = 200
        assert response.status_code == expected, (key, url, response.status_code)


def test_a_bad_token_on_the_index_is_a_401_as_everywhere(api, db):
    # given a token that was never issued
    api.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")

    # when the index is asked for
    # then the credentials are refused, not ignored
    assert_problem(api.get(API_PREFIX), 401, code="authentication_failed")


# --- unknown URLs ----------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v2/clients/", "/api/nope", "/api/"])
def test_an_unknown_url_under_api_is_a_problem_with_debug_on_or_off(
    api, users, settings, debug, method, path
):
    # given DEBUG on (a developer's machine, the demo) or off
    settings.DEBUG = debug

    # when a URL that no route answers is called
    response = getattr(api.as_user(users.austin), method)(path)

    # then it is the API's 404, never Django's HTML page
    body = assert_problem(response, 404, code="not_found")
    assert body["detail"] == NO_SUCH_ENDPOINT


@pytest.mark.parametrize("debug", [False, True])
def test_a_get_without_the_final_slash_is_redirected_to_the_endpoint(api, users, settings, debug):
    # given DEBUG on or off
    settings.DEBUG = debug

    # when an endpoint is asked for without its final slash
    response = api.as_user(users.austin).get("/api/v1/clients?in_care=true")

    # then the caller is sent to it, query and all, as Django's APPEND_SLASH does
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/clients/?in_care=true"


def test_a_post_without_the_final_slash_is_a_404_naming_the_endpoint(api, users):
    # when a write misses the final slash (a redirect would turn it into a GET)
    response = api.as_user(users.austin).post("/api/v1/clients", {}, format="json")

    # then the 404 says where it should have gone
    body = assert_problem(response, 404, code="not_found")
    assert body["detail"] == f"{NO_SUCH_ENDPOINT} Did you mean /api/v1/clients/?"


def test_a_post_to_an_unknown_url_needs_no_csrf_token(db):
    # given a browser-like client that enforces CSRF, as Django does for real requests
    client = Client(enforce_csrf_checks=True)

    # when it posts to a URL that no route answers
    response = client.post("/api/v1/nope/", {})

    # then it gets the 404 problem, not Django's CSRF page
    assert_problem(response, 404, code="not_found")
