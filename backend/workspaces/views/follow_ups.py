"""/follow-ups/: the alumni team's queue (due today, overdue, upcoming), each row
with the client's contact details, consent and contact hours, and the forms
to record an attempt, record the outcome (with a referral back into care) and
reassign. Each calls the service behind POST /api/v1/follow-ups/{id}/..."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from backend.workspaces import forms
from backend.workspaces.actions import act
from backend.workspaces.views.common import audit_shown
from services import workspaces
from services.aftercare import follow_ups

FORM = "workspaces/partials/form.html"


def _back(request) -> str:
    came_from = request.POST.get("back", "")
    if came_from.startswith("/") and not came_from.startswith("//"):
        return came_from
    return reverse("workspaces:follow-ups")


class Choices:
    """What the forms of a page choose from, read once for all its rows."""

    def __init__(self, user):
        self.programs = list(workspaces.referral_programs())
        self.assignees = (
            workspaces.follow_up_assignees(user) if workspaces.may_reassign_follow_ups(user) else []
        )


def follow_up_forms(
    follow_up, choices: Choices, data=None, only: str | None = None, working: bool = True
) -> dict:
    """The row's forms (or the `only` one a POST fills in). An upcoming row
    (`working` False) is not worked yet: only its reassign form is shown."""
    pk = follow_up.pk
    built = {}
    if only in (None, "attempt") and working:
        built["attempt"] = forms.AttemptForm(
            data if only else None,
            action=reverse("workspaces:follow-up-attempt", args=[pk]),
            form_id=f"attempt-{pk}",
        )
    if only in (None, "outcome") and working:
        built["outcome"] = forms.OutcomeForm(
            data if only else None,
            programs=choices.programs,
            action=reverse("workspaces:follow-up-outcome", args=[pk]),
            form_id=f"outcome-{pk}",
        )
    if only == "reassign" or (only is None and choices.assignees):
        built["reassign"] = forms.ReassignForm(
            data if only else None,
            assignees=choices.assignees,
            initial={"assignee": str(follow_up.assignee_id or "")},
            action=reverse("workspaces:follow-up-reassign", args=[pk]),
            form_id=f"reassign-{pk}",
        )
    return built


@require_GET
@login_required
def queue(request):
    user = request.user
    if not workspaces.may_see_follow_ups(user):
        return render(request, "workspaces/no_role.html", status=403)
    mine = request.GET.get("mine") == "1"
    buckets = workspaces.follow_up_queue_page(user, mine=mine)
    choices = Choices(user)
    rows = [f for bucket in buckets.values() for f in bucket]
    for code, bucket in buckets.items():
        for follow_up in bucket:
            follow_up.forms = follow_up_forms(follow_up, choices, working=code != "upcoming")
    audit_shown(request, "follow_up", ((f.pk, f.client_id) for f in rows))
    return render(
        request,
        "workspaces/follow_ups.html",
        {
            "mine": mine,
            "buckets": [
                ("due", "Due today", buckets["due"]),
                ("overdue", "Overdue", buckets["overdue"]),
                ("upcoming", "Upcoming", buckets["upcoming"]),
            ],
            "page_size": workspaces.QUEUE_PAGE,
        },
    )


def _follow_up_or_404(request, follow_up_id):
    follow_up = workspaces.follow_up_for_action(request.user, follow_up_id)
    if follow_up is None:
        raise Http404("No such follow-up.")
    return follow_up


def _action(request, follow_up_id, name, call, message):
    follow_up = _follow_up_or_404(request, follow_up_id)
    form = follow_up_forms(follow_up, Choices(request.user), request.POST, only=name)[name]
    return act(
        request,
        form,
        lambda data: call(follow_up, data),
        success_url=_back(request),
        success_message=message,
        partial=FORM,
        context={},
        form_id=form.form_id,
    )


@require_POST
@login_required
def follow_up_attempt(request, follow_up_id):
    return _action(
        request,
        follow_up_id,
        "attempt",
        lambda follow_up, data: follow_ups.attempt_record(
            actor=request.user,
            follow_up=follow_up,
            channel=data["channel"],
            result=data["result"],
            notes=data["notes"],
        ),
        "Attempt recorded.",
    )


OUTCOME_FIELDS = (
    "reached",
    "self_reported_status",
    "engaged_meetings",
    "engaged_therapy",
    "engaged_medication",
    "needs_housing",
    "needs_employment",
    "needs_readmission",
    "notes",
    "refer_to_program",
    "referral_notes",
)


@require_POST
@login_required
def follow_up_outcome(request, follow_up_id):
    return _action(
        request,
        follow_up_id,
        "outcome",
        lambda follow_up, data: follow_ups.follow_up_complete(
            actor=request.user,
            follow_up=follow_up,
            **{name: data[name] for name in OUTCOME_FIELDS},
        ),
        "Outcome recorded.",
    )


@require_POST
@login_required
def follow_up_reassign(request, follow_up_id):
    return _action(
        request,
        follow_up_id,
        "reassign",
        lambda follow_up, data: follow_ups.follow_up_reassign(
            actor=request.user, follow_up=follow_up, assignee=data["assignee"]
        ),
        "Follow-up reassigned.",
    )
