"""Aftercare over HTTP: input serializers check shape and types, output
serializers render. The rules (consent per channel, due days, who may act,
what an outcome may say) are services/aftercare.py's; none is repeated here.

Follow-ups are records of clients in substance-use treatment (42 CFR Part 2):
they carry only what the alumni team needs to make the call (who, how to
reach them, on which channels and at which hours they agreed to be
contacted), never the date of birth, the address or the clinical record.
"""

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.aftercare.models import (
    AftercarePlan,
    AlumniTeamMembership,
    AttemptResult,
    ContactAttempt,
    ContactChannel,
    FollowUp,
    Referral,
    SelfReportedStatus,
)
from backend.api.fields import EmptyAsNullChoiceField, nested_serializer
from backend.api.filters import QuerySerializer
from backend.care.api.serializers import program_field
from backend.care.models import Client
from backend.partners.models import PartnerReferral
from services.aftercare.queue import QueueBucket
from services.clock import site_today


def contact_days_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(),
        help_text="ISO weekdays, 1 (Monday) to 7 (Sunday); empty for any day.",
        **kwargs,
    )


# The channels a plan may consent to (in person needs no consent).
CONSENT_CHANNELS = [
    (channel.value, channel.label)
    for channel in (ContactChannel.PHONE, ContactChannel.SMS, ContactChannel.EMAIL)
]


def _username(source: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(source=f"{source}.username", read_only=True, **kwargs)


# --- the client, as aftercare shows them ---------------------------------------


class ClientSummarySerializer(serializers.ModelSerializer):
    """Who the record is about: enough to recognise them, nothing clinical."""

    class Meta:
        model = Client
        fields = ["id", "mrn", "first_name", "last_name", "preferred_name"]
        read_only_fields = fields


class FollowUpClientSerializer(ClientSummarySerializer):
    """The client as the caller needs them: who, and the numbers to reach them."""

    class Meta(ClientSummarySerializer.Meta):
        fields = [*ClientSummarySerializer.Meta.fields, "phone", "email"]
        read_only_fields = fields
        # A read-only field loses the model's blank=True, and the schema would say
        # every email is an address; many clients have none ("").
        extra_kwargs = {"email": {"allow_blank": True}}


# --- referrals -----------------------------------------------------------------


class PartnerReferralDetailsSerializer(serializers.ModelSerializer):
    """Who a partner referred, as the partner described them (a partner's
    referral carries no client until a coordinator matches or registers one)."""

    partner = serializers.UUIDField(source="partner_id", read_only=True)
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    requested_level = serializers.CharField(source="requested_level_id", read_only=True)
    requested_site = serializers.UUIDField(
        source="requested_site_id", read_only=True, allow_null=True
    )

    class Meta:
        model = PartnerReferral
        fields = [
            "partner",
            "partner_name",
            "first_name",
            "last_name",
            "date_of_birth",
            "phone",
            "email",
            "requested_level",
            "requested_site",
            "urgency",
            "payer",
            "clinical_summary",
            "referrer_name",
            "referrer_phone",
            "referrer_email",
            "consent_reference",
        ]
        read_only_fields = fields
        extra_kwargs = {
            field: {"allow_blank": True}
            for field in (
                "phone",
                "email",
                "payer",
                "clinical_summary",
                "referrer_phone",
                "referrer_email",
                "consent_reference",
            )
        }


class ReferralSerializer(serializers.ModelSerializer):
    client = ClientSummarySerializer(
        read_only=True,
        allow_null=True,
        help_text="Null for a partner's referral until the person is matched or registered.",
    )
    to_program_name = serializers.CharField(
        source="to_program.name", read_only=True, allow_null=True
    )
    to_site = serializers.UUIDField(source="to_program.site_id", read_only=True, allow_null=True)
    to_level = serializers.CharField(source="to_program.level_id", read_only=True, allow_null=True)
    created_by = _username("created_by")
    partner = PartnerReferralDetailsSerializer(
        source="partner_details",
        read_only=True,
        allow_null=True,
        help_text="The person and the referrer, for a partner's referral (source `partner`).",
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "client",
            "from_episode",
            "from_follow_up",
            "to_program",
            "to_program_name",
            "to_site",
            "to_level",
            "source",
            "status",
            "notes",
            "created_at",
            "created_by",
            "new_episode",
            "transfer",
            "closed_at",
            "cancelled_reason",
            "partner",
        ]
        read_only_fields = fields


class ReferralAdmitSerializer(serializers.Serializer):
    program = serializers.UUIDField(
        required=False,
        help_text=(
            "A partner's referral only (required there): the program of one of its sites "
            "to admit into. A referral back into care admits into its own program."
        ),
    )
    admitted_at = serializers.DateTimeField(required=False, help_text="Default: now.")
    capacity_override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Site managers of the program's site only: admit beyond capacity.",
    )


class ReferralMatchSerializer(serializers.Serializer):
    client = serializers.UUIDField(help_text="The client this person is (one you may see).")


class ReferralRegisterSerializer(serializers.Serializer):
    registered_site = serializers.UUIDField(
        required=False,
        help_text="Where to register the new client; default: the site the partner asked for.",
    )


class ReferralCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=Referral._meta.get_field("cancelled_reason").max_length,
        help_text="Required: why it is withdrawn or declined.",
    )


# --- follow-ups ----------------------------------------------------------------


class ContactAttemptSerializer(serializers.ModelSerializer):
    by = _username("by")

    class Meta:
        model = ContactAttempt
        fields = ["id", "channel", "result", "at", "notes", "by", "recorded_at"]
        read_only_fields = fields


class FollowUpPlanSerializer(serializers.ModelSerializer):
    """How the client may be contacted; the whole plan is at the client's
    `aftercare-plan/`."""

    consented_channels = serializers.ListField(
        child=serializers.ChoiceField(choices=CONSENT_CHANNELS),
        read_only=True,
        help_text="The channels the client agreed to (none without consent to contact).",
    )
    contact_days = contact_days_field(read_only=True)
    time_zone = serializers.SerializerMethodField(
        help_text="The zone of the contact hours: the responsible site's."
    )

    class Meta:
        model = AftercarePlan
        fields = [
            "id",
            "consent_to_contact",
            "consented_channels",
            "contact_hours_from",
            "contact_hours_to",
            "contact_days",
            "time_zone",
        ]
        read_only_fields = fields

    def get_time_zone(self, plan) -> str:
        return self.context["time_zone"]


class FollowUpSerializer(serializers.ModelSerializer):
    client = FollowUpClientSerializer(read_only=True)
    site_name = serializers.CharField(source="site.name", read_only=True)
    site_today = serializers.SerializerMethodField(
        help_text="Today's date at the follow-up's site: compare with `due_on`."
    )
    from_program_name = serializers.CharField(source="from_program.name", read_only=True)
    from_level = serializers.CharField(source="from_program.level_id", read_only=True)
    assignee_username = serializers.CharField(
        source="assignee.username", read_only=True, allow_null=True
    )
    completed_by = _username("completed_by", allow_null=True)
    plan = serializers.SerializerMethodField()
    attempts = ContactAttemptSerializer(many=True, read_only=True)
    referral = serializers.SerializerMethodField(
        help_text="The referral back into care this follow-up opened, or null."
    )
    self_reported_status = EmptyAsNullChoiceField(
        choices=SelfReportedStatus.choices,
        read_only=True,
        help_text="What the client said of themselves; null until an outcome says it.",
    )

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "client",
            "episode",
            "milestone",
            "milestone_name",
            "status",
            "anchor_at",
            "due_on",
            "window_ends_on",
            "site",
            "site_name",
            "site_today",
            "from_program",
            "from_program_name",
            "from_level",
            "assignee",
            "assignee_username",
            "plan",
            "attempts",
            "completed_at",
            "completed_by",
            "reached",
            "self_reported_status",
            "engaged_meetings",
            "engaged_therapy",
            "engaged_medication",
            "needs_housing",
            "needs_employment",
            "needs_readmission",
            "notes",
            "referral",
            "ended_at",
            "ended_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DATE)
    def get_site_today(self, follow_up):
        # The queue annotates it (one value per site-local day); a single
        # follow-up, or the completed bucket, computes it from the clock.
        today = getattr(follow_up, "site_today", None) or site_today(
            follow_up.site, self.context["now"]
        )
        return today.isoformat()

    @extend_schema_field(FollowUpPlanSerializer)
    def get_plan(self, follow_up):
        plans = nested_serializer(self, FollowUpPlanSerializer, time_zone=follow_up.site.time_zone)
        return plans.to_representation(follow_up.plan)

    @extend_schema_field(ReferralSerializer(allow_null=True))
    def get_referral(self, follow_up):
        # select_related("referral") in the view: no query per follow-up.
        referral = getattr(follow_up, "referral", None)
        if referral is None:
            return None
        return nested_serializer(self, ReferralSerializer).to_representation(referral)


class FollowUpQuerySerializer(QuerySerializer):
    """The queue's query string."""

    status = serializers.ChoiceField(
        choices=[(bucket.value, bucket.value) for bucket in QueueBucket],
        default=QueueBucket.DUE.value,
        help_text=(
            "The bucket, by the day at each follow-up's site: `due` (its window is open "
            "today; the default), `overdue` (the window closed without an outcome), "
            "`upcoming` (not due yet), `completed`."
        ),
    )
    assignee = serializers.CharField(
        required=False, help_text="`me`, or a user id: only that person's follow-ups."
    )
    site = serializers.UUIDField(required=False, help_text="Only this responsible site's.")

    def validate_assignee(self, value):
        if value == "me":
            return self.context["request"].user
        # ASCII digits only: str.isdigit() also takes "²" and "①" (which int()
        # refuses) and "٣" (which int() reads as 3).
        if not (value.isascii() and value.isdigit()):
            raise serializers.ValidationError('Must be "me" or a user id.')
        user = get_user_model().objects.filter(pk=int(value)).first()
        if user is None:
            raise serializers.ValidationError("User not found.", code="does_not_exist")
        return user


class AttemptSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ContactChannel.choices)
    result = serializers.ChoiceField(choices=AttemptResult.choices)
    at = serializers.DateTimeField(
        required=False,
        help_text="When it was made (default: now); not in the future, not before the discharge.",
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class FollowUpCompleteSerializer(serializers.Serializer):
    reached = serializers.BooleanField(help_text="Was the client (not someone else) reached?")
    self_reported_status = serializers.ChoiceField(
        choices=SelfReportedStatus.choices,
        required=False,
        allow_blank=True,
        help_text="Required when reached; when not reached only `deceased`.",
    )
    engaged_meetings = serializers.BooleanField(required=False)
    engaged_therapy = serializers.BooleanField(required=False)
    engaged_medication = serializers.BooleanField(required=False)
    needs_housing = serializers.BooleanField(required=False)
    needs_employment = serializers.BooleanField(required=False)
    needs_readmission = serializers.BooleanField(
        required=False, help_text="Refer the client back into care: give `refer_to_program`."
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    refer_to_program = program_field(
        required=False,
        allow_null=True,
        help_text="With `needs_readmission`: the treatment program to refer the client to.",
    )
    referral_notes = serializers.CharField(
        required=False, allow_blank=True, help_text="For the receiving team."
    )


class AssigneeField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": "User not found."}

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.IntegerField())
        super().__init__(queryset=get_user_model().objects.all(), **kwargs)


class ReassignSerializer(serializers.Serializer):
    assignee = AssigneeField(
        allow_null=True, help_text="The user id of an alumni coordinator; null unassigns."
    )


class BulkReassignSerializer(ReassignSerializer):
    follow_ups = serializers.ListField(
        child=serializers.UUIDField(),
        allow_empty=False,
        help_text="Follow-up ids: all are reassigned, or none.",
    )


# --- who follow-ups may be given to -------------------------------------------


class FollowUpAssigneeQuerySerializer(QuerySerializer):
    site = serializers.UUIDField(
        required=False,
        help_text="Only the members of this site's alumni team (a site whose follow-ups "
        "you may reassign).",
    )


class AlumniTeamMembershipSerializer(serializers.ModelSerializer):
    site_name = serializers.CharField(source="site.name", read_only=True)

    class Meta:
        model = AlumniTeamMembership
        fields = ["site", "site_name", "is_lead"]
        read_only_fields = fields
        extra_kwargs = {
            "is_lead": {"help_text": "An alumni lead of the site: hears of its escalations."}
        }


class FollowUpAssigneeSerializer(serializers.ModelSerializer):
    """An alumni coordinator, as someone to give follow-ups to."""

    full_name = serializers.CharField(source="get_full_name", read_only=True)
    alumni_teams = AlumniTeamMembershipSerializer(
        source="alumni_memberships",
        many=True,
        read_only=True,
        help_text="The sites whose alumni team they are on (each site's follow-ups go to its "
        "team first).",
    )
    open_follow_ups = serializers.IntegerField(
        read_only=True,
        help_text="Their scheduled and due follow-ups, at every site: the load that "
        "automatic assignment balances.",
    )

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "full_name", "alumni_teams", "open_follow_ups"]
        read_only_fields = fields


# --- the plan ------------------------------------------------------------------


class AftercarePlanSerializer(serializers.ModelSerializer):
    consented_channels = serializers.ListField(
        child=serializers.ChoiceField(choices=CONSENT_CHANNELS),
        read_only=True,
        help_text="The channels the client agreed to (none without consent to contact).",
    )
    contact_days = contact_days_field(read_only=True)
    created_by = _username("created_by", allow_null=True)
    updated_by = _username("updated_by", allow_null=True)

    class Meta:
        model = AftercarePlan
        fields = [
            "id",
            "client",
            "episode",
            "outpatient_therapist",
            "outpatient_therapist_details",
            "mutual_help_meetings",
            "mutual_help_meetings_details",
            "medication_for_addiction_treatment",
            "medication_for_addiction_treatment_details",
            "sober_living",
            "sober_living_details",
            "other_supports",
            "relapse_prevention_notes",
            "emergency_contact_name",
            "emergency_contact_phone",
            "emergency_contact_relationship",
            "consent_to_contact",
            "consent_phone",
            "consent_sms",
            "consent_email",
            "consented_channels",
            "contact_hours_from",
            "contact_hours_to",
            "contact_days",
            "created_at",
            "created_by",
            "updated_at",
            "updated_by",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"allow_null": True, "help_text": "Null until the plan is first written."},
            "episode": {"allow_null": True},
            "created_at": {"allow_null": True},
            "updated_at": {"allow_null": True},
        }

    def to_representation(self, plan):
        data = super().to_representation(plan)
        if plan._state.adding:  # not written yet: the empty plan, which belongs to no episode
            for name in ("id", "episode", "created_at", "created_by", "updated_at", "updated_by"):
                data[name] = None
        return data


class AftercarePlanWriteSerializer(serializers.Serializer):
    """Every field of the plan, each optional: a PUT resets the ones left out
    to their empty value, a PATCH keeps them."""

    outpatient_therapist = serializers.BooleanField(required=False)
    outpatient_therapist_details = serializers.CharField(required=False, allow_blank=True)
    mutual_help_meetings = serializers.BooleanField(required=False)
    mutual_help_meetings_details = serializers.CharField(required=False, allow_blank=True)
    medication_for_addiction_treatment = serializers.BooleanField(required=False)
    medication_for_addiction_treatment_details = serializers.CharField(
        required=False, allow_blank=True
    )
    sober_living = serializers.BooleanField(required=False)
    sober_living_details = serializers.CharField(required=False, allow_blank=True)
    other_supports = serializers.CharField(required=False, allow_blank=True)
    relapse_prevention_notes = serializers.CharField(required=False, allow_blank=True)
    emergency_contact_name = serializers.CharField(required=False, allow_blank=True, max_length=160)
    emergency_contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    emergency_contact_relationship = serializers.CharField(
        required=False, allow_blank=True, max_length=80
    )
    consent_to_contact = serializers.BooleanField(
        required=False, help_text="Unknown counts as no; false withdraws every channel."
    )
    consent_phone = serializers.BooleanField(required=False)
    consent_sms = serializers.BooleanField(required=False)
    consent_email = serializers.BooleanField(required=False)
    contact_hours_from = serializers.TimeField(
        required=False, allow_null=True, help_text="In the responsible site's time zone."
    )
    contact_hours_to = serializers.TimeField(
        required=False, allow_null=True, help_text="After `contact_hours_from`; both or neither."
    )
    contact_days = contact_days_field(required=False)
