from rest_framework import serializers

from backend.handoffs.models import Handoff, HandoffItem


class HandoffItemSerializer(serializers.ModelSerializer):
    completed_by = serializers.CharField(
        source="completed_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = HandoffItem
        fields = ["id", "position", "label", "mandatory", "completed_at", "completed_by", "note"]


class HandoffSerializer(serializers.ModelSerializer):
    client = serializers.UUIDField(source="transfer.client_id", read_only=True)
    from_program = serializers.UUIDField(source="transfer.from_program_id", read_only=True)
    to_program = serializers.UUIDField(source="transfer.to_program_id", read_only=True)
    planned_for = serializers.DateField(
        source="transfer.planned_for",
        read_only=True,
        allow_null=True,
        help_text="The transfer's planned date, or null when it was requested without one.",
    )
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", read_only=True, allow_null=True
    )
    closed_by = serializers.CharField(source="closed_by.username", read_only=True, allow_null=True)
    items = HandoffItemSerializer(many=True, read_only=True)

    class Meta:
        model = Handoff
        fields = [
            "id",
            "transfer",
            "client",
            "status",
            "sending_site",
            "receiving_site",
            "from_program",
            "to_program",
            "planned_for",
            "clinical_notes",
            "created_at",
            "acknowledge_due_at",
            "acknowledged_at",
            "acknowledged_by",
            "escalation_level",
            "closed_at",
            "closed_by",
            "override_reason",
            "items",
        ]


class HandoffItemCompleteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)
