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


def nested_serializer(parent: serializers.BaseSerializer, serializer_class, **context):
    """One `serializer_class` instance per (parent serializer, context), for a
    SerializerMethodField that renders a nested record.

    Building a serializer binds its fields, which costs more than rendering one
    row; a list shares its child serializer between rows, so a nested record
    built this way binds its fields once per page instead of once per row.
    Render with `.to_representation(record)`.
    """
    cache = parent.__dict__.setdefault("_nested_serializers", {})
    key = (serializer_class, tuple(sorted(context.items())))
    serializer = cache.get(key)
    if serializer is None:
        serializer = cache[key] = serializer_class(context=context)
    return serializer
