"""Partner systems, the consents that let us disclose to them, and what was disclosed.

A Partner is an organisation outside the network (a hospital's discharge
planning, a payer, another EHR) that calls the partner API with OAuth2 client
credentials. Its credentials are django-oauth-toolkit Applications owned by the
partner's service user (`Partner.user`): a user with no role and no password,
so a partner token reaches no staff data (backend/api/permissions.py refuses
partner tokens on staff endpoints outright).

A Consent is the client's written consent to disclose under 42 CFR Part 2
(§2.31), and a Disclosure is one entry of the client's accounting of
disclosures (§2.25), written in the transaction of the read it records.
docs/consent.md maps each requirement of the rule to these models.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Scope(models.TextChoices):
    AVAILABILITY_READ = "availability:read", "Read de-identified availability"
    REFERRALS_WRITE = "referrals:write", "Send referrals"
    REFERRALS_READ = "referrals:read", "Read the status of the partner's own referrals"
    CLIENTS_READ = "clients:read", "Read consented clients' demographics"
    EPISODES_READ = "episodes:read", "Read consented clients' episodes and levels of care"
    FHIR_READ = "fhir:read", "Read consented clients as FHIR R4"
    WEBHOOKS_MANAGE = "webhooks:manage", "Manage webhook subscriptions"


class RecipientClass(models.TextChoices):
    """The classes a single consent for treatment, payment and health care
    operations may name instead of a recipient by name (§2.31(a)(4)(ii))."""

    TREATING_PROVIDER = "treating_provider", "Treating providers"
    HEALTH_PLAN = "health_plan", "Health plans"
    THIRD_PARTY_PAYER = "third_party_payer", "Third-party payers"
    PROGRAM_OPERATIONS = "program_operations", "Those helping operate the program"


class PartnerKind(models.TextChoices):
    TREATING_PROVIDER = RecipientClass.TREATING_PROVIDER.value, "Treating provider"
    HEALTH_PLAN = RecipientClass.HEALTH_PLAN.value, "Health plan"
    THIRD_PARTY_PAYER = RecipientClass.THIRD_PARTY_PAYER.value, "Third-party payer"
    PROGRAM_OPERATIONS = RecipientClass.PROGRAM_OPERATIONS.value, "Helps operate the program"
    OTHER = "other", "Other (named consents only)"


class Partner(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=30, choices=PartnerKind.choices)
    # The service identity its OAuth2 applications belong to; no role, no password.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="partner"
    )
    scopes = models.JSONField(default=list, blank=True)
    sites = models.ManyToManyField("network.Site", related_name="partners", blank=True)
    # A DRF rate ("120/min"); empty: settings.PARTNER_RATE_LIMIT.
    rate_limit = models.CharField(max_length=20, blank=True)
    contact_email = models.EmailField(blank=True)
    # The browser origins ("https://host[:port]") whose pages may call the partner API,
    # the token endpoint and FHIR across origins (CORS; backend/partners/cors.py).
    # Empty: none. Checked by services.partners.origins_parse.
    allowed_origins = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# What an organisation admin sets about a partner (the admin's form, the API's fields).
PARTNER_SETTINGS = (
    "name",
    "kind",
    "scopes",
    "sites",
    "rate_limit",
    "contact_email",
    "allowed_origins",
    "is_active",
)


class InformationKind(models.TextChoices):
    DEMOGRAPHICS = "demographics", "Demographics"
    EPISODES = "episodes", "Episodes and levels of care"
    TRANSFERS = "transfers", "Transfers"
    AFTERCARE_OUTCOMES = "aftercare_outcomes", "Aftercare outcomes"


class Purpose(models.TextChoices):
    # A single consent for all future treatment, payment and health care operations.
    TPO = "tpo", "Treatment, payment and health care operations"
    TREATMENT = "treatment", "Treatment"
    PAYMENT = "payment", "Payment"
    HEALTH_CARE_OPERATIONS = "health_care_operations", "Health care operations"
    OTHER = "other", "Another purpose (described)"


# The purposes a partner may give for a read; a TPO consent covers each of them.
TPO_PURPOSES = (Purpose.TREATMENT, Purpose.PAYMENT, Purpose.HEALTH_CARE_OPERATIONS)


class ConsentExpiry(models.TextChoices):
    DATE = "date", "On a date"
    END_OF_TREATMENT = "end_of_treatment", "At the end of treatment"
    NONE = "none", "None (TPO consents only)"


class Consent(models.Model):
    """A client's written consent to disclose (42 CFR §2.31)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey("care.Client", on_delete=models.PROTECT, related_name="consents")
    # Who may disclose: one program, or (empty) the whole network.
    disclosing_program = models.ForeignKey(
        "network.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    information_kinds = models.JSONField()
    # The specific description of the information, in the consent's own words.
    information_description = models.TextField()
    recipient_partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    recipient_class = models.CharField(max_length=30, choices=RecipientClass.choices, blank=True)
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    purpose_description = models.TextField(blank=True)
    # §2.31(a)(6): the form states the right to revoke in writing and its exceptions.
    right_to_revoke_stated = models.BooleanField()
    expiry = models.CharField(max_length=20, choices=ConsentExpiry.choices)
    expires_on = models.DateField(null=True, blank=True)
    signed_on = models.DateField()
    # The client, or the person authorised to sign for them (§2.31(a)(8)).
    signed_by = models.CharField(max_length=120)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    document = models.FileField(upload_to="consents/%Y/%m/")
    document_name = models.CharField(max_length=200)
    document_sha256 = models.CharField(max_length=64)
    # §2.31(a)(6), §2.33: revocation, received in writing on a date.
    revoked_on = models.DateField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-signed_on", "-recorded_at", "id"]
        indexes = [models.Index(fields=["client", "revoked_at"], name="consent_client_active")]
        constraints = [
            models.CheckConstraint(condition=Q(purpose__in=Purpose.values), name="consent_purpose"),
            models.CheckConstraint(
                condition=Q(expiry__in=ConsentExpiry.values), name="consent_expiry_valid"
            ),
            # A recipient by name, or (TPO consents only) by class: exactly one.
            models.CheckConstraint(
                condition=(Q(recipient_partner__isnull=False) & Q(recipient_class=""))
                | (Q(recipient_partner__isnull=True) & ~Q(recipient_class="") & Q(purpose="tpo")),
                name="consent_one_recipient",
            ),
            models.CheckConstraint(
                condition=~Q(expiry=ConsentExpiry.NONE) | Q(purpose="tpo"),
                name="consent_no_expiry_only_tpo",
            ),
            models.CheckConstraint(
                condition=Q(expiry=ConsentExpiry.DATE, expires_on__isnull=False)
                | (~Q(expiry=ConsentExpiry.DATE) & Q(expires_on__isnull=True)),
                name="consent_date_iff_expiry_date",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_on__isnull=True)
                | Q(revoked_at__isnull=False, revoked_on__isnull=False),
                name="consent_revocation_complete",
            ),
            models.CheckConstraint(
                condition=~Q(purpose="other") | ~Q(purpose_description=""),
                name="consent_other_purpose_described",
            ),
        ]

    def __str__(self) -> str:
        return f"Consent of {self.client_id} ({self.purpose}, signed {self.signed_on})"


class DisclosureChannel(models.TextChoices):
    API = "api", "Partner API"
    FHIR = "fhir", "FHIR API"
    WEBHOOK = "webhook", "Webhook"


class Disclosure(models.Model):
    """One disclosure to a partner: an entry of the client's accounting (§2.25).
    Append-only: the application never updates or deletes one, and on
    PostgreSQL a trigger refuses UPDATE and DELETE (migration 0001)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    disclosed_at = models.DateTimeField()
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="disclosures")
    client = models.ForeignKey("care.Client", on_delete=models.PROTECT, related_name="disclosures")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="disclosures")
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    information_kinds = models.JSONField()
    # What went out: [{"kind": "episode", "id": "..."}].
    resources = models.JSONField()
    description = models.TextField()
    channel = models.CharField(max_length=10, choices=DisclosureChannel.choices)

    class Meta:
        ordering = ["-disclosed_at", "id"]
        indexes = [models.Index(fields=["client", "-disclosed_at"], name="disclosure_client_at")]

    def __str__(self) -> str:
        return f"{self.disclosed_at:%Y-%m-%d} to {self.partner_id} ({self.purpose})"


class IdempotencyRecord(models.Model):
    """The first response to a partner POST with an Idempotency-Key, kept 24 hours."""

    id = models.BigAutoField(primary_key=True)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # The method, path and body the key was first used with (sha256 hex).
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "key"], name="idempotency_key_per_partner")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.key} ({self.status_code})"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine (within a week)"
    URGENT = "urgent", "Urgent (within 48 hours)"
    EMERGENT = "emergent", "Emergent (today)"


class PartnerReferralStatus(models.TextChoices):
    """Where a partner's referral stands, as the partner reads it (derived from
    the Referral: no column)."""

    RECEIVED = "received", "Received (in the coordinators' queue)"
    ACCEPTED = "accepted", "Accepted (the person is matched to a client)"
    ADMITTED = "admitted", "Admitted"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class PartnerReferral(models.Model):
    """Who a partner referred, as the partner described them: the Referral in
    the coordinators' queue (source "partner") carries no client until a
    coordinator matches this person to one or registers them."""

    referral = models.OneToOneField(
        "aftercare.Referral", on_delete=models.PROTECT, related_name="partner_details"
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="referrals")
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    requested_level = models.ForeignKey(
        "network.LevelOfCare", on_delete=models.PROTECT, related_name="+"
    )
    requested_site = models.ForeignKey(
        "network.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    payer = models.CharField(max_length=120, blank=True)
    clinical_summary = models.TextField(blank=True)
    referrer_name = models.CharField(max_length=120)
    referrer_phone = models.CharField(max_length=40, blank=True)
    referrer_email = models.EmailField(blank=True)
    # The consent under which the partner sends it, where the person signed one
    # (recorded by the partner's reference; coordinators record our own copy).
    consent_reference = models.CharField(max_length=120, blank=True)

    class Meta:
        indexes = [models.Index(fields=["last_name", "date_of_birth"], name="partner_ref_person")]
        constraints = [
            models.CheckConstraint(
                condition=Q(urgency__in=Urgency.values), name="partner_referral_urgency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} referral {self.referral_id}"
