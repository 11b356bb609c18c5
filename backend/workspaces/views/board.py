"""/board/: a site's care team at work. Clients in care by program, transfers in
and out, hand-offs waiting, a site manager's "needs you", and the forms to
register a client and acknowledge a hand-off. /board/counts/ is the live
refresh of its figures."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from backend.workspaces import forms
from backend.workspaces.views import follow_ups
from backend.workspaces.views.common import audit_shown_kinds, picked_sites
from backend.workspaces.views.transfers import transfer_forms
from services import workspaces


def _sites(request):
    sites = workspaces.board_sites(request.user)
    return sites, (picked_sites(sites, request.GET.get("site")) if sites else [])


def register_form(request, sites, data=None):
    return forms.RegisterForm(
        data,
        sites=sites,
        action=reverse("workspaces:client-register"),
        form_id="register",
    )


def acknowledge_form(handoff, form_id=None):
    return forms.ConfirmForm(
        submit_label="Acknowledge",
        action=reverse("workspaces:handoff-acknowledge", args=[handoff.pk]),
        form_id=form_id or f"ack-{handoff.pk}",
    )


@require_GET
@login_required
def board(request):
    user = request.user
    sites, shown = _sites(request)
    if not sites:
        return render(request, "workspaces/no_role.html", status=403)
    data = workspaces.board(user, shown)
    for handoff in data.handoffs:
        handoff.ack_form = acknowledge_form(handoff)
    needs = workspaces.manager_needs(user) if workspaces.managed_site_ids(user) else None
    if needs:
        # A manager acts from the panel: approve beyond capacity, acknowledge,
        # give an overdue follow-up to someone who will make the call.
        for transfer in needs.full_requests:
            transfer.approve_form = transfer_forms(request, transfer, only="approve").get("approve")
        for handoff in needs.escalated:
            handoff.ack_form = acknowledge_form(handoff, form_id=f"needs-ack-{handoff.pk}")
        choices = follow_ups.Choices(user)
        for follow_up in needs.overdue_follow_ups:
            follow_up.forms = follow_ups.follow_up_forms(follow_up, choices)

    placements = [p for line in data.programs for p in line.placements]
    transfers = [*data.incoming, *data.outgoing, *(needs.full_requests if needs else [])]
    shown_handoffs = [*data.handoffs, *(needs.escalated if needs else [])]
    audit_shown_kinds(
        request,
        {
            "placement": ((p.pk, p.client_id) for p in placements),
            "transfer": ((t.pk, t.client_id) for t in transfers),
            "handoff": ((h.pk, h.transfer.client_id) for h in shown_handoffs),
            "follow_up": ((f.pk, f.client_id) for f in (needs.overdue_follow_ups if needs else [])),
        },
    )

    return render(
        request,
        "workspaces/board.html",
        {
            "sites": sites,
            "shown": shown,
            "site_param": request.GET.get("site", ""),
            "board": data,
            "needs": needs,
            "counts": data.counts,
            "register_form": register_form(request, shown),
        },
    )


@require_GET
@login_required
def board_counts(request):
    """The figures alone, for the board's refresh every minute: they name no
    client, so nothing here is a read to audit."""
    sites, shown = _sites(request)
    if not sites:
        return render(request, "workspaces/no_role.html", status=403)
    return render(
        request,
        "workspaces/partials/counts.html",
        {
            "counts": workspaces.board_counts(request.user, shown),
            "site_param": request.GET.get("site", ""),
        },
    )
