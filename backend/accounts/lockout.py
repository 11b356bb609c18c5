"""The answer to a locked-out sign-in (django-axes' AXES_LOCKOUT_CALLABLE).

The API's token endpoint gets a 429 problem document with Retry-After, as a
throttled request does; the sign-in page and the admin get a page that says
so, also a 429. Neither tells whether the username exists.
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from backend.api.errors import PROBLEM_CONTENT_TYPE, problem

MSG_LOCKED_OUT = (
    "Too many failed sign-ins for this username from this address: try again in "
    "{minutes} minutes, or ask an organisation admin to unlock the account."
)


def _minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def locked_out(request, credentials=None, *args, **kwargs):
    message = MSG_LOCKED_OUT.format(minutes=_minutes())
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        body = problem(status_code=429, code="locked_out", title="Locked out", detail=message)
        response = JsonResponse(body, status=429, content_type=PROBLEM_CONTENT_TYPE)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = retry_after
    return response
