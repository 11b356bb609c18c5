"""Content negotiation: DRF's, except that OPTIONS always answers JSON.

OPTIONS describes an endpoint (its metadata is a dict of names and actions, not
rows), so a CSV endpoint asked for OPTIONS with `?format=csv` or `Accept:
text/csv` answers the description in JSON instead of feeding it to the CSV
renderer (which used to be a 500)."""

from rest_framework.negotiation import DefaultContentNegotiation

from backend.api.renderers import CSVRenderer


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if request.method == "OPTIONS" and any(isinstance(r, CSVRenderer) for r in renderers):
            json = next(r for r in renderers if not isinstance(r, CSVRenderer))
            return json, json.media_type
        return super().select_renderer(request, renderers, format_suffix)
