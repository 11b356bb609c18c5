"""The §2.32 notice on every response that carries Part 2 records, in one place.

Each such response says, in its header `Part2-Notice` and in its body, that
42 CFR part 2 prohibits redisclosure, and links to the copy of the consent the
records went out under:

    a page:    {"notice": ..., "count", "next", "previous", "results": [{..., "consent": url}]}
    a record:  {"notice": ..., "consent": url, "data": {...} or [...]}

`Part2Pagination` gives a page its notice; `part2_response` wraps one
record (or one client's records); `part2_envelope` and `PART2_HEADER` describe
both in the schema. Another API that discloses (FHIR) mirrors the same three:
the notice in a header and in the body's metadata, and the consent's link.
"""

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from backend.api.pagination import PageNumberPagination
from services.consent import PART2_NOTICE, PART2_NOTICE_HEADER

PART2_HEADER = OpenApiParameter(
    PART2_NOTICE_HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    response=[200],
    description=f"The notice prohibiting redisclosure (42 CFR 2.32): “{PART2_NOTICE}”",
)


def part2_headers() -> dict[str, str]:
    return {PART2_NOTICE_HEADER: PART2_NOTICE}


def add_part2_headers(response):
    for name, value in part2_headers().items():
        response[name] = value
    return response


class Part2Pagination(PageNumberPagination):
    """A page of Part 2 records, with the notice beside the results."""

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data = {"notice": PART2_NOTICE, **response.data}
        add_part2_headers(response)
        return response

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"] = {
            "notice": {"type": "string", "example": PART2_NOTICE},
            **response["properties"],
        }
        response["required"] = ["notice", *response.get("required", [])]
        return response


def part2_envelope(name: str, data: serializers.BaseSerializer) -> serializers.Serializer:
    """The schema of `part2_response`: the notice, the consent's link, the data."""
    return inline_serializer(
        name,
        {
            "notice": serializers.CharField(help_text="42 CFR 2.32: no redisclosure."),
            "consent": serializers.URLField(help_text="The copy of the consent."),
            "data": data,
        },
    )


def part2_response(data, *, consent_url: str) -> Response:
    return Response(
        {"notice": PART2_NOTICE, "consent": consent_url, "data": data}, headers=part2_headers()
    )
