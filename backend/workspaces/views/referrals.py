"""/referrals/: the open referrals of the user's sites. A partner's referral is
matched to a likely duplicate or registered as a new client, then admitted
into a program of its sites or declined with the reason the partner reads; a
referral back into care is admitted into its program or declined. Each action
calls the service the API's /api/v1/referrals/ actions call."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from backend.aftercare.models import ReferralOrigin
from backend.care.models import Client
from backend.network.models import LevelCode
from backend.workspaces import forms
from backend.workspaces.actions import act
from backend.workspaces.views.common import audit_shown, picked_sites
from services import access, workspaces
from services.errors import NotFound
from services.referrals import actions as referral_actions
from services.referrals import partner as partner_referrals

FORM = "workspaces/partials/form.html"


def _url(name: str, referral) -> str:
    return reverse(f"workspaces:referral-{name}", args=[referral.pk])


def referral_forms(request, referral, programs, data=None, only=None) -> dict:
    """The forms of the steps on `referral` now, by name (`only`: that one, bound)."""
    pk = referral.pk
    built = {}

    def want(name):
        return only is None or only == name

    def bound(name):
        return data if only == name else None

    if referral.source == ReferralOrigin.PARTNER:
        sites = set(getattr(referral, "sites", None) or [])
        if referral.client_id is None:
            if only is None:
                # One "this is them" form per likely duplicate, beside the client.
                referral.matches = [
                    (
                        client,
                        forms.MatchForm(
                            initial={"client": client.pk},
                            submit_label=f"This is {client.first_name} {client.last_name}",
                            action=_url("match", referral),
                            form_id=f"match-{pk}-{client.pk}",
                        ),
                    )
                    for client in getattr(referral, "duplicates", [])
                ]
            if only == "match":
                built["match"] = forms.MatchForm(
                    data,
                    submit_label="Match",
                    action=_url("match", referral),
                    form_id=f"match-{pk}-{data.get('client', '')}",
                )
            if want("register"):
                built["register"] = forms.ConfirmForm(
                    bound("register"),
                    submit_label="Register as a new client",
                    action=_url("register", referral),
                    form_id=f"register-{pk}",
                )
        elif want("admit"):
            choices = [p for p in programs if p.site_id in sites]
            built["admit"] = forms.ReferralAdmitForm(
                bound("admit"),
                programs=choices,
                may_override=any(
                    workspaces.may_override_capacity(request.user, p) for p in choices
                ),
                action=_url("admit", referral),
                form_id=f"admit-{pk}",
            )
    elif want("admit") and referral.transfer_id is None:
        built["admit"] = forms.ConfirmForm(
            bound("admit"),
            submit_label=f"Admit into {referral.to_program.name}",
            action=_url("admit", referral),
            form_id=f"admit-{pk}",
        )
    if want("decline") and referral.transfer_id is None:
        built["decline"] = forms.ReasonForm(
            bound("decline"),
            submit_label="Decline",
            action=_url("decline", referral),
            form_id=f"decline-{pk}",
        )
    return built


@require_GET
@login_required
def referrals_page(request):
    sites = workspaces.board_sites(request.user)
    if not sites:
        return render(request, "workspaces/no_role.html", status=403)
    shown = picked_sites(sites, request.GET.get("site"))
    referrals = workspaces.open_referrals(request.user, {s.pk for s in shown})
    programs = [
        p for p in workspaces.programs_for_admission(request.user) if p.level_id != LevelCode.ALUMNI
    ]
    for referral in referrals:
        referral.forms = referral_forms(request, referral, programs)
    audit_shown(request, "referral", ((r.pk, r.client_id or r.pk) for r in referrals))
    audit_shown(
        request,
        "client",
        ((c.pk, c.pk) for r in referrals for c in getattr(r, "duplicates", [])),
    )
    return render(
        request,
        "workspaces/referrals.html",
        {
            "sites": sites,
            "shown": shown,
            "from_partners": [r for r in referrals if r.source == ReferralOrigin.PARTNER],
            "back_into_care": [r for r in referrals if r.source != ReferralOrigin.PARTNER],
        },
    )


def _referral_or_404(request, referral_id):
    referral = workspaces.referral_for_action(request.user, referral_id)
    if referral is None:
        raise Http404("No such referral.")
    return referral


def _step(request, referral_id, name: str, call, message: str, *, success_url=None):
    referral = _referral_or_404(request, referral_id)
    programs = list(workspaces.programs_for_admission(request.user))
    if referral.source == ReferralOrigin.PARTNER:
        referral.sites = access.partner_referral_sites(referral)
    form = referral_forms(request, referral, programs, request.POST, only=name).get(name)
    if form is None:
        # Not a step offered now (a stale page): the service says why.
        form = forms.ConfirmForm(
            request.POST,
            submit_label=name.title(),
            action=_url(name, referral),
            form_id=f"{name}-{referral.pk}",
        )
    return act(
        request,
        form,
        lambda data: call(referral, data),
        success_url=success_url or reverse("workspaces:referrals"),
        success_message=message,
        partial=FORM,
        context={},
        form_id=form.form_id,
    )


def _client(client_id):
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        raise NotFound(field="client")
    return client


@require_POST
@login_required
def referral_match(request, referral_id):
    return _step(
        request,
        referral_id,
        "match",
        lambda referral, data: partner_referrals.partner_referral_match(
            actor=request.user, referral=referral, client=_client(data["client"])
        ),
        "Matched: admit when ready.",
    )


@require_POST
@login_required
def referral_register(request, referral_id):
    return _step(
        request,
        referral_id,
        "register",
        lambda referral, data: partner_referrals.partner_referral_register(
            actor=request.user, referral=referral
        ),
        "Client registered from the referral: admit when ready.",
    )


@require_POST
@login_required
def referral_admit(request, referral_id):
    def call(referral, data):
        return partner_referrals.referral_admit_into(
            actor=request.user,
            referral=referral,
            program=data.get("program"),
            capacity_override_reason=data.get("capacity_override_reason", ""),
        )

    return _step(request, referral_id, "admit", call, "Admitted.")


@require_POST
@login_required
def referral_decline(request, referral_id):
    def call(referral, data):
        if referral.source == ReferralOrigin.PARTNER:
            return partner_referrals.partner_referral_decline(
                actor=request.user, referral=referral, reason=data["reason"]
            )
        return referral_actions.referral_cancel(
            actor=request.user, referral=referral, reason=data["reason"]
        )

    return _step(request, referral_id, "decline", call, "Referral declined.")
