"""/clients/<id>/: one client's journey as a timeline, and the actions on it:
register (from the board), admit, request a transfer, discharge. The
transfer's own steps are in views/transfers.py, follow-ups in views/follow_ups.py.

A client the user may not see is a 404 page, as the API answers. Opening the
page is a read of the record (a `view` row for the client, one for the
journey, a `list` row per follow-up shown). An organisation admin also sees the
latest events of the client's audit trail, read before this visit's own rows are
written; reading the trail is not itself audited, as on GET /api/v1/audit/.
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from backend.audit.models import AuditAction
from backend.workspaces import forms
from backend.workspaces.actions import act, refused, spent
from backend.workspaces.views.board import register_form
from backend.workspaces.views.common import audit_shown
from backend.workspaces.views.transfers import transfer_forms
from services import clients, episodes, transfers, workspaces
from services.errors import ClientNotInCare

FORM = "workspaces/partials/form.html"
REGISTER = "workspaces/partials/register.html"


def _client_or_404(request, client_id):
    client = workspaces.client_for_page(request.user, client_id)
    if client is None:
        raise Http404("No such client.")
    return client


def _page_url(client) -> str:
    return reverse("workspaces:client", args=[client.pk])


def admit_form(request, client, data=None):
    programs = list(workspaces.programs_for_admission(request.user))
    return forms.AdmitForm(
        data,
        programs=programs,
        may_override=bool(workspaces.managed_site_ids(request.user)),
        action=reverse("workspaces:client-admit", args=[client.pk]),
        form_id="admit",
    )


def transfer_request_form(request, client, data=None):
    return forms.TransferRequestForm(
        data,
        programs=list(workspaces.programs_for_transfer()),
        action=reverse("workspaces:client-transfer", args=[client.pk]),
        form_id="transfer-request",
    )


def discharge_form(request, client, data=None):
    return forms.DischargeForm(
        data, action=reverse("workspaces:client-discharge", args=[client.pk]), form_id="discharge"
    )


@require_GET
@login_required
def client_page(request, client_id):
    client = _client_or_404(request, client_id)
    journey = workspaces.client_journey(request.user, client)
    audit = workspaces.client_audit(request.user, client)
    context = {"client": client, "journey": journey, "forms": {}, "audit": audit}
    if audit is not None:
        context["audit_csv"] = f"{reverse('audit')}?{urlencode({'client': client.pk})}&format=csv"
    if journey.sees_record:
        if journey.current_placement is None:
            context["forms"]["admit"] = admit_form(request, client)
        else:
            if journey.active_transfer is None:
                context["forms"]["transfer"] = transfer_request_form(request, client)
            context["forms"]["discharge"] = discharge_form(request, client)
        for transfer in journey.transfers:
            transfer.forms = transfer_forms(request, transfer)
    audit_shown(request, "client", [(client.pk, client.pk)], action=AuditAction.VIEW)
    if journey.sees_record:
        audit_shown(request, "journey", [(client.pk, client.pk)], action=AuditAction.VIEW)
    audit_shown(request, "follow_up", ((f.pk, f.client_id) for f in journey.follow_ups))
    return render(request, "workspaces/client.html", context)


@require_POST
@login_required
def client_register(request):
    sites = workspaces.board_sites(request.user)
    form = register_form(request, sites, request.POST)
    context = {"register_form": form}
    if form.is_valid() and not form.cleaned_data["not_a_duplicate"] and not spent(request, form):
        duplicates = clients.client_duplicates(
            request.user,
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            date_of_birth=form.cleaned_data["date_of_birth"],
        )
        if duplicates:
            # Shown before anything is written: the user opens the existing
            # record, or confirms that this is someone else.
            audit_shown(request, "client", ((c.pk, c.pk) for c in duplicates))
            data = request.POST.copy()
            data["not_a_duplicate"] = "on"
            confirm = register_form(request, sites, data)
            confirm.is_valid()
            confirm.submit_label = "Register anyway"
            return refused(
                request,
                confirm,
                REGISTER,
                {"duplicates": duplicates, "register_form": confirm},
                "register-panel",
                status=200,
            )

    def call(data):
        return clients.client_create(
            actor=request.user,
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            registered_site=data["registered_site"],
            preferred_name=data["preferred_name"],
            phone=data["phone"],
            email=data["email"],
        )

    return act(
        request,
        form,
        call,
        success_url=_page_url,
        success_message="Client registered.",
        partial=REGISTER,
        context=context,
        form_id="register-panel",
    )


@require_POST
@login_required
def client_admit(request, client_id):
    client = _client_or_404(request, client_id)
    form = admit_form(request, client, request.POST)
    return act(
        request,
        form,
        lambda data: episodes.episode_admit(
            actor=request.user,
            client=client,
            program=data["program"],
            referral_source=data["referral_source"],
            capacity_override_reason=data.get("capacity_override_reason", ""),
        ),
        success_url=_page_url(client),
        success_message="Admitted.",
        partial=FORM,
        context={},
        form_id="admit",
    )


@require_POST
@login_required
def client_transfer(request, client_id):
    client = _client_or_404(request, client_id)
    form = transfer_request_form(request, client, request.POST)
    return act(
        request,
        form,
        lambda data: transfers.transfer_request(
            actor=request.user,
            client=client,
            to_program=data["to_program"],
            planned_for=data["planned_for"],
            reason=data["reason"],
            handoff_notes=data["handoff_notes"],
        ),
        success_url=_page_url(client),
        success_message="Transfer requested.",
        partial=FORM,
        context={},
        form_id="transfer-request",
    )


@require_POST
@login_required
def client_discharge(request, client_id):
    client = _client_or_404(request, client_id)
    form = discharge_form(request, client, request.POST)

    def call(data):
        episode = workspaces.open_episode(client)
        if episode is None:
            raise ClientNotInCare()  # discharged meanwhile: the services' own message
        return episodes.episode_discharge(
            actor=request.user,
            episode=episode,
            discharge_type=data["discharge_type"],
            notes=data["notes"],
        )

    return act(
        request,
        form,
        call,
        success_url=_page_url(client),
        success_message="Discharged.",
        partial=FORM,
        context={},
        form_id="discharge",
    )
