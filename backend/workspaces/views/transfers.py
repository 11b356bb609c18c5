"""/transfers/: the transfers of the user's sites, in and out, with their steps:
approve or decline (the receiving side), cancel (the sending side), acknowledge
the hand-off and tick its checklist, complete on arrival. The same steps are
on the client's page; each calls the service the API calls."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from backend.care.models import TransferStatus
from backend.handoffs.models import HandoffStatus
from backend.workspaces import forms
from backend.workspaces.actions import act
from backend.workspaces.views.common import audit_shown, picked_sites
from services import handoffs, transfers, workspaces

FORM = "workspaces/partials/form.html"


def _back(request, fallback: str) -> str:
    """Back to the page the form was on: the client's, or /transfers/."""
    came_from = request.POST.get("back", "")
    return came_from if came_from.startswith("/") and not came_from.startswith("//") else fallback


def transfer_forms(request, transfer, data=None, only: str | None = None) -> dict:
    """The forms of the steps the user may take on `transfer` now, by name."""
    sending, receiving = workspaces.transfer_sides(request.user, transfer)
    pk = transfer.pk
    built = {}

    def want(name):
        return only is None or only == name

    def bound(name):
        return data if only == name else None

    if transfer.status == TransferStatus.REQUESTED and receiving and want("approve"):
        built["approve"] = forms.ApproveForm(
            bound("approve"),
            may_override=workspaces.may_override_capacity(request.user, transfer.to_program),
            action=reverse("workspaces:transfer-approve", args=[pk]),
            form_id=f"approve-{pk}",
        )
    if transfer.status in (TransferStatus.REQUESTED, TransferStatus.APPROVED):
        if receiving and want("decline"):
            built["decline"] = forms.ReasonForm(
                bound("decline"),
                submit_label="Decline",
                action=reverse("workspaces:transfer-decline", args=[pk]),
                form_id=f"decline-{pk}",
            )
        if sending and want("cancel"):
            built["cancel"] = forms.ReasonForm(
                bound("cancel"),
                submit_label="Cancel transfer",
                action=reverse("workspaces:transfer-cancel", args=[pk]),
                form_id=f"cancel-{pk}",
            )
    if transfer.status == TransferStatus.APPROVED and receiving:
        if want("complete"):
            built["complete"] = forms.CompleteForm(
                bound("complete"),
                action=reverse("workspaces:transfer-complete", args=[pk]),
                form_id=f"complete-{pk}",
            )
        handoff = getattr(transfer, "handoff", None)
        if handoff is not None and handoff.status in (
            HandoffStatus.OPEN,
            HandoffStatus.ACKNOWLEDGED,
        ):
            if handoff.status == HandoffStatus.OPEN and want("acknowledge"):
                built["acknowledge"] = forms.ConfirmForm(
                    submit_label="Acknowledge hand-off",
                    action=reverse("workspaces:handoff-acknowledge", args=[handoff.pk]),
                    form_id=f"ack-{handoff.pk}",
                )
            if only is None:
                for item in handoff.items.all():
                    if item.completed_at is None:
                        item.tick_form = forms.TickForm(
                            item_label=item.label,
                            action=reverse(
                                "workspaces:handoff-item-tick", args=[handoff.pk, item.pk]
                            ),
                            form_id=f"tick-{item.pk}",
                        )
    return built


@require_GET
@login_required
def transfers_page(request):
    sites = workspaces.board_sites(request.user)
    if not sites:
        return render(request, "workspaces/no_role.html", status=403)
    shown = picked_sites(sites, request.GET.get("site"))
    site_ids = {site.pk for site in shown}
    active = list(workspaces.transfers_with_steps(request.user, site_ids))
    for transfer in active:
        transfer.forms = transfer_forms(request, transfer)
        transfer.incoming = transfer.to_program.site_id in site_ids
    recent = list(workspaces.recent_transfers(request.user, site_ids))
    for transfer in recent:
        transfer.age = transfer.updated_at - transfer.requested_at
    audit_shown(request, "transfer", ((t.pk, t.client_id) for t in [*active, *recent]))
    return render(
        request,
        "workspaces/transfers.html",
        {
            "sites": sites,
            "shown": shown,
            "incoming": [t for t in active if t.incoming],
            "outgoing": [t for t in active if not t.incoming],
            "recent": recent,
        },
    )


def _transfer_or_404(request, transfer_id):
    transfer = workspaces.transfer_for_action(request.user, transfer_id)
    if transfer is None:
        raise Http404("No such transfer.")
    return transfer


def _step(request, transfer_id, name: str, call, message: str):
    transfer = _transfer_or_404(request, transfer_id)
    form = transfer_forms(request, transfer, request.POST, only=name).get(name)
    if form is None:
        # Not a step this user may take now: the service says why, in words.
        form = _any_form(name, transfer, request.POST)
    return act(
        request,
        form,
        lambda data: call(transfer, data),
        success_url=_back(request, reverse("workspaces:transfers")),
        success_message=message,
        partial=FORM,
        context={},
        form_id=form.form_id,
    )


def _any_form(name, transfer, data):
    """The step's form for a user it is not offered to (a stale page): the
    service decides, and its refusal (403, 409) is shown on the form."""
    pk = transfer.pk
    url = reverse(f"workspaces:transfer-{name}", args=[pk])
    if name == "approve":
        return forms.ApproveForm(data, may_override=True, action=url, form_id=f"approve-{pk}")
    if name == "complete":
        return forms.CompleteForm(data, action=url, form_id=f"complete-{pk}")
    return forms.ReasonForm(data, submit_label=name.title(), action=url, form_id=f"{name}-{pk}")


@require_POST
@login_required
def transfer_approve(request, transfer_id):
    return _step(
        request,
        transfer_id,
        "approve",
        lambda transfer, data: transfers.transfer_approve(
            actor=request.user,
            transfer=transfer,
            reason=data["reason"],
            capacity_override_reason=data.get("capacity_override_reason", ""),
        ),
        "Transfer approved: the place is reserved and the hand-off is open.",
    )


@require_POST
@login_required
def transfer_decline(request, transfer_id):
    return _step(
        request,
        transfer_id,
        "decline",
        lambda transfer, data: transfers.transfer_decline(
            actor=request.user, transfer=transfer, reason=data["reason"]
        ),
        "Transfer declined.",
    )


@require_POST
@login_required
def transfer_cancel(request, transfer_id):
    return _step(
        request,
        transfer_id,
        "cancel",
        lambda transfer, data: transfers.transfer_cancel(
            actor=request.user, transfer=transfer, reason=data["reason"]
        ),
        "Transfer cancelled.",
    )


@require_POST
@login_required
def transfer_complete(request, transfer_id):
    return _step(
        request,
        transfer_id,
        "complete",
        lambda transfer, data: transfers.transfer_complete(
            actor=request.user,
            transfer=transfer,
            handoff_override_reason=data["handoff_override_reason"],
        ),
        "Transfer completed: the client is in the new program.",
    )


def _handoff_or_404(request, handoff_id):
    handoff = workspaces.handoff_for_action(request.user, handoff_id)
    if handoff is None:
        raise Http404("No such hand-off.")
    return handoff


@require_POST
@login_required
def handoff_acknowledge(request, handoff_id):
    handoff = _handoff_or_404(request, handoff_id)
    # The same hand-off may be acknowledged from its card or from a manager's
    # "needs you" panel: a refusal goes back to the form it was sent from.
    sent_from = request.POST.get("form_id", "")
    panels = (f"ack-{handoff.pk}", f"needs-ack-{handoff.pk}")
    form = forms.ConfirmForm(
        request.POST,
        submit_label="Acknowledge hand-off",
        action=reverse("workspaces:handoff-acknowledge", args=[handoff.pk]),
        form_id=sent_from if sent_from in panels else panels[0],
    )
    return act(
        request,
        form,
        lambda data: handoffs.handoff_acknowledge(actor=request.user, handoff=handoff),
        success_url=_back(request, reverse("workspaces:board")),
        success_message="Hand-off acknowledged.",
        partial=FORM,
        context={},
        form_id=form.form_id,
    )


@require_POST
@login_required
def handoff_item_tick(request, handoff_id, item_id):
    handoff = _handoff_or_404(request, handoff_id)
    form = forms.TickForm(
        request.POST,
        action=reverse("workspaces:handoff-item-tick", args=[handoff.pk, item_id]),
        form_id=f"tick-{item_id}",
    )
    return act(
        request,
        form,
        lambda data: handoffs.handoff_item_complete(
            actor=request.user, handoff=handoff, item_id=item_id, note=data["note"]
        ),
        success_url=_back(request, reverse("workspaces:transfers")),
        success_message="Checklist item ticked.",
        partial=FORM,
        context={},
        form_id=form.form_id,
    )
