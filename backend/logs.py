"""Logs: one JSON object per line in production, each carrying the id of its request.

RequestIdMiddleware takes the caller's X-Request-ID when it is a plain token (up to 64 of
A-Z a-z 0-9 and -), else makes a uuid4; it returns the id in the response's X-Request-ID and
keeps it in a context variable, which RequestIdFilter copies onto every log record made
while the request is served (records made elsewhere carry "-").
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

from django.core.signals import request_finished
from django.dispatch import receiver

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
NO_REQUEST = "-"

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default=NO_REQUEST
)


def request_id_from(value: str | None) -> str:
    """The caller's id when it is safe to log as it is, else a new one."""
    if value and VALID_REQUEST_ID.fullmatch(value):
        return value
    return str(uuid.uuid4())


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        # Not reset on the way out: Django logs a 4xx/5xx response after the middlewares
        # return. The id is cleared when the response is closed (request_finished, below).
        current_request_id.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


@receiver(request_finished, dispatch_uid="backend.logs.forget_request_id")
def _forget_request_id(**kwargs) -> None:
    current_request_id.set(NO_REQUEST)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on the record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request id,
    and the exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_REQUEST),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
