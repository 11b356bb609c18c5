"""backend.api.renderers.JSONRenderer: orjson, writing what DRF's own renderer writes."""

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from backend.api.renderers import JSONRenderer
from backend.care.models import Client
from tests.api.helpers import api_routes

SITE = uuid.UUID("6f1c2b9e-0d4a-4a53-9b8e-2f5d7c1a9e30")


def test_the_same_bytes_as_drfs_renderer_for_what_our_views_return():
    payload = {
        "program": SITE,
        "name": "Austin — Détox",  # not escaped: UTF-8, as UNICODE_JSON says
        "day": dt.date(2026, 11, 1),
        "at": dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC),
        "local": dt.datetime(2026, 11, 1, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        "occupancy_percent": 91.7,
        "empty": None,
        "flags": [True, False],
        "title": gettext_lazy("Not found."),
        "nested": [{"count": 3, "capacity": Decimal("12")}],
    }

    ours = JSONRenderer().render(payload)

    assert ours == DRFJSONRenderer().render(payload)
    assert b'"at":"2026-11-01T06:30:00Z"' in ours
    assert "Détox".encode() in ours


def test_keys_that_are_not_strings_are_written_as_strings():
    ours = JSONRenderer().render({1: "one", SITE: "site"})

    assert json.loads(ours) == {"1": "one", str(SITE): "site"}


def test_nothing_renders_as_an_empty_body():
    assert JSONRenderer().render(None) == b""


def test_the_api_answers_with_it(api, network, users):
    response = api.as_user(users.manager).get("/api/v1/census/")

    assert response.status_code == 200
    assert isinstance(response.accepted_renderer, JSONRenderer)
    assert response["Content-Type"] == "application/json"


def test_the_browsable_api_shows_no_form_that_lists_records_the_caller_cannot_see(
    api, network, users, austin_record, outsider
):
    # given Austin's records, and a Dallas coordinator who may see none of them
    mrn = Client.objects.get(pk=austin_record.ids["clients"]).mrn
    browser = api.as_user(outsider)
    list_paths = sorted({r.path for r in api_routes() if r.method == "get" and "{" not in r.path})

    assert {"/api/v1/episodes/", "/api/v1/transfers/"} <= set(list_paths)
    pages = 0
    for path in list_paths:
        # when they open each list page in a browser
        response = browser.get(path, {"format": "api"})

        # then no Austin client is in it (the figures endpoints offer no HTML: 404;
        # the partner API refuses a staff session outright: 403)
        expected = (403,) if path.startswith("/api/v1/partner/") else (200, 404)
        assert response.status_code in expected, path
        pages += response["Content-Type"].startswith("text/html")
        assert mrn not in response.content.decode(), path
    assert pages >= 8


CSV_ENDPOINTS = [
    "/api/v1/census/",
    "/api/v1/census/daily/",
    "/api/v1/census/movement/",
    "/api/v1/census/length-of-stay/",
    "/api/v1/aftercare/metrics/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", CSV_ENDPOINTS)
@pytest.mark.parametrize("ask", ["query", "accept"])
def test_options_on_a_csv_endpoint_describes_it_in_json(api, users, url, ask):
    # given an organisation admin asking a CSV endpoint for its description, in CSV
    client = api.as_user(users.admin)
    extra = {"QUERY_STRING": "format=csv"} if ask == "query" else {"HTTP_ACCEPT": "text/csv"}

    # when they send OPTIONS
    response = client.options(url, **extra)

    # then the description comes, in JSON (it used to be a 500)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert "name" in response.json()
