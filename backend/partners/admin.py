"""The back office of partner systems and consents, for organisation admins.

A partner is created through `services.partners.partner_create`, so its
secret is generated, stored hashed and shown once (a message on the page
after saving). Consents and disclosures are clinical records: read-only here
and audited as reads; consents are recorded and revoked through the API,
whose services check every element of §2.31.
"""

from django import forms
from django.contrib import admin, messages

from backend.accounts.admin_access import AuditedReads, OrganisationAdminOnly
from backend.partners.models import Consent, Disclosure, Partner, PartnerReferral
from services import access
from services.errors import DomainError
from services.partners import credential_add, credentials_of, partner_create, scopes_parse


class PartnerForm(forms.ModelForm):
    class Meta:
        model = Partner
        fields = ["name", "kind", "scopes", "sites", "rate_limit", "contact_email", "is_active"]

    def clean_scopes(self):
        try:
            return scopes_parse(list(self.cleaned_data["scopes"] or []))
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


@admin.register(Consent)
class ConsentAdmin(AuditedReads, ReadOnly, admin.ModelAdmin):
    audit_object_type = "consent"
    list_display = ["client", "purpose", "recipient_partner", "recipient_class", "signed_on"]
    list_filter = ["purpose", "expiry"]
    raw_id_fields = ["client"]


@admin.register(Disclosure)
class DisclosureAdmin(AuditedReads, ReadOnly, admin.ModelAdmin):
    audit_object_type = "disclosure"
    list_display = ["disclosed_at", "partner", "client", "purpose", "channel"]
    list_filter = ["channel", "purpose"]


@admin.register(PartnerReferral)
class PartnerReferralAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["partner", "requested_level", "requested_site", "urgency"]
