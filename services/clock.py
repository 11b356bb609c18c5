"""One place to read the time, so that every service can take `now` from a test."""

from datetime import datetime

from django.utils import timezone

from services.errors import MSG_TIME_IN_FUTURE, InvalidInput


def resolve_now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def check_not_future(value: datetime, now: datetime, field: str) -> None:
    if value > now:
        raise InvalidInput(MSG_TIME_IN_FUTURE, field=field)
