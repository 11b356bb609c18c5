"""Serializer fields that the API's records share."""

from rest_framework import serializers


class EmptyAsNullChoiceField(serializers.ChoiceField):
    """A choice that a record leaves empty ("") until it is made, sent as null.

    The schema then says what a client receives: one of the enum, or null. An empty
    string would be outside the enum, and a generated client refuses the record.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)
