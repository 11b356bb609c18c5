"""Input serializers validate shape and types; output serializers render.
Neither holds a business rule: that is services/' job."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.api.fields import nested_serializer
from backend.care.models import (
    Client,
    DischargeType,
    Episode,
    Placement,
    ReferralSource,
    Transfer,
    TransferDirection,
    TransferEvent,
)
from backend.network.models import Program, Site
from services.access import clients_visible_to


class VisibleClientField(serializers.PrimaryKeyRelatedField):
    """A client id in a request body; a client the caller cannot see is "not found"."""

    default_error_messages = {"does_not_exist": "Client not found."}

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        return clients_visible_to(self.context["request"].user)


def program_field(**kwargs) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=Program.objects.select_related("site", "level"),
        pk_field=serializers.UUIDField(),
        error_messages={"does_not_exist": "Program not found."},
        **kwargs,
    )


# --- clients -------------------------------------------------------------


class CurrentPlacementSerializer(serializers.ModelSerializer):
    site = serializers.UUIDField(source="program.site_id", read_only=True)
    level = serializers.CharField(source="program.level_id", read_only=True)

    class Meta:
        model = Placement
        fields = ["id", "episode", "program", "site", "level", "started_at"]


class ClientSerializer(serializers.ModelSerializer):
    current_placement = serializers.SerializerMethodField(
        help_text="The open placement, or null when the client is not in care."
    )

    class Meta:
        model = Client
        fields = [
            "id",
            "mrn",
            "first_name",
            "last_name",
            "preferred_name",
            "date_of_birth",
            "phone",
            "email",
            "address",
            "registered_site",
            "current_placement",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(CurrentPlacementSerializer(allow_null=True))
    def get_current_placement(self, client):
        # Filled by a Prefetch in the view: no query per client.
        current = getattr(client, "open_placements", None)
        if not current:
            return None
        return nested_serializer(self, CurrentPlacementSerializer).to_representation(current[0])


class ClientCreateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=80)
    last_name = serializers.CharField(max_length=80)
    date_of_birth = serializers.DateField()
    registered_site = serializers.PrimaryKeyRelatedField(
        queryset=Site.objects.all(),
        pk_field=serializers.UUIDField(),
        required=False,
        help_text="The registering site; may be left out by staff of a single site.",
    )
    mrn = serializers.CharField(
        max_length=20, required=False, help_text="Generated when left out; unique."
    )
    preferred_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)


class ClientUpdateSerializer(serializers.Serializer):
    mrn = serializers.CharField(max_length=20)
    first_name = serializers.CharField(max_length=80)
    last_name = serializers.CharField(max_length=80)
    preferred_name = serializers.CharField(max_length=80, allow_blank=True)
    date_of_birth = serializers.DateField()
    phone = serializers.CharField(max_length=40, allow_blank=True)
    email = serializers.EmailField(max_length=254, allow_blank=True)
    address = serializers.CharField(allow_blank=True)


# --- episodes --------------------------------------------------------------


class EpisodeSerializer(serializers.ModelSerializer):
    admitted_by = serializers.CharField(source="admitted_by.username", read_only=True)
    discharged_by = serializers.CharField(
        source="discharged_by.username", read_only=True, allow_null=True
    )
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Episode
        fields = [
            "id",
            "client",
            "is_open",
            "admitted_at",
            "admitted_by",
            "referral_source",
            "discharged_at",
            "discharged_by",
            "discharge_type",
            "discharge_notes",
        ]


class AdmitSerializer(serializers.Serializer):
    client = VisibleClientField()
    program = program_field()
    admitted_at = serializers.DateTimeField(required=False, help_text="Default: now.")
    referral_source = serializers.ChoiceField(
        choices=ReferralSource.choices, required=False, allow_blank=True
    )
    capacity_override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Site managers only: admit beyond capacity, for this recorded reason.",
    )


class DischargeSerializer(serializers.Serializer):
    discharge_type = serializers.ChoiceField(choices=DischargeType.choices)
    discharged_at = serializers.DateTimeField(required=False, help_text="Default: now.")
    notes = serializers.CharField(required=False, allow_blank=True)


# --- placements ------------------------------------------------------------


class PlacementSerializer(serializers.ModelSerializer):
    site = serializers.UUIDField(source="program.site_id", read_only=True)
    site_name = serializers.CharField(source="program.site.name", read_only=True)
    level = serializers.CharField(source="program.level_id", read_only=True)
    program_name = serializers.CharField(source="program.name", read_only=True)

    class Meta:
        model = Placement
        fields = [
            "id",
            "client",
            "episode",
            "program",
            "program_name",
            "site",
            "site_name",
            "level",
            "started_at",
            "ended_at",
        ]


# --- transfers -------------------------------------------------------------


class TransferEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True)

    class Meta:
        model = TransferEvent
        fields = ["id", "from_status", "to_status", "actor", "at", "reason"]


class TransferSerializer(serializers.ModelSerializer):
    from_site = serializers.UUIDField(source="from_program.site_id", read_only=True)
    from_level = serializers.CharField(source="from_program.level_id", read_only=True)
    to_site = serializers.UUIDField(source="to_program.site_id", read_only=True)
    to_level = serializers.CharField(source="to_program.level_id", read_only=True)
    direction = serializers.ChoiceField(
        choices=TransferDirection.choices,
        read_only=True,
        help_text="Derived from the two programs' levels and sites.",
    )
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    events = TransferEventSerializer(many=True, read_only=True)
    handoff = serializers.SerializerMethodField(
        help_text="The hand-off opened at approval, or null before it."
    )

    class Meta:
        model = Transfer
        fields = [
            "id",
            "client",
            "episode",
            "status",
            "direction",
            "from_placement",
            "from_program",
            "from_site",
            "from_level",
            "to_program",
            "to_site",
            "to_level",
            "to_placement",
            "planned_for",
            "reason",
            "handoff_notes",
            "requested_at",
            "requested_by",
            "updated_at",
            "capacity_override_reason",
            "handoff",
            "events",
        ]

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_handoff(self, transfer):
        # select_related("handoff") in the view: no query per transfer.
        handoff = getattr(transfer, "handoff", None)
        return handoff.pk if handoff is not None else None


class TransferRequestSerializer(serializers.Serializer):
    client = VisibleClientField()
    to_program = program_field()
    planned_for = serializers.DateField(required=False, help_text="Planned move date (site-local).")
    reason = serializers.CharField(required=False, allow_blank=True)
    handoff_notes = serializers.CharField(
        required=False, allow_blank=True, help_text="Clinical notes for the receiving team."
    )


class TransferApproveSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True)
    capacity_override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Site managers of the receiving site only: approve beyond capacity.",
    )


class TransferReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Required: why.")


class TransferCompleteSerializer(serializers.Serializer):
    arrived_at = serializers.DateTimeField(required=False, help_text="Default: now.")
    reason = serializers.CharField(required=False, allow_blank=True)
    handoff_override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Required while mandatory hand-off items are open; recorded on the hand-off.",
    )


# --- journey ---------------------------------------------------------------


class JourneyTransferSerializer(serializers.ModelSerializer):
    direction = serializers.ChoiceField(choices=TransferDirection.choices, read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "status",
            "direction",
            "from_placement",
            "from_program",
            "to_program",
            "to_placement",
            "planned_for",
            "requested_at",
            "updated_at",
        ]


class JourneySerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The client's id: a journey is one per client.")
    client = serializers.UUIDField()
    episodes = EpisodeSerializer(many=True)
    placements = PlacementSerializer(many=True)
    transfers = JourneyTransferSerializer(many=True)
