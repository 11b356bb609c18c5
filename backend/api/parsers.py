"""Request parsers: DRF's, except that no body can turn into a 500."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus a 400 for absurdly deep nesting.

    json.loads raises RecursionError (not ValueError) on a body such as
    100,000 opening brackets; DRF lets it escape as a server error.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
