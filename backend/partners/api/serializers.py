"""Consents, disclosures and partner reads as JSON: shapes and types only.

Every rule (who may see, what a consent allows, what is recorded) is in
services/consent.py; these classes check the shape of a body and render
what the services return, typed as the schema promises (null where a
record has no value, never "").
"""

import base64
import binascii

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.api.fields import EmptyAsNullChoiceField
from backend.care.models import DischargeType
from backend.network.models import LevelCode, Program
from backend.partners.models import (
    ConsentExpiry,
    DisclosureChannel,
    InformationKind,
    Partner,
    Purpose,
    RecipientClass,
)
from services.consent import PART2_NOTICE, disclosure_description, resources_in_words


def _absolute(request, name: str, pk) -> str:
    path = reverse(name, args=[pk])
    return request.build_absolute_uri(path) if request is not None else path


# --- staff: consents ------------------------------------------------------------


class ConsentSerializer(serializers.Serializer):
    """A consent as staff see it: every element of §2.31, and its state."""

    id = serializers.UUIDField()
    client = serializers.UUIDField(source="client_id")
    disclosing_program = serializers.UUIDField(
        source="disclosing_program_id",
        allow_null=True,
        help_text="The program that may disclose; null: any program of the network.",
    )
    disclosing_program_name = serializers.CharField(
        source="disclosing_program.name", allow_null=True, default=None
    )
    information_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=InformationKind.choices)
    )
    information_description = serializers.CharField()
    recipient_partner = serializers.UUIDField(source="recipient_partner_id", allow_null=True)
    recipient_partner_name = serializers.CharField(
        source="recipient_partner.name", allow_null=True, default=None
    )
    recipient_class = EmptyAsNullChoiceField(choices=RecipientClass.choices)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    purpose_description = serializers.CharField(allow_blank=True)
    right_to_revoke_stated = serializers.BooleanField()
    expiry = serializers.ChoiceField(choices=ConsentExpiry.choices)
    expires_on = serializers.DateField(allow_null=True)
    signed_on = serializers.DateField()
    signed_by = serializers.CharField()
    recorded_by = serializers.CharField(source="recorded_by.username")
    recorded_at = serializers.DateTimeField()
    document_name = serializers.CharField()
    document_sha256 = serializers.CharField(help_text="SHA-256 of the signed document, in hex.")
    document = serializers.SerializerMethodField()
    is_active = serializers.BooleanField(help_text="In force now: signed, not expired or revoked.")
    revoked_on = serializers.DateField(
        allow_null=True, help_text="The day the written revocation was received."
    )
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_by = serializers.CharField(source="revoked_by.username", allow_null=True, default=None)
    revocation_note = serializers.CharField(allow_blank=True)

    @extend_schema_field(serializers.URLField())
    def get_document(self, consent) -> str:
        return _absolute(self.context.get("request"), "consent-document", consent.pk)


class Base64DocumentField(serializers.CharField):
    """The signed document's bytes, base64-encoded in the JSON body."""

    default_error_messages = {"base64": "Must be the file's bytes, base64-encoded."}

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            self.fail("base64")


class ConsentCreateSerializer(serializers.Serializer):
    """The elements of the signed form; the rules are consent_record's."""

    disclosing_program = serializers.PrimaryKeyRelatedField(
        queryset=Program.objects.all(),
        required=False,
        allow_null=True,
        help_text="The program that may disclose; leave out or null for the whole network.",
    )
    information_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=InformationKind.choices), allow_empty=True
    )
    information_description = serializers.CharField(allow_blank=True)
    recipient_partner = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.all(), required=False, allow_null=True
    )
    recipient_class = serializers.ChoiceField(
        choices=RecipientClass.choices, required=False, allow_null=True
    )
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    purpose_description = serializers.CharField(required=False, allow_blank=True, default="")
    right_to_revoke_stated = serializers.BooleanField()
    expiry = serializers.ChoiceField(choices=ConsentExpiry.choices)
    expires_on = serializers.DateField(required=False, allow_null=True)
    signed_on = serializers.DateField()
    signed_by = serializers.CharField(max_length=120, allow_blank=True)
    document = Base64DocumentField(allow_blank=True, help_text="The signed file, base64.")
    document_name = serializers.CharField(max_length=200, allow_blank=True)

    def validate(self, attrs):
        attrs["recipient_class"] = attrs.get("recipient_class") or ""
        return attrs


class ConsentRevokeSerializer(serializers.Serializer):
    received_on = serializers.DateField(help_text="The day the written revocation was received.")
    note = serializers.CharField(required=False, allow_blank=True, default="")


# --- staff: the accounting of disclosures ------------------------------------------


class DisclosedResourceSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="client, episode or placement.")
    id = serializers.CharField()


class DisclosureSerializer(serializers.Serializer):
    """One entry of the accounting (§2.25)."""

    id = serializers.UUIDField()
    disclosed_at = serializers.DateTimeField()
    recipient = serializers.CharField(source="partner.name", help_text="The partner's name.")
    recipient_id = serializers.UUIDField(source="partner_id")
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    purpose_name = serializers.CharField(source="get_purpose_display")
    information_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=InformationKind.choices)
    )
    description = serializers.SerializerMethodField()
    resources = DisclosedResourceSerializer(many=True)
    consent = serializers.UUIDField(source="consent_id")
    channel = serializers.ChoiceField(choices=DisclosureChannel.choices)

    def get_description(self, disclosure) -> str:
        return disclosure_description(disclosure)


# The CSV of the accounting, one row per disclosure.
DISCLOSURE_CSV_COLUMNS = (
    "disclosed_at",
    "recipient",
    "purpose",
    "information",
    "resources",
    "consent",
    "channel",
)


def disclosure_csv_row(disclosure) -> dict:
    return {
        "disclosed_at": disclosure.disclosed_at.isoformat(),
        "recipient": disclosure.partner.name,
        "purpose": disclosure.get_purpose_display(),
        "information": disclosure.description,
        "resources": resources_in_words(disclosure.resources),
        "consent": str(disclosure.consent_id),
        "channel": disclosure.channel,
    }


# --- partners: what is disclosed --------------------------------------------------


class PartnerClientSerializer(serializers.Serializer):
    """A consented client's demographics."""

    id = serializers.UUIDField()
    mrn = serializers.CharField(help_text="Our medical record number.")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    preferred_name = serializers.CharField(allow_blank=True)
    date_of_birth = serializers.DateField()


class PartnerClientRowSerializer(PartnerClientSerializer):
    consent = serializers.SerializerMethodField(
        help_text="The copy of the consent this client's record was disclosed under."
    )

    @extend_schema_field(serializers.URLField())
    def get_consent(self, client) -> str:
        consent = self.context["consents"][client.pk]
        return _absolute(self.context.get("request"), "partner-consent", consent.pk)


class PartnerPlacementSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    level = serializers.ChoiceField(choices=LevelCode.choices, source="program.level_id")
    program_name = serializers.CharField(source="program.name")
    site_name = serializers.CharField(source="program.site.name")
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)


class PartnerEpisodeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    admitted_at = serializers.DateTimeField()
    discharged_at = serializers.DateTimeField(allow_null=True)
    discharge_type = EmptyAsNullChoiceField(choices=DischargeType.choices)
    placements = PartnerPlacementSerializer(
        many=True, source="disclosed", help_text="The stays, each at a level of care, in order."
    )


class PartnerConsentSerializer(serializers.Serializer):
    """The copy of the consent (§2.32(b)): its elements as the form states them."""

    id = serializers.UUIDField()
    client = serializers.UUIDField(source="client_id")
    disclosing_program_name = serializers.CharField(
        source="disclosing_program.name",
        allow_null=True,
        default=None,
        help_text="The program that may disclose; null: any program of the network.",
    )
    information_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=InformationKind.choices)
    )
    information_description = serializers.CharField()
    recipient_partner_name = serializers.CharField(
        source="recipient_partner.name", allow_null=True, default=None
    )
    recipient_class = EmptyAsNullChoiceField(choices=RecipientClass.choices)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    purpose_description = serializers.CharField(allow_blank=True)
    right_to_revoke_stated = serializers.BooleanField()
    expiry = serializers.ChoiceField(choices=ConsentExpiry.choices)
    expires_on = serializers.DateField(allow_null=True)
    signed_on = serializers.DateField()
    signed_by = serializers.CharField()
    revoked_on = serializers.DateField(allow_null=True)
    document_name = serializers.CharField()
    document_sha256 = serializers.CharField()
    document = serializers.SerializerMethodField()
    notice = serializers.SerializerMethodField()

    @extend_schema_field(serializers.URLField())
    def get_document(self, consent) -> str:
        return _absolute(self.context.get("request"), "partner-consent-document", consent.pk)

    @extend_schema_field(OpenApiTypes.STR)
    def get_notice(self, consent) -> str:
        return PART2_NOTICE
