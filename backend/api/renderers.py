"""CSV for the figures endpoints: `Accept: text/csv` or `?format=csv`."""

import csv
import io

from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    """Renders a list of flat dicts (or {"results": [...]}) as CSV, one row each.

    The header is the view's `csv_columns` when it has them (so that an empty
    answer still has its header row), else the first row's keys, in order.
    Errors never come here: the exception handler answers them in JSON.
    A text cell that a spreadsheet would run as a formula (it starts with
    = + - @, a tab or a carriage return) is prefixed with an apostrophe.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = data.get("results", data) if isinstance(data, dict) else data
        view = (renderer_context or {}).get("view")
        columns = list(getattr(view, "csv_columns", ()) or (rows[0] if rows else ()))
        buffer = io.StringIO()
        if columns:
            writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows({key: _inert(value) for key, value in row.items()} for row in rows)
        return buffer.getvalue().encode(self.charset)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
