"""Signed-in sessions end after a spell without the user's own requests.

HIPAA workstations lock after inactivity; a browser left open on a board
must not stay signed in. Each request the user makes stamps the session; a
request made more than SESSION_IDLE_TIMEOUT_MINUTES after the last stamp
signs the user out first, and is answered as for anyone not signed in (the
sign-in page, which then says why). The board's own background refresh
(`X-Background-Refresh`, sent by its polling element) is answered but does not
stamp, so a board nobody touches still times out.
"""

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse

LAST_SEEN = "workspaces_last_seen"
MSG_TIMED_OUT = (
    "You were signed out after {minutes} minutes without activity. Please sign in again."
)
BACKGROUND_HEADER = "HTTP_X_BACKGROUND_REFRESH"


class IdleSessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            last_seen = request.session.get(LAST_SEEN)
            limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            if last_seen is not None and now - last_seen > limit:
                logout(request)  # flushes the session; request.user is anonymous now
                messages.info(
                    request, MSG_TIMED_OUT.format(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES)
                )
                if request.headers.get("HX-Request"):
                    # An in-page request (the board's refresh): the whole page
                    # goes to the sign-in form, not a fragment of it.
                    response = HttpResponse(status=204)
                    page = urlsplit(request.headers.get("HX-Current-URL", "/")).path or "/"
                    response["HX-Redirect"] = redirect_to_login(page)["Location"]
                    return response
            elif not request.META.get(BACKGROUND_HEADER):
                request.session[LAST_SEEN] = now
        return self.get_response(request)
