"""The back office of partner systems and consents, for organisation admins.

A partner is created through `services.partners.partner_create`, so its
secret is generated, stored hashed and shown once (a message on the page
after saving). Consents and disclosures are clinical records, audited as reads. A consent
is recorded here through `services.consent.consent_record` (the form only
collects the elements; every rule of §2.31 is the service's, and its errors
are shown beside their fields) and revoked through `consent_revoke` (an
action); a recorded consent is never edited. Disclosures are read-only.
"""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from backend.accounts.admin_access import AuditedReads, OrganisationAdminOnly
from backend.partners.models import (
    PARTNER_SETTINGS,
    Consent,
    Disclosure,
    InformationKind,
    Partner,
    PartnerReferral,
)
from services import access
from services import consent as consents
from services.clock import site_today
from services.errors import DomainError
from services.partners import (
    credential_add,
    credentials_of,
    origins_parse,
    partner_create,
    scopes_parse,
)


class OriginsField(forms.CharField):
    """A partner's browser origins, one a line (the model keeps a JSON list)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class PartnerForm(forms.ModelForm):
    allowed_origins = OriginsField(
        required=False,
        help_text="Browser origins whose pages may call the partner API, the token endpoint "
        "and FHIR (CORS), one a line: https://app.example.org[:port]; http only for "
        "http://localhost. Empty: none.",
    )

    class Meta:
        model = Partner
        fields = list(PARTNER_SETTINGS)

    def clean_scopes(self):
        try:
            return scopes_parse(list(self.cleaned_data["scopes"] or []))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_allowed_origins(self):
        try:
            return origins_parse(self.cleaned_data["allowed_origins"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


class OrganisationAdminEdits(OrganisationAdminOnly):
    def _is_org_admin(self, request) -> bool:
        return access.access_scope(request.user).is_org_admin

    def has_add_permission(self, request, *args):
        return self._is_org_admin(request)

    def has_change_permission(self, request, obj=None):
        return self._is_org_admin(request)

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnly(OrganisationAdminOnly):
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Partner)
class PartnerAdmin(OrganisationAdminEdits, admin.ModelAdmin):
    list_display = ["name", "kind", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    form = PartnerForm
    filter_horizontal = ["sites"]
    actions = ["issue_credential"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # The form checked name, kind and scopes; the sites follow in save_related.
        partner, credential = partner_create(
            name=obj.name,
            kind=obj.kind,
            scopes=obj.scopes,
            sites=[],
            contact_email=obj.contact_email,
            rate_limit=obj.rate_limit,
            allowed_origins=obj.allowed_origins,
        )
        obj.pk = partner.pk
        obj.user_id = partner.user_id
        obj.created_at = partner.created_at
        obj._state.adding = False
        messages.warning(
            request,
            f"client_id={credential.client_id} client_secret={credential.client_secret} "
            "(the secret is shown once; it is stored hashed).",
        )

    @admin.action(description="Issue another credential (rotation)")
    def issue_credential(self, request, queryset):
        for partner in queryset:
            credential = credential_add(partner=partner)
            messages.warning(
                request,
                f"{partner.name}: client_id={credential.client_id} "
                f"client_secret={credential.client_secret} (shown once). Revoke the old "
                f"credential once the partner has switched ({credentials_of(partner).count()} "
                "now active).",
            )


class ConsentRecordForm(forms.ModelForm):
    """Collects the elements of the signed form; consent_record judges them."""

    information_kinds = forms.MultipleChoiceField(
        choices=InformationKind.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    document = forms.FileField(required=False)

    class Meta:
        model = Consent
        fields = [
            "client",
            "disclosing_program",
            "information_kinds",
            "information_description",
            "recipient_partner",
            "recipient_class",
            "purpose",
            "purpose_description",
            "right_to_revoke_stated",
            "expiry",
            "expires_on",
            "signed_on",
            "signed_by",
            "document",
        ]

    actor = None  # set by ConsentAdmin.get_form
    recorded: Consent | None = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        upload = data.get("document")
        try:
            self.recorded = consents.consent_record(
                actor=self.actor,
                client=data["client"],
                disclosing_program=data.get("disclosing_program"),
                information_kinds=data.get("information_kinds") or [],
                information_description=data.get("information_description") or "",
                recipient_partner=data.get("recipient_partner"),
                recipient_class=data.get("recipient_class") or "",
                purpose=data.get("purpose") or "",
                purpose_description=data.get("purpose_description") or "",
                right_to_revoke_stated=bool(data.get("right_to_revoke_stated")),
                expiry=data.get("expiry") or "",
                expires_on=data.get("expires_on"),
                signed_on=data["signed_on"],
                signed_by=data.get("signed_by") or "",
                document=upload.read() if upload else b"",
                document_name=upload.name if upload else "",
            )
        except DomainError as exc:
            field = exc.field if exc.field in self.fields else None
            self.add_error(field, exc.message)
        return data

    def _post_clean(self):
        # The model's own checks would run on a half-built instance; the service
        # has checked everything and written the row.
        pass


@admin.register(Consent)
class ConsentAdmin(AuditedReads, OrganisationAdminOnly, admin.ModelAdmin):
    audit_object_type = "consent"
    list_display = [
        "client",
        "purpose",
        "recipient_partner",
        "recipient_class",
        "signed_on",
        "revoked_on",
    ]
    list_filter = ["purpose", "expiry"]
    raw_id_fields = ["client"]
    form = ConsentRecordForm
    actions = ["revoke_received_today"]

    def has_add_permission(self, request):
        return access.access_scope(request.user).is_org_admin

    def has_change_permission(self, request, obj=None):
        return False  # recorded once; revoked by the action, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        # consent_record wrote it while the form was judged; show that row.
        recorded = form.recorded
        obj.pk = recorded.pk
        obj.__dict__.update({f.attname: getattr(recorded, f.attname) for f in Consent._meta.fields})
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        pass

    @admin.action(description="Record a written revocation received today")
    def revoke_received_today(self, request, queryset):
        for consent in queryset.select_related("client__registered_site"):
            try:
                consents.consent_revoke(
                    actor=request.user,
                    consent=consent,
                    received_on=site_today(consent.client.registered_site, timezone.now()),
                )
            except DomainError as exc:
                messages.error(request, f"{consent}: {exc.message}")
            else:
                messages.success(request, f"{consent}: revoked.")


@admin.register(Disclosure)
class DisclosureAdmin(AuditedReads, ReadOnly, admin.ModelAdmin):
    audit_object_type = "disclosure"
    list_display = ["disclosed_at", "partner", "client", "purpose", "channel"]
    list_filter = ["channel", "purpose"]


@admin.register(PartnerReferral)
class PartnerReferralAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["partner", "requested_level", "requested_site", "urgency"]
