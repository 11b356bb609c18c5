"""How a workspace form acts: shape checked by the form, one service called,
the service's refusal shown in words beside the field it names.

A domain error gets the API's HTTP status (backend/api/errors.py's
DOMAIN_STATUS, so a refusal is a 403 or a 409 here as there) and its message
goes next to the form field it names, or above the form. Every form carries a
one-time token: a second submission of the same form (a double click, a
resubmitted page) finds it spent and acts no more.

With htmx, a success swaps the page's #workspace in place (HX-Location) and an
error swaps the form alone; without JavaScript the same views answer with a
redirect, or with the form on a page of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseLocation, reselect, reswap, retarget

from backend.api.errors import DOMAIN_STATUS
from services.errors import DomainError

ONCE_SECONDS = 6 * 3600
MSG_ALREADY_SENT = "This form was already sent; the page shows what it did."


class OnceForm(forms.Form):
    """A form with the one-time token that makes a second submission a no-op."""

    once = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("once", uuid.uuid4().hex)


def status_of(exc: DomainError) -> int:
    return next(code for cls, code, _title in DOMAIN_STATUS if isinstance(exc, cls))


def show_error(form: forms.Form, exc: DomainError) -> None:
    """The service's message beside the field it names, else above the form."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def _once_key(request, token: str) -> str:
    return f"workspaces:once:{request.user.pk}:{token}"


PENDING = "pending"


def spent(request, form: forms.Form) -> bool:
    """Whether this form's token was sent before (a second submission)."""
    token = form.data.get("once", "")
    return bool(token) and cache.get(_once_key(request, token)) is not None


def act(
    request,
    form: forms.Form,
    call: Callable[[dict], object],
    *,
    success_url: str | Callable[[object], str],
    success_message: str,
    partial: str,
    context: dict,
    form_id: str,
):
    """Validate `form`, then `call(cleaned_data)` once; answer as described above.
    `success_url` may be a function of what `call` returned (a new record's page)."""
    if not form.is_valid():
        return refused(request, form, partial, context, form_id, status=400)
    token = form.cleaned_data.get("once") or ""
    if token and not cache.add(_once_key(request, token), PENDING, ONCE_SECONDS):
        # The first submission's page (once it is known: a new client's), else here.
        first = cache.get(_once_key(request, token))
        messages.info(request, MSG_ALREADY_SENT)
        if first not in (None, PENDING):
            return done(request, first)
        return done(request, success_url if isinstance(success_url, str) else "/")
    try:
        result = call(form.cleaned_data)
    except DomainError as exc:
        if token:
            cache.delete(_once_key(request, token))  # nothing happened: it may be sent again
        show_error(form, exc)
        return refused(request, form, partial, context, form_id, status=status_of(exc))
    url = success_url(result) if callable(success_url) else success_url
    if token:
        cache.set(_once_key(request, token), url, ONCE_SECONDS)
    messages.success(request, success_message)
    return done(request, url)


def done(request, url: str):
    if request.htmx:
        return HttpResponseLocation(url, target="#workspace", select="#workspace", swap="outerHTML")
    return redirect(url)


def refused(request, form, partial: str, context: dict, form_id: str, *, status: int):
    """The form again, with its errors, under the status the API would give."""
    context = {**context, "form": form, "form_id": form_id}
    if request.htmx:
        response = render(request, partial, context, status=status)
        retarget(response, f"#{form_id}")
        reselect(response, f"#{form_id}")
        reswap(response, "outerHTML")
        return response
    return render(
        request, "workspaces/action_page.html", {**context, "partial": partial}, status=status
    )
