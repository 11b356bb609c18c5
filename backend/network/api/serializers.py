from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.network.models import LevelOfCare, Program, Site


class LevelOfCareSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="code", read_only=True, help_text="The stable level code.")

    class Meta:
        model = LevelOfCare
        fields = [
            "id",
            "code",
            "name",
            "position",
            "intensity",
            "asam_reference",
            "capacity_unit",
            "description",
        ]


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = [
            "id",
            "code",
            "name",
            "time_zone",
            "address_line",
            "city",
            "region",
            "postal_code",
            "phone",
        ]


class ProgramSerializer(serializers.ModelSerializer):
    level = serializers.CharField(source="level_id", read_only=True, help_text="Level code.")
    site_name = serializers.CharField(source="site.name", read_only=True)
    capacity_unit = serializers.CharField(source="level.capacity_unit", read_only=True)
    occupied = serializers.IntegerField(read_only=True, help_text="Open placements.")
    reserved = serializers.IntegerField(
        read_only=True, help_text="Approved transfers into the program, not yet arrived."
    )
    available = serializers.IntegerField(
        read_only=True, help_text="capacity - occupied - reserved (negative after an override)."
    )
    occupancy_percent = serializers.SerializerMethodField()

    class Meta:
        model = Program
        fields = [
            "id",
            "name",
            "site",
            "site_name",
            "level",
            "capacity_unit",
            "capacity",
            "occupied",
            "reserved",
            "available",
            "occupancy_percent",
            "is_active",
        ]

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_occupancy_percent(self, program) -> float | None:
        if not program.capacity:
            return None
        return round(100 * program.occupied / program.capacity, 1)
